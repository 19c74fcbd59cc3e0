"""Ingestion end to end over HTTP: formats, encodings, profiles, progress and clear failures."""

import io
import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from apps.datasets import selectors
from apps.datasets.ingestion import _Progress
from apps.datasets.models import DatasetVersion, IngestionJob
from apps.datasets.tests.conftest import CSV

PROFILE_KEYS = {
    "name",
    "dtype",
    "role",
    "missing_count",
    "unique_count",
    "min",
    "max",
    "mean",
    "std",
    "top_values",
}


def _columns(uploader, dataset_id: int) -> dict[str, dict]:
    body = uploader.client.get(f"/api/datasets/{dataset_id}").json()
    return {column["name"]: column for column in body["columns_metadata"]}


def test_csv_is_profiled_and_written_as_parquet(uploader):
    confirmed = uploader.upload("people.csv", CSV, problem_type="regression", target_column="income")
    assert confirmed["status"] == "pending" and confirmed["version_number"] == 1
    assert confirmed["estimated_duration_seconds"] > 0
    job = uploader.job(confirmed["job_id"])
    assert job["status"] == "completed", job
    assert job["progress_percentage"] == 100 and job["error_message"] is None
    assert job["started_at"] and job["completed_at"]
    assert job["dataset_id"] == confirmed["dataset_id"]
    assert job["dataset_version_id"] == confirmed["dataset_version_id"]

    dataset = uploader.client.get(f"/api/datasets/{confirmed['dataset_id']}").json()
    assert dataset["row_count"] == 4 and dataset["column_count"] == 7
    assert dataset["current_version_id"] == confirmed["dataset_version_id"]
    assert dataset["status"] == "completed" and dataset["file_size_bytes"] > 0
    columns = {c["name"]: c for c in dataset["columns_metadata"]}
    assert all(set(c) == PROFILE_KEYS for c in columns.values())
    names = ["id", "age", "income", "city", "comment", "joined", "member"]
    assert [c["name"] for c in dataset["columns_metadata"]] == names
    assert columns["id"]["role"] == "id"
    assert columns["age"] | {"top_values": None} == {
        "name": "age",
        "dtype": "float64",  # an integer column with a gap reads back as float64 in pandas
        "role": "numeric",
        "missing_count": 1,
        "unique_count": 3,
        "min": 28,
        "max": 45,
        "mean": pytest.approx(35.6667, abs=1e-3),
        "std": pytest.approx(8.6217, abs=1e-3),
        "top_values": None,
    }
    assert columns["income"]["missing_count"] == 1 and columns["income"]["max"] == 61000
    assert columns["city"]["role"] == "categorical" and columns["city"]["min"] is None
    assert columns["city"]["top_values"][0] == {"value": "Paris", "count": 2}
    assert columns["comment"]["role"] == "text"
    assert columns["joined"]["role"] == "datetime" and columns["joined"]["top_values"][0]["value"] == "2024-01-05"
    assert columns["member"]["role"] == "boolean" and columns["member"]["dtype"] == "bool"

    version = DatasetVersion.objects.get(pk=confirmed["dataset_version_id"])
    frame = selectors.dataset_version_dataframe(version=version)
    assert list(frame.columns) == list(columns) and len(frame) == 4
    assert selectors.dataset_version_local_path(version=version).suffix == ".parquet"


def test_top_values_are_capped_at_ten(uploader):
    body = b"code\n" + b"".join(f"c{i % 12}\n".encode() * (i + 1) for i in range(12))
    confirmed = uploader.upload("codes.csv", body)
    top = _columns(uploader, confirmed["dataset_id"])["code"]["top_values"]
    assert len(top) == 10 and top[0] == {"value": "c11", "count": 12}


@pytest.mark.parametrize(
    ("filename", "body"),
    [
        ("semi.csv", b"a;b\n1;x\n2;y\n"),
        ("tabs.tsv", b"a\tb\n1\tx\n2\ty\n"),
        ("pipes.txt", b"a|b\n1|x\n2|y\n"),
        ("bom.csv", b"\xef\xbb\xbfa,b\n1,x\n2,y\n"),
        ("quoted.csv", b'a,b\n1,"line one\nline two"\n2,y\n'),
        ("rows.jsonl", b'{"a": 1, "b": "x"}\n{"a": 2, "b": "y"}\n'),
        ("rows.ndjson", b'{"a": 1, "b": "x"}\n{"a": 2, "b": "y"}\n'),
        ("rows.json", b'[{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]'),
    ],
)
def test_text_formats_are_read(uploader, filename, body):
    confirmed = uploader.upload(filename, body)
    job = uploader.job(confirmed["job_id"])
    assert job["status"] == "completed", job
    columns = _columns(uploader, confirmed["dataset_id"])
    assert list(columns) == ["a", "b"]
    assert columns["a"]["role"] == "numeric" and columns["a"]["max"] == 2
    assert columns["b"]["unique_count"] == 2


def test_parquet_and_excel_are_read(uploader):
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", None]})
    parquet = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), parquet)
    excel = io.BytesIO()
    frame.to_excel(excel, index=False)
    for filename, body in (("t.parquet", parquet.getvalue()), ("t.xlsx", excel.getvalue())):
        confirmed = uploader.upload(filename, body)
        assert uploader.job(confirmed["job_id"])["status"] == "completed", filename
        columns = _columns(uploader, confirmed["dataset_id"])
        assert columns["a"]["max"] == 3 and columns["b"]["missing_count"] == 1, filename


def test_windows_1252_text_is_decoded(uploader):
    body = "name,city\nJosé,Zürich\nRenée,Besançon\n".encode("cp1252")
    confirmed = uploader.upload("latin.csv", body)
    assert uploader.job(confirmed["job_id"])["status"] == "completed"
    values = [v["value"] for v in _columns(uploader, confirmed["dataset_id"])["city"]["top_values"]]
    assert sorted(values) == ["Besançon", "Zürich"]


def test_utf16_with_a_bom_is_decoded(uploader):
    body = "a,b\n1,é\n2,ü\n".encode("utf-16")
    confirmed = uploader.upload("wide.csv", body)
    assert uploader.job(confirmed["job_id"])["status"] == "completed", uploader.job(confirmed["job_id"])
    assert _columns(uploader, confirmed["dataset_id"])["a"]["max"] == 2


def test_nested_json_is_flattened_and_names_made_unique(uploader):
    rows = [{"a": {"x": 1, "y": [1, 2]}, "": 3}, {"a": {"x": 2, "y": []}, "": 4}]
    confirmed = uploader.upload("nested.json", json.dumps(rows).encode())
    assert uploader.job(confirmed["job_id"])["status"] == "completed"
    names = list(_columns(uploader, confirmed["dataset_id"]))
    assert {"a.x", "a.y"} <= set(names) and len(names) == 3
    assert [n for n in names if n.startswith("column_")]  # the blank header got a name


def test_duplicate_csv_headers_get_unique_names(uploader):
    confirmed = uploader.upload("dup.csv", b"a,a,b\n1,2,3\n")
    assert list(_columns(uploader, confirmed["dataset_id"])) == ["a", "a.1", "b"]


@pytest.mark.parametrize(
    ("filename", "body", "message"),
    [
        ("ragged.csv", b"a,b\n1,2\n3,4,5\n", "Expected 2 columns, got 3"),
        ("header.csv", b"a,b\n", "no data rows"),
        ("blank.csv", b"\n\n\n", "no header row"),
        ("binary.csv", bytes(range(256)) * 40, "binary"),
        ("garbage.csv", b"a,b\n1,\x81\x8d\x8f\x90\x9d\xff\xfe\n", "neither UTF-8 nor Windows-1252"),
        ("broken.json", b'[{"a": 1}, {"a": ', "Could not parse the file as JSON"),
        ("scalars.json", b"[1, 2, 3]", "one object per row"),
        ("broken.jsonl", b'{"a": 1}\n{"a": \n', "JSON lines"),
        ("latin.jsonl", '{"a": "é"}\n'.encode("cp1252"), "JSON must be UTF-8"),
        ("fake.parquet", b"PAR1 this is not parquet at all", "Not a valid Parquet file"),
        ("fake.xlsx", b"PK\x03\x04 not a workbook", "Not a valid .xlsx workbook"),
    ],
)
def test_bad_files_fail_with_a_clear_message(uploader, filename, body, message):
    confirmed = uploader.upload(filename, body)
    job = uploader.job(confirmed["job_id"])
    assert job["status"] == "failed", job
    assert message in job["error_message"], job["error_message"]
    assert job["completed_at"] is not None
    dataset = uploader.client.get(f"/api/datasets/{confirmed['dataset_id']}").json()
    assert dataset["status"] == "failed" and dataset["current_version_id"] is None
    assert dataset["versions"][0]["error_message"] == job["error_message"]
    assert not DatasetVersion.objects.get(pk=confirmed["dataset_version_id"]).parquet_key


def test_progress_rises_through_the_stages(uploader, monkeypatch):
    """Every progress write is recorded: it only rises, passes the stage marks, ends at 100."""
    seen: list[int] = []
    original = _Progress.set

    def record(self, value, *, force=False):
        before = self.value
        original(self, value, force=force)
        if self.value != before:
            seen.append(IngestionJob.objects.get(pk=self.job_id).progress_percentage)

    monkeypatch.setattr("apps.datasets.ingestion._PROGRESS_INTERVAL_SECONDS", 0)
    monkeypatch.setattr("apps.datasets.ingest.readers._SCAN_CHUNK", 1024)  # several chunks to scan
    monkeypatch.setattr(_Progress, "set", record)
    # Windows-1252 in the header: the encoding is found by the full scan, chunk by chunk.
    body = b"a\xe9,b,c\n" + b"1,x,2.5\n" * 2000
    confirmed = uploader.upload("rows.csv", body)
    assert uploader.job(confirmed["job_id"])["progress_percentage"] == 100
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    assert 30 in seen and 60 in seen and 90 in seen and 95 in seen
    assert any(5 < p < 30 for p in seen) and any(60 < p < 90 for p in seen)


def test_a_job_runs_once(uploader):
    from apps.datasets.tasks import ingest_dataset_version

    confirmed = uploader.upload("people.csv", CSV)
    assert ingest_dataset_version(confirmed["job_id"]) is None  # already completed: nothing to do
    assert uploader.job(confirmed["job_id"])["status"] == "completed"


def test_reaper_fails_stuck_jobs_and_requeues_lost_ones(uploader, user, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from apps.datasets.ingestion import ingestion_reap

    answer = uploader.upload_url("people.csv", len(CSV)).json()
    uploader.put(answer["upload_url"], CSV)
    # Confirm without running the task: as if the worker lost it.
    confirmed = uploader.client.post(
        "/api/datasets/confirm", {"upload_id": answer["upload_id"], "dataset_name": "lost"}, format="json"
    ).json()
    job = IngestionJob.objects.get(pk=confirmed["job_id"])
    assert job.status == "pending"
    IngestionJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    result = ingestion_reap()
    assert result["requeued"] == [str(job.pk)]
    job.refresh_from_db()
    assert job.status == "completed"

    IngestionJob.objects.filter(pk=job.pk).update(status="processing", started_at=timezone.now() - timedelta(days=1))
    assert ingestion_reap()["failed"] == [str(job.pk)]
    job.refresh_from_db()
    assert job.status == "failed" and "did not finish in time" in job.error_message


def test_a_nul_past_the_head_is_kept_out_of_the_profile(uploader):
    """PostgreSQL's jsonb refuses NUL characters: profile values never carry one."""
    body = b"a,b\n" + b"1,x\n" * 20000 + b"2,y\x00z\n"
    confirmed = uploader.upload("late_nul.csv", body)
    assert uploader.job(confirmed["job_id"])["status"] == "completed"
    values = [v["value"] for v in _columns(uploader, confirmed["dataset_id"])["b"]["top_values"]]
    assert "yz" in values and not any("\x00" in v for v in values)
