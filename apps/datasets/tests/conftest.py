"""Fixtures of the datasets tests: storage under tmp_path and an upload-confirm-ingest helper."""

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Dataset files go to the test's temporary folder; no bucket."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.AWS_STORAGE_BUCKET_NAME = ""


@pytest.fixture
def dataset_files(settings) -> Path:
    """The folder the embedded storage keeps dataset files in."""
    return Path(settings.MEDIA_ROOT) / "datasets"


class Uploader:
    """Drives the documented flow over HTTP: upload-url, the signed PUT, confirm (ingestion runs
    eagerly when the confirm transaction commits)."""

    def __init__(self, client, capture) -> None:
        self.client = client
        self.capture = capture

    def upload_url(self, filename: str, size: int):
        return self.client.post("/api/datasets/upload-url", {"filename": filename, "size_bytes": size}, format="json")

    def put(self, url: str, body: bytes, content_type: str = "application/octet-stream"):
        from rest_framework.test import APIClient

        # A fresh client without the bearer token: the signature is the only credential.
        return APIClient().put(url, data=body, content_type=content_type)

    def confirm(self, upload_id: str, **fields):
        body = {"upload_id": str(upload_id), "dataset_name": "data", **fields}
        with self.capture(execute=True):
            return self.client.post("/api/datasets/confirm", body, format="json")

    def upload(self, filename: str, body: bytes, **fields) -> dict:
        """The whole flow; returns confirm's answer (the job ran already)."""
        answer = self.upload_url(filename, len(body))
        assert answer.status_code == 200, answer.content
        put = self.put(answer.json()["upload_url"], body)
        assert put.status_code == 200, put.content
        confirmed = self.confirm(answer.json()["upload_id"], **fields)
        assert confirmed.status_code == 200, confirmed.content
        return confirmed.json()

    def job(self, job_id: str) -> dict:
        return self.client.get(f"/api/datasets/jobs/{job_id}").json()


@pytest.fixture
def uploader(user_client, django_capture_on_commit_callbacks) -> Uploader:
    return Uploader(user_client, django_capture_on_commit_callbacks)


@pytest.fixture
def other_uploader(other_client, django_capture_on_commit_callbacks) -> Uploader:
    return Uploader(other_client, django_capture_on_commit_callbacks)


CSV = (
    b"id,age,income,city,comment,joined,member\n"
    b"1,34,52000.5,Paris,Likes the product a lot and says so,2024-01-05,true\n"
    b"2,28,,Lyon,Would buy again next year for the family,2024-02-11,false\n"
    b"3,45,61000,Paris,Too expensive for what it does in practice,2024-03-02,true\n"
    b"4,,48000,Nice,Support answered within the hour each time,2024-03-28,true\n"
)
