"""Writes of the datasets app: signed upload intents, receiving an upload, confirming it into a
dataset version with an ingestion job, and deleting a dataset with every stored file.
Ingestion itself (reading, profiling, writing Parquet) lives in ``apps.datasets.ingestion``."""

from datetime import timedelta
from typing import IO, Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from apps.activity.services import activity_record
from apps.core.errors import ErrorCode, HangarError, NotFound
from apps.datasets import selectors, storage
from apps.datasets.ingest.readers import SUPPORTED_EXTENSIONS, extension_of
from apps.datasets.models import Dataset, DatasetVersion, IngestionJob, UploadIntent

# Measured by bench/ingestion.py (confirm to profiled Parquet, 100 MB CSV, a busy 2-core machine).
INGESTION_BYTES_PER_SECOND = 14 * 1024**2
INGESTION_OVERHEAD_SECONDS = 1.0
_CHUNK = 1024**2


def _too_large(detail: str) -> HangarError:
    return HangarError(detail, error_code=ErrorCode.PAYLOAD_TOO_LARGE, status_code=413)


def _invalid(detail: str, status_code: int = 400) -> HangarError:
    return HangarError(detail, error_code=ErrorCode.INVALID_DATASET, status_code=status_code)


def _url_invalid(detail: str, status_code: int) -> HangarError:
    return HangarError(detail, error_code=ErrorCode.UPLOAD_URL_INVALID, status_code=status_code)


def _check_extension(filename: str) -> None:
    extension = extension_of(filename)
    if extension == "xls":
        raise _invalid("Legacy .xls workbooks are not supported; save the sheet as .xlsx or CSV")
    if extension not in SUPPORTED_EXTENSIONS:
        allowed = ", ".join(f".{e}" for e in sorted(SUPPORTED_EXTENSIONS))
        raise _invalid(f"Unsupported file type {('.' + extension) if extension else '(none)'}; upload one of {allowed}")


def _check_quota(user, size_bytes: int) -> None:
    quota = user.tier_limits["storage_quota_bytes"]
    used = selectors.storage_used_bytes(user=user)
    if used + size_bytes > quota:
        raise HangarError(
            f"Storage quota exceeded: {used} of {quota} bytes used, {size_bytes} more requested",
            error_code=ErrorCode.QUOTA_EXCEEDED,
            status_code=400,
        )


def upload_url_create(*, user, filename: str, size_bytes: int, request: HttpRequest | None = None) -> dict[str, Any]:
    """Check type, tier size limit (413) and storage quota (400), then hand out a signed upload URL."""
    _check_extension(filename)
    max_size = user.tier_limits["max_upload_bytes"]
    if size_bytes > max_size:
        raise _too_large(f"The file is {size_bytes} bytes; your tier allows at most {max_size} bytes per upload")
    _check_quota(user, size_bytes)
    ttl = settings.DATASET_UPLOAD_URL_TTL_SECONDS
    # Whole seconds: the expiry travels in the URL and is signed as an integer.
    expires_at = (timezone.now() + timedelta(seconds=ttl)).replace(microsecond=0)
    intent = UploadIntent(owner=user, filename=filename[:255], declared_size_bytes=size_bytes, expires_at=expires_at)
    intent.storage_key = storage.raw_key(user_id=user.pk, upload_id=str(intent.id), filename=filename)
    intent.save()
    if storage.is_remote():
        url = storage.presigned_put_url(key=intent.storage_key, size_bytes=size_bytes, ttl_seconds=ttl)
    else:
        expires = int(expires_at.timestamp())
        query = urlencode({"expires": expires, "signature": storage.upload_signature(str(intent.id), expires)})
        path = f"{reverse('datasets-upload', kwargs={'upload_id': intent.id})}?{query}"
        url = request.build_absolute_uri(path) if request is not None else settings.PUBLIC_URL.rstrip("/") + path
    return {"upload_id": intent.id, "upload_url": url, "expires_at": expires_at, "max_size_bytes": max_size}


def upload_receive(*, upload_id: str, expires: str, signature: str, body: IO[bytes], content_length: int | None):
    """Store the body of a signed ``PUT`` (embedded mode), streamed in chunks, at most once per URL.

    403 for a bad signature, 410 once expired, 409 when the URL was already used, 413 for a body
    larger than declared or than the tier allows (the URL may then be used again, with a right body).
    """
    if storage.is_remote():
        raise _url_invalid("Uploads go straight to object storage on this Hangar; use the URL from upload-url", 400)
    if not storage.upload_signature_valid(upload_id, expires, signature):
        raise _url_invalid("The upload URL's signature is invalid", 403)
    if int(expires) < timezone.now().timestamp():
        raise _url_invalid("The upload URL has expired; ask for a new one", 410)
    intent = UploadIntent.objects.select_related("owner").filter(pk=upload_id).first()
    if intent is None:
        raise NotFound("Upload not found")
    cap = min(intent.declared_size_bytes, intent.owner.tier_limits["max_upload_bytes"])
    if content_length is not None and content_length > cap:
        raise _too_large(f"The body is {content_length} bytes; this upload URL accepts at most {cap}")
    now = timezone.now()
    # The one request that flips upload_started_at may write; any other finds it set.
    claimed = UploadIntent.objects.filter(pk=intent.pk, upload_started_at__isnull=True, confirmed_at__isnull=True)
    if not claimed.update(upload_started_at=now):
        raise _url_invalid("This upload URL has already been used", 409)
    try:
        size = _write_capped(intent.storage_key, body, cap)
    except BaseException:
        UploadIntent.objects.filter(pk=intent.pk).update(upload_started_at=None)
        raise
    UploadIntent.objects.filter(pk=intent.pk).update(uploaded_at=timezone.now(), uploaded_size_bytes=size)
    intent.refresh_from_db()
    return intent


def _write_capped(key: str, body: IO[bytes], cap: int) -> int:
    """Copy ``body`` to ``key`` in 1 MB chunks; past ``cap`` bytes or when empty, delete and raise."""
    path = storage.scratch_path(key, ".part")
    written = 0
    try:
        with path.open("wb") as out:
            while chunk := body.read(_CHUNK):
                written += len(chunk)
                if written > cap:
                    raise _too_large(f"The body is larger than this upload URL accepts ({cap} bytes)")
                out.write(chunk)
        if written == 0:
            raise _invalid("The request body is empty; send the file's bytes")
        storage.save_local_file(key, path)
    finally:
        path.unlink(missing_ok=True)
    return written


def estimated_duration_seconds(size_bytes: int) -> float:
    """How long ingestion of ``size_bytes`` should take, from the measured throughput."""
    return round(INGESTION_OVERHEAD_SECONDS + size_bytes / INGESTION_BYTES_PER_SECOND, 1)


def _uploaded_size(intent: UploadIntent) -> int:
    """The size of the stored upload; 400 when nothing was uploaded, 413 when it is too large."""
    store = storage.dataset_storage()
    if storage.is_remote():
        if not store.exists(intent.storage_key):
            raise _invalid("The file has not been uploaded yet; PUT it to the upload_url first")
        size = store.size(intent.storage_key)
    else:
        if intent.uploaded_at is None or not store.exists(intent.storage_key):
            raise _invalid("The file has not been uploaded yet; PUT it to the upload_url first")
        size = intent.uploaded_size_bytes or 0
    if size == 0:
        raise _invalid("The uploaded file is empty")
    cap = min(intent.declared_size_bytes, intent.owner.tier_limits["max_upload_bytes"])
    if size > cap:
        store.delete(intent.storage_key)
        raise _too_large(f"The uploaded file is {size} bytes, more than the {cap} bytes declared or allowed")
    return size


@transaction.atomic
def dataset_confirm(
    *,
    user,
    upload_id: str,
    dataset_name: str = "",
    description: str = "",
    problem_type: str = "",
    target_column: str = "",
    create_new_version: bool = False,
    dataset_id: int | None = None,
    version_label: str = "",
    request: HttpRequest | None = None,
) -> IngestionJob:
    """Turn an uploaded file into a new dataset (or the next version of ``dataset_id``) and queue
    its ingestion. An upload is confirmed once (409 after)."""
    intent = (
        UploadIntent.objects.select_for_update(of=("self",))
        .select_related("owner")
        .filter(pk=upload_id, owner=user)
        .first()
    )
    if intent is None:
        raise NotFound("Upload not found")
    if intent.confirmed_at is not None:
        raise HangarError("This upload was already confirmed", error_code=ErrorCode.CONFLICT, status_code=409)
    size = _uploaded_size(intent)
    _check_quota(user, size)
    if create_new_version:
        if dataset_id is None:
            raise HangarError(
                "dataset_id is required with create_new_version", error_code=ErrorCode.VALIDATION_ERROR, status_code=400
            )
        dataset = selectors.dataset_get(user=user, dataset_id=dataset_id, for_update=True)
        changes = {"description": description, "problem_type": problem_type, "target_column": target_column}
        for field, value in changes.items():
            if value:
                setattr(dataset, field, value)
        dataset.save()
    else:
        dataset = Dataset.objects.create(
            owner=user,
            name=dataset_name,
            description=description,
            problem_type=problem_type,
            target_column=target_column,
        )
    number = (dataset.versions.aggregate(n=Max("version_number"))["n"] or 0) + 1
    version = DatasetVersion.objects.create(
        dataset=dataset,
        version_number=number,
        version_label=version_label,
        original_filename=intent.filename,
        raw_key=intent.storage_key,
        raw_size_bytes=size,
    )
    job = IngestionJob.objects.create(
        owner=user,
        dataset=dataset,
        dataset_version=version,
        estimated_duration_seconds=estimated_duration_seconds(size),
    )
    intent.confirmed_at = timezone.now()
    intent.save(update_fields=["confirmed_at"])
    activity_record(
        user=user,
        action="dataset.version_created" if create_new_version else "dataset.created",
        details=f"{dataset.name} v{number} ({intent.filename}, {size} bytes)",
        request=request,
        metadata={"dataset_id": dataset.id, "version_id": version.id, "job_id": str(job.id)},
    )
    from apps.datasets.tasks import ingest_dataset_version

    transaction.on_commit(lambda: ingest_dataset_version.delay(str(job.id)))
    return job


def dataset_delete(*, dataset: Dataset, request: HttpRequest | None = None) -> None:
    """Hard delete: every version, job and stored file (raw and Parquet) of ``dataset``."""
    with transaction.atomic():
        versions = list(dataset.versions.values_list("raw_key", "parquet_key"))
        keys = [key for pair in versions for key in pair if key]
        UploadIntent.objects.filter(owner_id=dataset.owner_id, storage_key__in=keys).delete()
        name, owner = dataset.name, dataset.owner
        dataset.delete()
        activity_record(
            user=owner, action="dataset.deleted", details=f"{name}: {len(versions)} version(s)", request=request
        )
        # Files go once the rows are gone for good; a rolled-back delete keeps them.
        transaction.on_commit(lambda: storage.delete_keys(keys))


def intents_reap(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete uploads never confirmed (and their files) once their URL expired ``older_than`` ago."""
    stale = UploadIntent.objects.filter(confirmed_at__isnull=True, expires_at__lt=timezone.now() - older_than)
    keys = list(stale.values_list("storage_key", flat=True))
    storage.delete_keys(keys)
    count, _ = stale.delete()
    return count
