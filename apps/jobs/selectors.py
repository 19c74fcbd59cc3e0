"""Reads of workflows, snapshots, jobs and their files, always scoped to the caller: another user's
object is a 404, exactly like one that does not exist."""

import uuid
from dataclasses import dataclass
from typing import Any

from django.core.files.storage import default_storage
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum

from apps.core.errors import NotFound
from apps.jobs.executor.names import safe_name
from apps.jobs.models import Job, TrainedModel, Workflow, WorkflowSnapshot
from apps.jobs.services.execution import artifact_key


def _job_uuid(job_id: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(job_id))
    except ValueError:
        raise NotFound("Job not found") from None


def job_get(*, user: Any, job_id: Any) -> Job:
    """One of the caller's jobs; 404 for anyone else's or a malformed id."""
    job = Job.objects.select_related("snapshot").filter(owner=user, pk=_job_uuid(job_id)).first()
    if job is None:
        raise NotFound("Job not found")
    return job


def job_list(*, user: Any, status: str | None = None) -> QuerySet[Job]:
    """The caller's jobs, newest first, optionally of one status."""
    jobs = Job.objects.filter(owner=user).select_related("snapshot")
    if status:
        jobs = jobs.filter(status=status)
    return jobs.order_by("-created_at")


def workflow_get(*, user: Any, workflow_id: Any) -> Workflow:
    """One of the caller's workflows; 404 for anyone else's."""
    workflow = Workflow.objects.filter(owner=user, pk=workflow_id).first()
    if workflow is None:
        raise NotFound("Workflow not found")
    return workflow


def workflow_list(*, user: Any) -> QuerySet[Workflow]:
    """The caller's workflows, most recently updated first."""
    return Workflow.objects.filter(owner=user).order_by("-updated_at", "-id")


def snapshot_get(*, user: Any, snapshot_id: Any) -> WorkflowSnapshot:
    """One of the caller's workflow snapshots; 404 for anyone else's."""
    snapshot = WorkflowSnapshot.objects.select_related("workflow").filter(owner=user, pk=snapshot_id).first()
    if snapshot is None:
        raise NotFound("Workflow snapshot not found")
    return snapshot


@dataclass(frozen=True)
class JobStats:
    """003's ``/api/jobs/stats``."""

    total_jobs: int
    by_status: dict[str, int]
    total_credits_spent: Any
    average_duration_seconds: float | None
    success_rate: float | None


def job_stats(*, user: Any) -> JobStats:
    """Counts by status, credits spent (reserved less refunded), mean duration of finished jobs and
    the share of finished jobs that completed: database aggregates over the caller's jobs."""
    jobs = Job.objects.filter(owner=user)
    counts = {row["status"]: row["n"] for row in jobs.values("status").annotate(n=Count("id")).order_by()}
    duration = ExpressionWrapper(F("completed_at") - F("started_at"), output_field=DurationField())
    totals = jobs.aggregate(
        reserved=Sum("credits_reserved"),
        refunded=Sum("credits_refunded"),
        mean=Avg(duration, filter=Q(started_at__isnull=False, completed_at__isnull=False)),
    )
    completed = counts.get(Job.Status.COMPLETED, 0)
    ended = completed + counts.get(Job.Status.FAILED, 0)
    spent = (totals["reserved"] or 0) - (totals["refunded"] or 0)
    return JobStats(
        total_jobs=sum(counts.values()),
        by_status={status: counts.get(status, 0) for status in Job.Status.values},
        total_credits_spent=spent,
        average_duration_seconds=round(totals["mean"].total_seconds(), 3) if totals["mean"] is not None else None,
        success_rate=round(completed / ended, 4) if ended else None,
    )


def job_plot_key(*, job: Job, name: str) -> str:
    """The storage key of one of the job's plots (404 if it has no such plot)."""
    names = {plot["name"] for entry in (job.results or {}).get("models", []) for plot in entry.get("plots", [])}
    if name not in names or safe_name(name) != name:
        raise NotFound("Plot not found")
    key = artifact_key(job.pk, f"plots/{name}.png")
    if not default_storage.exists(key):
        raise NotFound("Plot not found")
    return key


def trained_model_get(*, job: Job, node_id: str) -> TrainedModel:
    """The model a job's node trained (404 if there is none)."""
    model = TrainedModel.objects.filter(job=job, node_id=node_id).first()
    if model is None or not default_storage.exists(model.artifact_key):
        raise NotFound("Model not found")
    return model
