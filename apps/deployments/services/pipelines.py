"""One-click pipelines (000): upload a notebook, then parse, dependencies, upload, build and deploy.

Each step runs as its own Celery task (``tasks_pipelines.run_pipeline_step``) with the step's own
time limit. A step is *claimed* (the pipeline is processing and its current step is that step)
before it runs and *completed* after it, under a row lock both times, so a step delivered twice
after it finished does nothing, and a pipeline failed meanwhile (by the reconciler, or superseded by
a newer pipeline of the same notebook) is left alone. Every transition is written to the activity
log and pushed to the pipeline's channel-layer group for ``/api/v1/ws/pipelines/{id}``.
"""

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from apps.activity.models import Activity
from apps.activity.services import activity_record
from apps.core.errors import ErrorCode, HangarError
from apps.deployments import notebooks_api
from apps.deployments import streams_pipelines as streams
from apps.deployments.models import Pipeline
from apps.deployments.services import pipeline_steps

logger = logging.getLogger(__name__)

Status = Pipeline.Status
Step = Pipeline.Step
DEFAULT_OPTIONS = {"cpu": "1", "memory": "512Mi", "min_instances": 0, "max_instances": 10}
_ID_ATTEMPTS = 20

# Each step's work; each returns nothing and raises HangarError with the user's reason on failure.
STEP_RUNNERS: dict[str, Callable[[Pipeline], None]] = {
    Step.PARSE: pipeline_steps.step_parse,
    Step.DEPENDENCIES: pipeline_steps.step_dependencies,
    Step.UPLOAD: pipeline_steps.step_upload,
    Step.BUILD: pipeline_steps.step_build,
    Step.DEPLOY: pipeline_steps.step_deploy,
}


def step_timeout(step: str) -> int:
    """Seconds a step may take, from ``settings.PIPELINE_STEP_TIMEOUTS``."""
    return int(settings.PIPELINE_STEP_TIMEOUTS[step])


def _record(pipeline: Pipeline, action: str, details: str, *, failed: bool = False, request=None) -> None:
    activity_record(
        user=pipeline.owner,
        action=action,
        details=details,
        status=Activity.Status.FAILURE if failed else Activity.Status.SUCCESS,
        request=request,
        metadata={
            "pipeline_id": pipeline.pipeline_id,
            "notebook_id": pipeline.notebook_id,
            "status": pipeline.status,
            "current_step": pipeline.current_step,
        },
    )


def _publish_on_commit(pipeline_pk: int) -> None:
    transaction.on_commit(lambda: streams.pipeline_publish(pipeline_pk))


def _queue_step(pipeline: Pipeline, step: str) -> None:
    from apps.deployments import tasks_pipelines

    timeout = step_timeout(step)
    pk = pipeline.pk
    transaction.on_commit(
        lambda: tasks_pipelines.run_pipeline_step.apply_async(
            args=[pk, step], soft_time_limit=timeout, time_limit=timeout + 30
        )
    )


def _lock(pipeline_pk: int) -> Pipeline | None:
    return Pipeline.objects.select_for_update(of=("self",)).select_related("owner").filter(pk=pipeline_pk).first()


# --- Start ---------------------------------------------------------------------------------------


def pipeline_deploy(
    *,
    owner: Any,
    uploaded_file: Any,
    cpu: str = "1",
    memory: str = "512Mi",
    min_instances: int = 0,
    max_instances: int = 10,
    request: HttpRequest | None = None,
) -> Pipeline:
    """Upload the notebook (refused with 400/413 before anything starts) and start its pipeline."""
    options = {"cpu": cpu, "memory": memory, "min_instances": min_instances, "max_instances": max_instances}
    with transaction.atomic():
        notebook = notebooks_api.notebook_upload(owner=owner, uploaded_file=uploaded_file)
        return pipeline_start(owner=owner, notebook=notebook, options=options, trigger="upload", request=request)


@transaction.atomic
def pipeline_start(
    *,
    owner: Any,
    notebook: Any,
    options: dict | None = None,
    trigger: str = "upload",
    request: HttpRequest | None = None,
) -> Pipeline:
    """Create a processing pipeline for ``notebook`` and queue its first step.

    A notebook runs one pipeline at a time: one still processing is failed as superseded, so its
    steps stop at their next claim.
    """
    merged = {**DEFAULT_OPTIONS, **(options or {})}
    for older in Pipeline.objects.select_for_update().filter(notebook=notebook, status=Status.PROCESSING):
        _fail_locked(older, "superseded by a newer pipeline of the same notebook")
    pipeline = _create_with_unique_id(owner=owner, notebook=notebook, options=merged, trigger=trigger)
    _record(pipeline, "pipeline_started", f"Pipeline {pipeline.pipeline_id} started ({trigger})", request=request)
    _publish_on_commit(pipeline.pk)
    _queue_step(pipeline, Step.PARSE)
    return pipeline


def _create_with_unique_id(*, owner: Any, notebook: Any, options: dict, trigger: str) -> Pipeline:
    """``pipeline-<notebook_id>-<epoch>``; a second pipeline of the notebook in the same second takes
    the next free second, so the documented shape holds."""
    epoch = int(time.time())
    for offset in range(_ID_ATTEMPTS):
        pipeline_id = f"pipeline-{notebook.pk}-{epoch + offset}"
        if Pipeline.objects.filter(pipeline_id=pipeline_id).exists():
            continue
        try:
            with transaction.atomic():
                return Pipeline.objects.create(
                    pipeline_id=pipeline_id,
                    owner=owner,
                    notebook=notebook,
                    options=options,
                    trigger=trigger,
                    current_step=Step.PARSE,
                    step_started_at=timezone.now(),
                )
        except IntegrityError:
            continue  # taken by a concurrent start: try the next second
    raise HangarError("Too many pipelines started at once", error_code=ErrorCode.CONFLICT, status_code=409)


# --- Steps ---------------------------------------------------------------------------------------


def pipeline_run_step(*, pipeline_pk: int, step: str) -> Pipeline | None:
    """Run one step of a pipeline (the Celery task's body); None when there is nothing to do."""
    pipeline = _claim(pipeline_pk, step)
    if pipeline is None:
        return None
    try:
        STEP_RUNNERS[step](pipeline)
    except HangarError as exc:
        return pipeline_fail(pipeline_pk=pipeline_pk, reason=f"{step} failed: {exc.detail}")
    except SoftTimeLimitExceeded:
        return pipeline_fail(pipeline_pk=pipeline_pk, reason=f"{step} failed: timed out after {step_timeout(step)} s")
    except Exception as exc:  # a step's unexpected error must end the pipeline, never leave it hanging
        logger.exception("Pipeline %s: step %s raised", pipeline_pk, step)
        return pipeline_fail(pipeline_pk=pipeline_pk, reason=f"{step} failed: {type(exc).__name__}: {exc}")
    return _complete(pipeline_pk, step)


@transaction.atomic
def _claim(pipeline_pk: int, step: str) -> Pipeline | None:
    pipeline = _lock(pipeline_pk)
    if pipeline is None or pipeline.status != Status.PROCESSING:
        return None
    if step in pipeline.steps_completed or pipeline.current_step != step:
        return None  # a repeated delivery of a finished step, or a step out of turn
    pipeline.step_started_at = timezone.now()
    pipeline.save(update_fields=["step_started_at", "updated_at"])
    _record(pipeline, "pipeline_step_started", f"Pipeline {pipeline.pipeline_id}: {step} started")
    _publish_on_commit(pipeline.pk)
    return pipeline


@transaction.atomic
def _complete(pipeline_pk: int, step: str) -> Pipeline | None:
    pipeline = _lock(pipeline_pk)
    if pipeline is None or pipeline.status != Status.PROCESSING or pipeline.current_step != step:
        return pipeline  # failed or superseded while the step ran: its result no longer counts
    pipeline.steps_completed = [*pipeline.steps_completed, step]
    position = Pipeline.STEPS.index(step)
    if position + 1 < len(Pipeline.STEPS):
        pipeline.current_step = Pipeline.STEPS[position + 1]
        pipeline.step_started_at = timezone.now()
        pipeline.save(update_fields=["steps_completed", "current_step", "step_started_at", "updated_at"])
        _queue_step(pipeline, pipeline.current_step)
    else:
        pipeline.transition_to(Status.DEPLOYED)
        pipeline.finished_at = timezone.now()
        pipeline.save(update_fields=["steps_completed", "status", "finished_at", "updated_at"])
        _record(pipeline, "pipeline_deployed", f"Pipeline {pipeline.pipeline_id} deployed")
    _publish_on_commit(pipeline.pk)
    return pipeline


# --- Failure and reconciliation ------------------------------------------------------------------


def _fail_locked(pipeline: Pipeline, reason: str) -> Pipeline:
    pipeline.transition_to(Status.FAILED)
    pipeline.error_message = reason[:4000]
    pipeline.finished_at = timezone.now()
    pipeline.save(update_fields=["status", "error_message", "finished_at", "updated_at"])
    _record(pipeline, "pipeline_failed", f"Pipeline {pipeline.pipeline_id} failed: {reason}"[:2000], failed=True)
    _publish_on_commit(pipeline.pk)
    return pipeline


@transaction.atomic
def pipeline_fail(*, pipeline_pk: int, reason: str) -> Pipeline | None:
    """Fail a processing pipeline with ``reason`` (which names the step); others are left as they are."""
    pipeline = _lock(pipeline_pk)
    if pipeline is None or pipeline.status != Status.PROCESSING:
        return pipeline
    return _fail_locked(pipeline, reason)


def pipelines_reconcile(*, now: Any = None) -> list[str]:
    """Fail every processing pipeline whose current step has run past its timeout (plus a grace
    period for the task's own time limit to act first); returns their pipeline ids."""
    now = now or timezone.now()
    grace = timedelta(seconds=settings.PIPELINE_RECONCILE_GRACE_SECONDS)
    stale = Q()
    for step in Pipeline.STEPS:
        deadline = now - timedelta(seconds=step_timeout(step)) - grace
        stale |= Q(current_step=step, step_started_at__lt=deadline)
    stale |= Q(step_started_at__isnull=True, created_at__lt=now - timedelta(seconds=step_timeout(Step.PARSE)) - grace)
    failed = []
    for pk in Pipeline.objects.filter(stale, status=Status.PROCESSING).values_list("pk", flat=True):
        with transaction.atomic():
            pipeline = _lock(pk)
            if pipeline is None or pipeline.status != Status.PROCESSING:
                continue
            started = pipeline.step_started_at or pipeline.created_at
            if started >= now - timedelta(seconds=step_timeout(pipeline.current_step)) - grace:
                continue  # moved on since the query
            step = pipeline.current_step
            _fail_locked(pipeline, f"{step} failed: timed out (no progress for {step_timeout(step)} s)")
            failed.append(pipeline.pipeline_id)
    return failed
