"""Where dataset files live, and the signed upload URLs that put them there.

Embedded default: a folder (``MEDIA_ROOT/datasets``) on Django's ``FileSystemStorage``; the upload
URL is Hangar's own ``PUT /api/datasets/uploads/{id}``, signed with an HMAC of the upload id and
its expiry (the signature is the credential, so the browser sends no token). With
``AWS_STORAGE_BUCKET_NAME`` set, files live in that bucket (S3, R2 or MinIO through
django-storages), the upload URL is a presigned S3 ``put_object`` URL, and readers that need a
local file get a copy in a temporary cache.
"""

import hashlib
import hmac
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage

S3_PREFIX = "datasets"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_CHUNK = 4 * 1024**2


def is_remote() -> bool:
    """True when datasets live in an object-storage bucket rather than on this machine."""
    return bool(settings.AWS_STORAGE_BUCKET_NAME)


def dataset_storage() -> Storage:
    """The storage holding raw uploads and Parquet files (built per call: settings may change)."""
    if is_remote():
        from storages.backends.s3 import S3Storage

        return S3Storage(location=S3_PREFIX, file_overwrite=True)
    return FileSystemStorage(location=Path(settings.MEDIA_ROOT) / "datasets")


def safe_filename(filename: str) -> str:
    """The base name of ``filename`` with only ``[A-Za-z0-9._-]``, never empty or hidden."""
    base = Path(filename.replace("\\", "/")).name
    cleaned = _UNSAFE.sub("_", base).strip("._") or "upload"
    stem, dot, ext = cleaned.rpartition(".")
    return f"{stem[:150]}.{ext[:10]}" if dot and stem else cleaned[:160]


def raw_key(*, user_id: int, upload_id: str, filename: str) -> str:
    """The storage key of an upload as received."""
    return f"u{user_id}/uploads/{upload_id}/{safe_filename(filename)}"


def parquet_key(*, user_id: int, dataset_id: int, version_number: int, version_id: int) -> str:
    """The storage key of a version's Parquet file."""
    return f"u{user_id}/d{dataset_id}/v{version_number}-{version_id}.parquet"


# --- signed upload URLs (embedded mode) ---------------------------------------------------------


def _signing_key() -> bytes:
    # Derived, so a leaked upload signature says nothing about SECRET_KEY or other derived keys.
    return hashlib.sha256(b"hangar.dataset-upload:" + settings.SECRET_KEY.encode()).digest()


def upload_signature(upload_id: str, expires: int) -> str:
    """The HMAC-SHA256 of ``<upload_id>.<expires>`` (hex)."""
    message = f"{upload_id}.{expires}".encode()
    return hmac.new(_signing_key(), message, hashlib.sha256).hexdigest()


def upload_signature_valid(upload_id: str, expires: str, signature: str) -> bool:
    """Whether ``signature`` signs this upload id and expiry (compared in constant time)."""
    if not expires.isascii() or not expires.isdigit() or len(expires) > 12:
        return False
    return hmac.compare_digest(upload_signature(upload_id, int(expires)), signature or "")


def presigned_put_url(*, key: str, size_bytes: int, ttl_seconds: int) -> str:
    """A presigned S3 ``put_object`` URL for ``key``; the length is signed, so only that many
    bytes may be sent."""
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3",
        endpoint_url=settings.AWS_S3_ENDPOINT_URL,
        region_name=settings.AWS_S3_REGION_NAME,
        aws_access_key_id=settings.AWS_ACCESS_KEY_ID,
        aws_secret_access_key=settings.AWS_SECRET_ACCESS_KEY,
        config=Config(signature_version="s3v4"),
    )
    return client.generate_presigned_url(
        "put_object",
        Params={"Bucket": settings.AWS_STORAGE_BUCKET_NAME, "Key": f"{S3_PREFIX}/{key}", "ContentLength": size_bytes},
        ExpiresIn=ttl_seconds,
    )


# --- files ---------------------------------------------------------------------------------------


def local_path(key: str) -> Path:
    """A local path holding the file at ``key``: the file itself on the filesystem storage, else
    a copy downloaded once into a temporary cache (keys are never rewritten, so a copy stays valid)."""
    storage = dataset_storage()
    if not is_remote():
        return Path(storage.path(key))
    cache = Path(tempfile.gettempdir()) / "hangar-dataset-cache"
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / (hashlib.sha256(key.encode()).hexdigest()[:32] + Path(key).suffix)
    if not target.exists():
        handle, partial = tempfile.mkstemp(dir=cache, suffix=".part")
        try:
            with os.fdopen(handle, "wb") as out, storage.open(key, "rb") as source:
                shutil.copyfileobj(source, out, _CHUNK)
            os.replace(partial, target)
        finally:
            Path(partial).unlink(missing_ok=True)
    return target


def save_local_file(key: str, path: Path) -> int:
    """Store the local file ``path`` at ``key`` (moved when the storage is a local folder); its size."""
    size = path.stat().st_size
    storage = dataset_storage()
    if is_remote():
        with path.open("rb") as handle:
            storage.save(key, handle)
        path.unlink(missing_ok=True)
    else:
        target = Path(storage.path(key))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target)
    return size


def scratch_path(key: str, suffix: str) -> Path:
    """A fresh local path to write a file destined for ``key`` (beside it on a local folder, so
    the final move is a rename)."""
    if is_remote():
        directory = Path(tempfile.gettempdir())
    else:
        directory = Path(dataset_storage().path(key)).parent
        directory.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=directory, suffix=suffix)
    os.close(handle)
    return Path(name)


def delete_keys(keys: Iterable[str]) -> None:
    """Delete the files at ``keys`` (and any cached copy); missing files are fine."""
    storage = dataset_storage()
    for key in keys:
        if not key:
            continue
        storage.delete(key)
        if is_remote():
            cached = Path(tempfile.gettempdir()) / "hangar-dataset-cache"
            (cached / (hashlib.sha256(key.encode()).hexdigest()[:32] + Path(key).suffix)).unlink(missing_ok=True)
        else:
            _prune_empty_parents(Path(storage.path(key)), Path(storage.location))


def _prune_empty_parents(path: Path, root: Path) -> None:
    """Remove the now-empty folders between ``path`` and ``root``, so a deleted upload leaves nothing."""
    folder = path.parent
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
