"""Thin Celery tasks of pipelines and webhooks: take ids, load, call a service.

Idempotent (a finished step or a handled link is not done again), ``acks_late``, with time limits:
each step is queued with its own limits (``PIPELINE_STEP_TIMEOUTS``); the defaults here are the
ceiling for a step queued without them.
"""

from celery import shared_task
from django.conf import settings

from apps.deployments.services.pipelines import pipeline_run_step, pipelines_reconcile

_LONGEST_STEP = max(settings.PIPELINE_STEP_TIMEOUTS.values())


@shared_task(acks_late=True, soft_time_limit=_LONGEST_STEP, time_limit=_LONGEST_STEP + 30)
def run_pipeline_step(pipeline_pk: int, step: str) -> str | None:
    """Run one step of a pipeline; returns the pipeline's status afterwards (None: nothing to do)."""
    pipeline = pipeline_run_step(pipeline_pk=pipeline_pk, step=step)
    return pipeline.status if pipeline is not None else None


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def reconcile_pipelines() -> list[str]:
    """Fail pipelines stuck past their step's timeout (periodic, through beat)."""
    return pipelines_reconcile()


# A push while the notebook's pipeline runs waits for it, checking this often, at most this many times
# (about as long as a whole pipeline may take); then the push supersedes it.
SYNC_RETRY_SECONDS = 30
SYNC_MAX_RETRIES = sum(settings.PIPELINE_STEP_TIMEOUTS.values()) // SYNC_RETRY_SECONDS + 1


@shared_task(
    bind=True,
    acks_late=True,
    max_retries=SYNC_MAX_RETRIES,
    soft_time_limit=settings.WEBHOOK_GIT_TIMEOUT_SECONDS + 60,
    time_limit=settings.WEBHOOK_GIT_TIMEOUT_SECONDS + 90,
)
def sync_repository_link(self, link_pk: int, delivery: str, commit: str = "") -> str | None:
    """Fetch a linked notebook from its repository after a push and start its pipeline."""
    from apps.deployments.services.webhooks import NotebookBusy, repository_link_sync

    try:
        pipeline = repository_link_sync(
            link_pk=link_pk, delivery=delivery, commit=commit, force=self.request.retries >= SYNC_MAX_RETRIES
        )
    except NotebookBusy as exc:
        raise self.retry(countdown=SYNC_RETRY_SECONDS, exc=exc) from None
    return pipeline.pipeline_id if pipeline is not None else None
