"""Column profiles: 003's ``columns_metadata``, one JSON-safe dict per column.

``{"name", "dtype", "role", "missing_count", "unique_count", "min", "max", "mean", "std",
"top_values": [{"value", "count"}, ...]}``; ``role`` is one of numeric, categorical, text,
datetime, id, boolean; min/max/mean/std are null for non-numeric columns.
"""

import datetime
import decimal
import math
import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

TOP_VALUES = 10
_TOP_VALUE_CHARS = 200
# "id", "user_id", "ID", "order-key", "userId"; not "paid" or "valid".
_ID_NAME = re.compile(r"(?i:(^|[_\s.-])(id|uuid|guid|key)$|^id[_\s.-])|[a-z]Id$")
# A string column with at most this many distinct values (or this share of rows) is categorical.
_CATEGORICAL_MAX_UNIQUE = 50
_CATEGORICAL_MAX_RATIO = 0.5
_TEXT_MIN_MEAN_LENGTH = 30


def json_safe(value: Any) -> Any:
    """A value JSON can hold: non-finite floats become None, dates ISO strings, long text clipped."""
    if value is None or isinstance(value, bool | int | str):
        # PostgreSQL's jsonb refuses NUL characters, which a text value may hold.
        return value[:_TOP_VALUE_CHARS].replace("\x00", "") if isinstance(value, str) else value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, decimal.Decimal):
        return json_safe(float(value))
    if isinstance(value, datetime.date | datetime.time | datetime.datetime):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return json_safe(value[:_TOP_VALUE_CHARS].decode("utf-8", errors="replace"))
    return json_safe(str(value))


def _dtype(arrow_type: pa.DataType, has_nulls: bool) -> str:
    """The pandas dtype the column has in ``dataset_version_dataframe`` (ints with nulls are floats)."""
    if pa.types.is_integer(arrow_type) and has_nulls:
        return "float64"
    if pa.types.is_null(arrow_type) or pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "object"
    try:
        return np.dtype(arrow_type.to_pandas_dtype()).name
    except (NotImplementedError, TypeError):
        return "object"


def _is_numeric(arrow_type: pa.DataType) -> bool:
    return pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type)


def _is_datetime(arrow_type: pa.DataType) -> bool:
    return pa.types.is_temporal(arrow_type)


def _counts(column: pa.ChunkedArray) -> tuple[int, list[dict[str, Any]]]:
    """The number of distinct non-null values and the most frequent ones, from one counting pass.

    Numbers are counted by numpy's sort-based ``unique``, several times faster than a hash table
    on high-cardinality columns (ids, measurements); everything else by Arrow's ``value_counts``.
    """
    present = pc.drop_null(column)
    if len(present) == 0:
        return 0, []
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        values, counts = np.unique(present.to_numpy(), return_counts=True)
        k = min(TOP_VALUES, len(values))
        top = np.argpartition(-counts, k - 1)[:k]
        rows = [(values[i].item(), int(counts[i])) for i in top]
        unique = len(values)
    else:
        counted = pc.value_counts(present)
        table = pa.table({"value": counted.field("values"), "count": counted.field("counts")})
        top = pc.select_k_unstable(table, k=min(TOP_VALUES, table.num_rows), sort_keys=[("count", "descending")])
        rows = [(row["value"], int(row["count"])) for row in table.take(top).to_pylist()]
        unique = table.num_rows
    rows.sort(key=lambda row: (-row[1], str(row[0])))
    return unique, [{"value": json_safe(value), "count": count} for value, count in rows]


def _role(name: str, arrow_type: pa.DataType, column: pa.ChunkedArray, rows: int, missing: int, unique: int) -> str:
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if _is_datetime(arrow_type):
        return "datetime"
    all_unique = rows > 1 and missing == 0 and unique == rows
    if _is_numeric(arrow_type):
        return "id" if all_unique and pa.types.is_integer(arrow_type) and _ID_NAME.search(name) else "numeric"
    if not (pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)):
        return "categorical" if unique <= _CATEGORICAL_MAX_UNIQUE else "text"
    present = rows - missing
    ratio = unique / present if present else 0
    mean_length = pc.mean(pc.utf8_length(column)).as_py() or 0
    if mean_length >= _TEXT_MIN_MEAN_LENGTH and ratio > _CATEGORICAL_MAX_RATIO:
        return "text"  # long, mostly distinct strings: free text, however few rows there are
    if unique <= _CATEGORICAL_MAX_UNIQUE or ratio <= _CATEGORICAL_MAX_RATIO:
        return "categorical"
    if all_unique and (mean_length < _TEXT_MIN_MEAN_LENGTH or _ID_NAME.search(name)):
        return "id"
    return "text"


def profile_column(name: str, column: pa.ChunkedArray) -> dict[str, Any]:
    """The metadata dict of one column."""
    arrow_type = column.type
    rows = len(column)
    if pa.types.is_floating(arrow_type) and pc.any(pc.is_nan(column)).as_py():
        # NaN is a missing value to a data scientist (and to pandas); count it as such.
        column = pc.if_else(pc.is_nan(column), pa.scalar(None, arrow_type), column)
    missing = column.null_count
    unique, top_values = _counts(column)
    stats: dict[str, Any] = {"min": None, "max": None, "mean": None, "std": None}
    if _is_numeric(arrow_type) and rows > missing:
        extremes = pc.min_max(column)
        stats = {
            "min": json_safe(extremes["min"].as_py()),
            "max": json_safe(extremes["max"].as_py()),
            "mean": json_safe(pc.mean(column).as_py()),
            "std": json_safe(pc.stddev(column, ddof=1).as_py()) if rows - missing > 1 else None,
        }
    return {
        "name": name,
        "dtype": _dtype(arrow_type, missing > 0),
        "role": _role(name, arrow_type, column, rows, missing, unique),
        "missing_count": int(missing),
        "unique_count": int(unique),
        **stats,
        "top_values": top_values,
    }


def profile_table(table: pa.Table, on_progress: Callable[[float], None] | None = None) -> list[dict[str, Any]]:
    """``columns_metadata`` of every column, calling ``on_progress(fraction)`` after each."""
    # pyarrow's kernels release the GIL, so columns profile in parallel on every core; progress is
    # reported from this thread as each finishes.
    profiles: list[dict[str, Any]] = [{}] * table.num_columns
    with ThreadPoolExecutor(max_workers=min(table.num_columns, os.cpu_count() or 1) or 1) as pool:
        futures = {
            pool.submit(profile_column, name, table.column(index)): index
            for index, name in enumerate(table.column_names)
        }
        for done, future in enumerate(as_completed(futures), start=1):
            profiles[futures[future]] = future.result()
            if on_progress:
                on_progress(done / table.num_columns)
    return profiles
