"""Read an uploaded file into an Arrow table: CSV, TSV, text, JSON lines or arrays, Parquet, Excel.

Text files get their encoding detected first, in one pass over the bytes that also reports
progress: UTF-8 (with or without a BOM), UTF-16 with a BOM, then Windows-1252 (which covers
printable Latin-1). NUL bytes without a UTF-16 BOM mean a binary file, and bytes no candidate
decodes fail with a message that says to save the file as UTF-8. CSV goes through pyarrow's
multithreaded reader, which infers each column's type over the whole file.
"""

import codecs
import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from apps.datasets.ingest import IngestionError

TEXT_EXTENSIONS = {"csv", "tsv", "txt"}
JSON_EXTENSIONS = {"json", "jsonl", "ndjson"}
SUPPORTED_EXTENSIONS = TEXT_EXTENSIONS | JSON_EXTENSIONS | {"parquet", "xlsx"}
_SCAN_CHUNK = 4 * 1024**2
_DELIMITERS = (",", "\t", ";", "|")
# Progress callback: fraction (0-1) of the current stage done.
Progress = Callable[[float], None]


def extension_of(filename: str) -> str:
    """The lower-case extension of ``filename`` without the dot ("" when none)."""
    suffix = Path(filename).suffix.lower()
    return suffix[1:] if suffix else ""


class NotUtf8(IngestionError):
    """The parser met bytes that are not UTF-8 past the sniffed head: scan the whole file."""


def sniff_encoding(path: Path) -> str | None:
    """The encoding the first 64 KB show (BOMs, else UTF-8 when they decode), or None when they are
    not UTF-8 and the whole file must be scanned. NUL bytes there mean a binary file."""
    with path.open("rb") as handle:
        head = handle.read(64 * 1024)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        raise IngestionError(
            "The file looks binary (it contains NUL bytes), not text; upload CSV, JSON, Parquet or Excel"
        )
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return None
    return "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"


def detect_encoding(path: Path, on_progress: Progress | None = None) -> str:
    """The text encoding of ``path`` (see the module docstring); raises ``IngestionError``."""
    size = max(path.stat().st_size, 1)
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    candidates = ["utf-8", "cp1252"]
    decoders = {name: codecs.getincrementaldecoder(name)() for name in candidates}
    done = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_SCAN_CHUNK):
            if b"\x00" in chunk:
                raise IngestionError(
                    "The file looks binary (it contains NUL bytes), not text; upload CSV, JSON, Parquet or Excel"
                )
            for name in list(candidates):
                try:
                    decoders[name].decode(chunk)
                except UnicodeDecodeError:
                    candidates.remove(name)
            if not candidates:
                raise IngestionError(
                    "Could not decode the file: it is neither UTF-8 nor Windows-1252/Latin-1 text. "
                    "Save it as UTF-8 and upload it again"
                )
            done += len(chunk)
            if on_progress:
                on_progress(done / size)
    for name in list(candidates):
        try:
            decoders[name].decode(b"", final=True)
        except UnicodeDecodeError:
            candidates.remove(name)
    if not candidates:
        raise IngestionError("Could not decode the file: it ends in the middle of a character. Save it as UTF-8")
    if candidates[0] == "utf-8":
        return "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    return candidates[0]


def _sniff_delimiter(path: Path, encoding: str, default: str) -> str:
    with path.open("r", encoding=encoding, errors="replace", newline="") as handle:
        header = handle.readline()
    counts = {delimiter: header.count(delimiter) for delimiter in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else default


def read_delimited(path: Path, *, extension: str, encoding: str) -> pa.Table:
    """Read CSV/TSV/text with pyarrow; quoted newlines are retried for, malformed rows reported."""
    default = "\t" if extension == "tsv" else ","
    delimiter = "\t" if extension == "tsv" else _sniff_delimiter(path, encoding, default)
    # pyarrow strips a UTF-8 BOM itself and transcodes other encodings through Python's codecs.
    arrow_encoding = "utf8" if encoding in ("utf-8", "utf-8-sig") else encoding
    read_options = pacsv.ReadOptions(encoding=arrow_encoding, block_size=8 * 1024**2)
    convert = pacsv.ConvertOptions(strings_can_be_null=True)
    try:
        return pacsv.read_csv(
            path,
            read_options=read_options,
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=convert,
        )
    except pa.ArrowInvalid as exc:
        first_error = exc
    if arrow_encoding == "utf8" and "utf8" in str(first_error).lower().replace("-", ""):
        raise NotUtf8(str(first_error))
    if "Empty CSV file" in str(first_error):
        raise IngestionError("The file is empty: it has no header row")
    try:
        # A value holding a quoted line break defeats the fast parallel split; retry allowing them.
        options = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True)
        return pacsv.read_csv(path, read_options=read_options, parse_options=options, convert_options=convert)
    except pa.ArrowInvalid:
        raise IngestionError(f"Could not parse the file as delimited text: {first_error}") from None


def read_json(path: Path) -> pa.Table:
    """JSON lines (one object per line) or a JSON array of objects."""
    with path.open("rb") as handle:
        start = handle.read(64).lstrip()
    if start.startswith(codecs.BOM_UTF8):
        start = start[len(codecs.BOM_UTF8) :].lstrip()
    if not start:
        raise IngestionError("The file is empty")
    if start.startswith(b"["):
        return _read_json_array(path)
    try:
        return pajson.read_json(path, read_options=pajson.ReadOptions(block_size=8 * 1024**2))
    except pa.ArrowInvalid as exc:
        raise IngestionError(f"Could not parse the file as JSON lines (one object per line): {exc}") from None


def _read_json_array(path: Path) -> pa.Table:
    try:
        records = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise IngestionError(f"Could not parse the file as JSON: {exc}") from None
    if not isinstance(records, list) or not all(isinstance(record, dict) for record in records):
        raise IngestionError("A JSON array must hold one object per row")
    try:
        return pa.Table.from_pylist(records)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise IngestionError(f"The JSON rows do not share column types: {exc}") from None


def read_parquet(path: Path) -> pa.Table:
    """A Parquet file as is."""
    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise IngestionError(f"Not a valid Parquet file: {exc}") from None


def read_excel(path: Path) -> pa.Table:
    """The first sheet of an .xlsx workbook (openpyxl); mixed-type columns become text."""
    import pandas as pd

    try:
        frame = pd.read_excel(path, sheet_name=0, engine="openpyxl")
    except Exception as exc:  # openpyxl raises zipfile, KeyError or its own errors for non-workbooks
        raise IngestionError(f"Not a valid .xlsx workbook: {exc}") from None
    for name in frame.select_dtypes(include="object").columns:
        try:
            pa.array(frame[name], from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            frame[name] = frame[name].map(lambda value: None if pd.isna(value) else str(value))
    frame.columns = [str(name) for name in frame.columns]
    return pa.Table.from_pandas(frame, preserve_index=False)


def normalize(table: pa.Table) -> pa.Table:
    """Flatten nested objects, turn lists into JSON text, and make column names unique and non-empty."""
    while any(pa.types.is_struct(field.type) for field in table.schema):
        table = table.flatten()
    columns, names, seen = [], [], set()
    for index, field in enumerate(table.schema):
        column = table.column(index)
        if pa.types.is_list(field.type) or pa.types.is_large_list(field.type) or pa.types.is_map(field.type):
            column = pa.array([None if v is None else json.dumps(v, default=str) for v in column.to_pylist()])
        name = str(field.name).strip() or f"column_{index + 1}"
        unique, n = name, 1
        while unique in seen:
            unique, n = f"{name}.{n}", n + 1
        seen.add(unique)
        names.append(unique)
        columns.append(column)
    return pa.table(columns, names=names)
