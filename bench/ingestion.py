"""Dataset ingestion: Hangar's path from confirm to a profiled Parquet, against plain pandas.

What is measured, in one process on one ~100 MB CSV (mixed numeric, categorical, text, date and
id columns, generated in a temporary folder):

- **Hangar**: ``apps.datasets.services.dataset_confirm`` on an upload already in the embedded
  storage, through the ingestion task (run inline at commit): encoding scan, pyarrow CSV read,
  the full profile of every column (missing, unique, min/max/mean/std, top 10 values), Parquet
  written to storage and the version, job and activity rows updated. Timed from the confirm call
  until the job is ``completed``.
- **pandas**: ``pandas.read_csv(path)`` then ``DataFrame.to_parquet`` (pyarrow), no profile.

Each is run ``--runs`` times (alternating, page cache warm for both); the medians are compared.
Target: Hangar / pandas <= 1.5.

Usage: ``.venv/bin/python bench/ingestion.py [--size-mb 100] [--runs 3]``.
"""

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import common  # also makes the repository importable
from common import Report

NAME = "ingestion"
TARGET_RATIO = 1.5
_WORDS = [
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
    "mike",
    "november",
    "oscar",
    "papa",
    "quebec",
    "romeo",
    "sierra",
    "tango",
    "uniform",
    "victor",
    "whiskey",
    "xray",
    "yankee",
    "zulu",
]


def make_csv(path: Path, size_mb: int) -> int:
    """Write a CSV of about ``size_mb`` MB; returns its row count."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(42)
    rows_per_mb = 9_500  # about 110 bytes a row with these columns
    rows = size_mb * rows_per_mb
    words = np.array(_WORDS)
    cities = np.array([f"city_{i}" for i in range(200)])
    text = [" ".join(words[rng.integers(0, len(words), 6)]) for _ in range(5000)]
    table = pa.table(
        {
            "id": np.arange(rows),
            "age": rng.integers(18, 90, rows),
            "income": np.round(rng.normal(50000, 15000, rows), 2),
            "score": rng.random(rows),
            "city": cities[rng.integers(0, len(cities), rows)],
            "segment": np.array(["a", "b", "c", "d"])[rng.integers(0, 4, rows)],
            "comment": np.array(text)[rng.integers(0, len(text), rows)],
            "joined": (np.datetime64("2020-01-01") + rng.integers(0, 1500, rows).astype("timedelta64[D]")).astype(str),
            "churned": rng.integers(0, 2, rows).astype(bool),
        }
    )
    pacsv.write_csv(table, path)
    return rows


def run_pandas(path: Path, out: Path) -> float:
    import pandas as pd

    started = time.perf_counter()
    frame = pd.read_csv(path)
    frame.to_parquet(out, engine="pyarrow")
    elapsed = time.perf_counter() - started
    out.unlink()
    return elapsed


def run_hangar(path: Path, user, index: int) -> tuple[float, dict]:
    from django.utils import timezone

    from apps.datasets import services, storage
    from apps.datasets.models import IngestionJob, UploadIntent

    intent = UploadIntent(owner=user, filename="bench.csv", declared_size_bytes=path.stat().st_size)
    intent.expires_at = timezone.now() + timezone.timedelta(hours=1)
    intent.storage_key = storage.raw_key(user_id=user.pk, upload_id=str(intent.id), filename="bench.csv")
    target = Path(storage.dataset_storage().path(intent.storage_key))
    target.parent.mkdir(parents=True, exist_ok=True)
    os.link(path, target)  # "uploaded": the same bytes, without copying 100 MB
    intent.uploaded_at = timezone.now()
    intent.uploaded_size_bytes = path.stat().st_size
    intent.save()
    started = time.perf_counter()
    job = services.dataset_confirm(user=user, upload_id=str(intent.id), dataset_name=f"bench {index}")
    elapsed = time.perf_counter() - started
    job = IngestionJob.objects.select_related("dataset_version").get(pk=job.pk)
    if job.status != IngestionJob.Status.COMPLETED:
        raise RuntimeError(f"ingestion ended {job.status}: {job.error_message}")
    version = job.dataset_version
    return elapsed, {
        "rows": version.row_count,
        "columns": version.column_count,
        "roles": {c["name"]: c["role"] for c in version.columns_metadata},
        "parquet_bytes": version.file_size_bytes,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    workdir = common.short_temp_dir("hbing-")
    os.environ["MEDIA_ROOT"] = str(workdir / "media")
    os.environ["AWS_STORAGE_BUCKET_NAME"] = ""
    report = Report(NAME, f"Dataset ingestion, confirm to profiled Parquet ({args.size_mb} MB CSV)")
    try:
        common.django_setup(workdir / "runtime", workdir / "bench.sqlite3", migrate=True)
        from apps.accounts.models import User
        from config.celery import app as celery_app

        celery_app.conf.task_always_eager = True  # the ingestion task runs inline when confirm commits
        user = User.objects.create_user(username="bench", email="bench@example.com", password=None, tier="enterprise")
        csv_path = workdir / "bench.csv"
        rows = make_csv(csv_path, args.size_mb)
        size = csv_path.stat().st_size
        print(f"generated {size / 1024**2:.1f} MB, {rows} rows: {csv_path}")
        hangar_times, pandas_times, details = [], [], {}
        for index in range(args.runs):
            pandas_times.append(run_pandas(csv_path, workdir / "pandas.parquet"))
            elapsed, details = run_hangar(csv_path, user, index)
            hangar_times.append(elapsed)
            print(f"run {index + 1}: pandas {pandas_times[-1]:.2f} s, hangar {hangar_times[-1]:.2f} s")
        hangar, pandas_median = statistics.median(hangar_times), statistics.median(pandas_times)
        report.add("hangar confirm -> profiled parquet, median", hangar, "s")
        report.add("pandas read_csv + to_parquet, median", pandas_median, "s")
        report.add("ratio hangar / pandas", hangar / pandas_median, "x", TARGET_RATIO)
        report.add("hangar throughput", size / 1024**2 / hangar, "MB/s")
        report.notes.append("Hangar's figure includes the full column profile; the pandas baseline does none.")
        report.data = {
            "csv_bytes": size,
            "rows": rows,
            "hangar_seconds": hangar_times,
            "pandas_seconds": pandas_times,
            "result": details,
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report.print()
    report.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
