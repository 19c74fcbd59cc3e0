"""Thin Celery tasks: take ids, load, call a service. Idempotent, acks_late, with time limits."""

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from apps.datasets import services
from apps.datasets.ingestion import ingestion_fail, ingestion_reap, ingestion_run

INGESTION_TIME_LIMIT = settings.DATASET_INGESTION_TIMEOUT_SECONDS


@shared_task(acks_late=True, time_limit=INGESTION_TIME_LIMIT + 60, soft_time_limit=INGESTION_TIME_LIMIT)
def ingest_dataset_version(job_id: str) -> str | None:
    """Read, profile and convert one uploaded version; returns the job's status.

    Running twice is harmless: only a pending job is started.
    """
    try:
        job = ingestion_run(job_id=job_id)
    except SoftTimeLimitExceeded:
        job = ingestion_fail(job_id=job_id, reason=f"Ingestion took longer than {INGESTION_TIME_LIMIT} s")
    return job.status if job is not None else None


@shared_task(acks_late=True, time_limit=300, soft_time_limit=240)
def reap_dataset_ingestions() -> dict:
    """Periodic (beat): fail stuck jobs, re-queue lost ones, delete stale unconfirmed uploads."""
    result = ingestion_reap()
    result["intents_deleted"] = services.intents_reap()
    return result
