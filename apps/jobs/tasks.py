"""Thin Celery tasks: take ids, load, call a service. Idempotent, acks_late, with time limits."""

from celery import shared_task
from django.conf import settings

from apps.jobs.services.execution import job_execute, job_execute_in_background
from apps.jobs.services.jobs import jobs_reap_stuck

# The supervisor enforces JOB_TIME_LIMIT_SECONDS itself; these limits only catch a hung supervisor.
_TASK_LIMIT = settings.JOB_TIME_LIMIT_SECONDS + 300


@shared_task(acks_late=True, time_limit=_TASK_LIMIT + 60, soft_time_limit=_TASK_LIMIT)
def execute_job(job_id: str) -> str | None:
    """Run a queued job (running twice is harmless: only a queued job starts).

    With ``JOB_SUPERVISE_IN_THREAD`` (the embedded default, whose worker has one task slot) the
    supervision runs on a thread of its own and the task returns at once.
    """
    if settings.JOB_SUPERVISE_IN_THREAD:
        job_execute_in_background(job_id=job_id)
        return None
    return job_execute(job_id=job_id)


@shared_task(acks_late=True, time_limit=300, soft_time_limit=240)
def reap_stuck_jobs() -> list[str]:
    """Fail and refund jobs whose worker died (periodic, through beat)."""
    return jobs_reap_stuck()
