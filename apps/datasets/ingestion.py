"""Ingestion of one dataset version: read the upload, profile every column, write Parquet.

Progress is reported honestly as the work goes: 5 when started; 5-30 while a full encoding
scan reads the bytes (text whose head is not UTF-8); 30 once the encoding is known; 60 once
parsed; 60-90 column by column while profiling; 95 once the Parquet is written; 100 when the
version is complete. A file Hangar cannot read fails the job with a message that says why
(malformed, empty, binary, undecodable).
"""

import logging
import time
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.activity.models import Activity
from apps.activity.services import activity_record
from apps.datasets import storage
from apps.datasets.ingest import IngestionError, readers
from apps.datasets.ingest.profile import profile_table
from apps.datasets.models import Dataset, DatasetVersion, IngestionJob

logger = logging.getLogger(__name__)
# Pending jobs older than this have lost their task (e.g. a restart of the embedded worker).
PENDING_REQUEUE_AFTER = timedelta(minutes=2)
_PROGRESS_INTERVAL_SECONDS = 0.25


class _Progress:
    """Writes ``progress_percentage`` as it rises, at most every quarter second between stages."""

    def __init__(self, job_id: object) -> None:
        self.job_id = job_id
        self.value = 0
        self.written_at = 0.0

    def set(self, value: float, *, force: bool = False) -> None:
        value = max(0, min(100, int(value)))
        now = time.monotonic()
        if value <= self.value or (not force and now - self.written_at < _PROGRESS_INTERVAL_SECONDS):
            return
        self.value, self.written_at = value, now
        IngestionJob.objects.filter(pk=self.job_id, status=IngestionJob.Status.PROCESSING).update(
            progress_percentage=value
        )

    def stage(self, start: float, end: float):
        """A callback mapping a fraction of a stage (0-1) to progress between ``start`` and ``end``."""
        return lambda fraction: self.set(start + (end - start) * fraction)


def _start(job_id: object) -> IngestionJob | None:
    with transaction.atomic():
        job = IngestionJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != IngestionJob.Status.PENDING:
            return None  # gone, or another run has it: running twice is harmless
        job.transition_to(IngestionJob.Status.PROCESSING)
        job.started_at = timezone.now()
        job.progress_percentage = 5
        job.save(update_fields=["status", "started_at", "progress_percentage"])
    return job


def read_table(path: Path, filename: str, progress: _Progress) -> pa.Table:
    """The file at ``path`` as a table, by the extension of ``filename``."""
    extension = readers.extension_of(filename)
    if extension in readers.TEXT_EXTENSIONS | readers.JSON_EXTENSIONS:
        # The head decides for most files; a full scan of the bytes runs only when the head (or,
        # later, the UTF-8 parser) finds bytes that are not UTF-8.
        encoding = readers.sniff_encoding(path) or readers.detect_encoding(path, progress.stage(5, 30))
        progress.set(30, force=True)
        if extension in readers.JSON_EXTENSIONS:
            if encoding not in ("utf-8", "utf-8-sig"):
                raise IngestionError(f"JSON must be UTF-8 text; this file looks like {encoding}")
            table = readers.read_json(path)
        else:
            try:
                table = readers.read_delimited(path, extension=extension, encoding=encoding)
            except readers.NotUtf8:
                encoding = readers.detect_encoding(path)
                table = readers.read_delimited(path, extension=extension, encoding=encoding)
    elif extension == "parquet":
        table = readers.read_parquet(path)
    elif extension == "xlsx":
        table = readers.read_excel(path)
    else:
        raise IngestionError(f"Unsupported file type .{extension}")
    table = readers.normalize(table)
    if table.num_columns == 0:
        raise IngestionError("The file has no columns")
    if table.num_rows == 0:
        raise IngestionError("The file has a header but no data rows")
    progress.set(60, force=True)
    return table


def _write_parquet(table: pa.Table, key: str) -> int:
    scratch = storage.scratch_path(key, ".parquet.part")
    try:
        # Dictionary encoding pays off for repeated strings; on numbers (ids, measurements) it is
        # tried, abandoned and costs about 40 % of the write.
        strings = [f.name for f in table.schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
        pq.write_table(table, scratch, compression="snappy", use_dictionary=strings or False)
        return storage.save_local_file(key, scratch)
    finally:
        scratch.unlink(missing_ok=True)


def ingestion_run(*, job_id: object) -> IngestionJob | None:
    """Run a pending ingestion job to completed or failed; None when it was not pending."""
    job = _start(job_id)
    if job is None:
        return None
    version = job.dataset_version
    progress = _Progress(job.id)
    key = storage.parquet_key(
        user_id=job.owner_id, dataset_id=job.dataset_id, version_number=version.version_number, version_id=version.id
    )
    try:
        try:
            path = storage.local_path(version.raw_key)
        except FileNotFoundError:
            raise IngestionError("The uploaded file is missing from storage") from None
        table = read_table(path, version.original_filename, progress)
        columns = profile_table(table, progress.stage(60, 90))
        parquet_size = _write_parquet(table, key)
        progress.set(95, force=True)
    except IngestionError as exc:
        return ingestion_fail(job_id=job.id, reason=str(exc))
    except Exception as exc:  # a reader's unexpected error must still end the job, with its reason
        logger.exception("Ingestion %s failed", job.id)
        storage.delete_keys([key])
        return ingestion_fail(job_id=job.id, reason=f"Ingestion failed: {type(exc).__name__}: {exc}")
    try:
        return _complete(job, version, key, table, columns, parquet_size)
    except Exception as exc:  # e.g. the database refusing the profile: the job must still end
        logger.exception("Ingestion %s could not be recorded", job.id)
        storage.delete_keys([key])
        return ingestion_fail(job_id=job.id, reason=f"Ingestion failed: {type(exc).__name__}: {exc}")


def _complete(job, version, key, table, columns, parquet_size) -> IngestionJob | None:
    with transaction.atomic():
        current = IngestionJob.objects.select_for_update().filter(pk=job.pk).first()
        stored = DatasetVersion.objects.filter(pk=version.pk).update(
            parquet_key=key,
            file_size_bytes=parquet_size,
            row_count=table.num_rows,
            column_count=table.num_columns,
            columns_metadata=columns,
        )
        if current is None or not stored or current.status != IngestionJob.Status.PROCESSING:
            # Deleted (or failed by the reaper) meanwhile: the Parquet must not outlive it.
            transaction.on_commit(lambda: storage.delete_keys([key]))
            return current
        current.transition_to(IngestionJob.Status.COMPLETED)
        current.progress_percentage = 100
        current.completed_at = timezone.now()
        current.save(update_fields=["status", "progress_percentage", "completed_at"])
        # The newest completed version is the dataset's current one.
        Dataset.objects.filter(pk=job.dataset_id).filter(
            Q(current_version__isnull=True) | Q(current_version__version_number__lt=version.version_number)
        ).update(current_version=version.pk, updated_at=timezone.now())
        activity_record(
            user=job.owner,
            action="dataset.ingestion_completed",
            details=f"{job.dataset.name} v{version.version_number}: {table.num_rows} rows, {table.num_columns} columns",
            metadata={"dataset_id": job.dataset_id, "job_id": str(job.id)},
        )
    return current


def ingestion_fail(*, job_id: object, reason: str) -> IngestionJob | None:
    """Fail a pending or processing job with ``reason`` (shown to the user); others are left alone."""
    with transaction.atomic():
        job = (
            IngestionJob.objects.select_for_update(of=("self",))
            .select_related("dataset", "owner")
            .filter(pk=job_id)
            .first()
        )
        if (
            job is None
            or not job.can_transition(IngestionJob.Status.FAILED)
            or job.status == IngestionJob.Status.FAILED
        ):
            return job
        job.transition_to(IngestionJob.Status.FAILED)
        job.error_message = reason[:2000]
        job.completed_at = timezone.now()
        job.save(update_fields=["status", "error_message", "completed_at"])
        activity_record(
            user=job.owner,
            action="dataset.ingestion_failed",
            details=f"{job.dataset.name}: {job.error_message}",
            status=Activity.Status.FAILURE,
            metadata={"dataset_id": job.dataset_id, "job_id": str(job.id)},
        )
    return job


def ingestion_reap() -> dict[str, list[str]]:
    """Fail jobs processing past the time limit; re-queue pending jobs whose task was lost."""
    now = timezone.now()
    limit = timedelta(seconds=settings.DATASET_INGESTION_TIMEOUT_SECONDS + 120)
    failed = []
    for job_id in IngestionJob.objects.filter(
        status=IngestionJob.Status.PROCESSING, started_at__lt=now - limit
    ).values_list("pk", flat=True):
        ingestion_fail(job_id=job_id, reason="Ingestion did not finish in time (the worker may have stopped)")
        failed.append(str(job_id))
    from apps.datasets.tasks import ingest_dataset_version

    requeued = []
    pending = IngestionJob.objects.filter(
        status=IngestionJob.Status.PENDING, created_at__lt=now - PENDING_REQUEUE_AFTER
    )
    for job_id in pending.values_list("pk", flat=True):
        ingest_dataset_version.delay(str(job_id))
        requeued.append(str(job_id))
    return {"failed": failed, "requeued": requeued}
