"""Signed uploads (embedded mode), their refusals, and the S3 presigned path at the client boundary."""

from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from django.utils import timezone
from freezegun import freeze_time

from apps.datasets.models import UploadIntent
from apps.datasets.tests.conftest import CSV


def test_upload_url_answers_a_signed_hangar_url(uploader, user):
    response = uploader.upload_url("people.csv", 1234)
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"upload_id", "upload_url", "expires_at", "max_size_bytes"}
    assert body["max_size_bytes"] == user.tier_limits["max_upload_bytes"]
    url = urlparse(body["upload_url"])
    assert url.path == f"/api/datasets/uploads/{body['upload_id']}"
    assert set(parse_qs(url.query)) == {"expires", "signature"}


def test_put_stores_the_file_streamed(uploader, dataset_files):
    answer = uploader.upload_url("people.csv", len(CSV)).json()
    response = uploader.put(answer["upload_url"], CSV)
    assert response.status_code == 200, response.content
    assert response.json()["size_bytes"] == len(CSV)
    stored = [p for p in dataset_files.rglob("*") if p.is_file()]
    assert len(stored) == 1 and stored[0].read_bytes() == CSV and stored[0].name == "people.csv"


def test_a_used_url_is_refused(uploader):
    answer = uploader.upload_url("people.csv", len(CSV)).json()
    assert uploader.put(answer["upload_url"], CSV).status_code == 200
    again = uploader.put(answer["upload_url"], CSV)
    assert again.status_code == 409
    assert again.json()["error_code"] == "UPLOAD_URL_INVALID"
    assert "already been used" in again.json()["detail"]


def test_a_tampered_url_is_403(uploader):
    answer = uploader.upload_url("people.csv", len(CSV)).json()
    url = urlparse(answer["upload_url"])
    query = parse_qs(url.query)
    later = int(query["expires"][0]) + 3600
    tampered = f"{url.path}?{urlencode({'expires': later, 'signature': query['signature'][0]})}"
    for bad in (tampered, f"{url.path}?expires={query['expires'][0]}&signature=00", url.path):
        response = uploader.put(bad, CSV)
        assert response.status_code == 403, bad
        assert response.json()["error_code"] == "UPLOAD_URL_INVALID"
    # Another upload's id with this signature is refused too.
    other = uploader.upload_url("other.csv", 10).json()
    swapped = answer["upload_url"].replace(answer["upload_id"], other["upload_id"])
    assert uploader.put(swapped, CSV).status_code == 403


def test_an_expired_url_is_410(uploader, settings):
    settings.DATASET_UPLOAD_URL_TTL_SECONDS = 60
    answer = uploader.upload_url("people.csv", len(CSV)).json()
    with freeze_time(timezone.now() + timezone.timedelta(seconds=61)):
        response = uploader.put(answer["upload_url"], CSV)
    assert response.status_code == 410
    assert response.json()["error_code"] == "UPLOAD_URL_INVALID"
    assert "expired" in response.json()["detail"]


def test_a_body_larger_than_declared_is_413_and_not_stored(uploader, dataset_files):
    answer = uploader.upload_url("people.csv", 10).json()
    response = uploader.put(answer["upload_url"], CSV)
    assert response.status_code == 413
    assert response.json()["error_code"] == "PAYLOAD_TOO_LARGE"
    assert not [p for p in dataset_files.rglob("*") if p.is_file()]
    # The URL was not spent: the right body may still be sent.
    assert uploader.put(answer["upload_url"], CSV[:10]).status_code == 200


def test_a_body_over_the_cap_without_content_length_is_413(uploader, dataset_files, user):
    """A chunked body (no Content-Length) is counted while streamed and cut at the cap."""
    import io

    from apps.core.errors import HangarError
    from apps.datasets import services

    answer = uploader.upload_url("people.csv", 10).json()
    query = parse_qs(urlparse(answer["upload_url"]).query)
    with pytest.raises(HangarError) as caught:
        services.upload_receive(
            upload_id=answer["upload_id"],
            expires=query["expires"][0],
            signature=query["signature"][0],
            body=io.BytesIO(b"x" * 5000),
            content_length=None,
        )
    assert caught.value.status_code == 413
    assert not [p for p in dataset_files.rglob("*") if p.is_file()]


def test_an_empty_body_is_400(uploader):
    answer = uploader.upload_url("people.csv", 10).json()
    response = uploader.put(answer["upload_url"], b"")
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_DATASET"


def test_the_upload_route_takes_bodies_over_the_json_cap(uploader, settings):
    """BodySizeLimitMiddleware caps other bodies at DATA_UPLOAD_MAX_MEMORY_SIZE; not this one."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = b"a,b\n" + b"1,2\n" * 1000
    answer = uploader.upload_url("big.csv", len(body)).json()
    assert uploader.put(answer["upload_url"], body).status_code == 200
    assert uploader.client.post("/api/datasets/confirm", {"x": "y" * 2000}, format="json").status_code == 413


def test_oversize_for_the_tier_is_413(uploader, user):
    response = uploader.upload_url("huge.csv", user.tier_limits["max_upload_bytes"] + 1)
    assert response.status_code == 413
    assert response.json()["error_code"] == "PAYLOAD_TOO_LARGE"


def test_quota_exceeded_is_400(uploader, user, settings):
    tier = dict(settings.HANGAR_TIERS[user.tier], storage_quota_bytes=len(CSV) + 100)
    settings.HANGAR_TIERS = {**settings.HANGAR_TIERS, user.tier: tier}
    uploader.upload("people.csv", CSV)
    response = uploader.upload_url("more.csv", 200)
    assert response.status_code == 400
    assert response.json()["error_code"] == "QUOTA_EXCEEDED"


@pytest.mark.parametrize("filename", ["malware.exe", "noextension", "sheet.xls", "archive.csv.gz"])
def test_unsupported_types_are_400(uploader, filename):
    response = uploader.upload_url(filename, 100)
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_DATASET"


@pytest.mark.parametrize(
    "body",
    [{}, {"filename": "a.csv"}, {"filename": "a.csv", "size_bytes": 0}, {"filename": "a.csv", "size_bytes": "x"}],
)
def test_upload_url_validates_its_body(uploader, body):
    response = uploader.client.post("/api/datasets/upload-url", body, format="json")
    assert response.status_code == 400
    assert response.json()["error_code"] == "VALIDATION_ERROR"


def test_upload_url_needs_authentication(api_client):
    response = api_client.post("/api/datasets/upload-url", {"filename": "a.csv", "size_bytes": 1}, format="json")
    assert response.status_code == 401


def test_filenames_cannot_escape_the_upload_folder(uploader, dataset_files):
    answer = uploader.upload_url("../../etc/passwd.csv", len(CSV)).json()
    assert uploader.put(answer["upload_url"], CSV).status_code == 200
    stored = [p for p in dataset_files.rglob("*") if p.is_file()]
    assert len(stored) == 1 and dataset_files in stored[0].parents and stored[0].name == "passwd.csv"


def test_upload_url_is_presigned_s3_put_s3_client_boundary(uploader, settings):
    """With a bucket, the URL is boto3's presigned put_object (signed offline; no S3 reachable here)."""
    settings.AWS_STORAGE_BUCKET_NAME = "hangar-data"
    settings.AWS_S3_ENDPOINT_URL = "https://minio.example.test"
    settings.AWS_S3_REGION_NAME = "us-east-1"
    settings.AWS_ACCESS_KEY_ID = "AKIATEST"
    settings.AWS_SECRET_ACCESS_KEY = "secret"
    body = uploader.upload_url("people.csv", len(CSV)).json()
    url = urlparse(body["upload_url"])
    assert url.netloc == "minio.example.test"
    intent = UploadIntent.objects.get(pk=body["upload_id"])
    assert url.path == f"/hangar-data/datasets/{intent.storage_key}"
    query = parse_qs(url.query)
    assert query["X-Amz-Credential"][0].startswith("AKIATEST/")
    assert "content-length" in query["X-Amz-SignedHeaders"][0]
    assert int(query["X-Amz-Expires"][0]) == settings.DATASET_UPLOAD_URL_TTL_SECONDS
    # Hangar's own upload route is not used with a bucket.
    assert uploader.put(f"/api/datasets/uploads/{intent.pk}?expires=1&signature=x", CSV).status_code == 400


def test_confirm_checks_the_object_in_the_bucket_s3_client_boundary(uploader, settings, monkeypatch, tmp_path):
    """confirm asks the storage whether the object exists and how big it is; S3Storage's calls
    are replaced at the client boundary by a local folder standing in for the bucket."""
    from django.core.files.storage import FileSystemStorage
    from storages.backends import s3

    bucket = FileSystemStorage(location=tmp_path / "bucket")
    for name in ("exists", "size", "delete", "open", "save"):
        monkeypatch.setattr(s3.S3Storage, name, lambda self, *a, _n=name, **k: getattr(bucket, _n)(*a, **k))
    settings.AWS_STORAGE_BUCKET_NAME = "hangar-data"
    settings.AWS_ACCESS_KEY_ID = "AKIATEST"
    settings.AWS_SECRET_ACCESS_KEY = "secret"
    answer = uploader.upload_url("people.csv", len(CSV)).json()
    missing = uploader.confirm(answer["upload_id"])
    assert missing.status_code == 400 and "not been uploaded" in missing.json()["detail"]
    key = UploadIntent.objects.get(pk=answer["upload_id"]).storage_key
    (tmp_path / "bucket" / key).parent.mkdir(parents=True)
    (tmp_path / "bucket" / key).write_bytes(CSV)  # what the client's PUT to the presigned URL did
    confirmed = uploader.confirm(answer["upload_id"])
    assert confirmed.status_code == 200, confirmed.content
    job = uploader.job(confirmed.json()["job_id"])
    assert job["status"] == "completed", job
    version_key = f"u{UploadIntent.objects.get(pk=answer['upload_id']).owner_id}/d{confirmed.json()['dataset_id']}"
    assert any(p.suffix == ".parquet" for p in (tmp_path / "bucket" / version_key).iterdir())
