"""Job writes: submit a workflow, create a job from a snapshot, cancel, retry, settle the credits,
and fail jobs whose worker died.

**Credits.** Creating a job reserves its estimated cost at once (``credits_spend``, reference
``job:<id>``); a short balance is 402 and nothing is created. A completed job keeps the whole
reservation. A failed or cancelled job is charged only for the model nodes that finished training:
``charged = reserved x finished models / all models`` (to the cent), and the rest is refunded once
(``credits_refund`` with the same reference), in the same transaction as the move to the final
status, so it cannot happen twice.
"""

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from apps.activity.models import Activity
from apps.activity.services import activity_record
from apps.core.errors import ErrorCode, HangarError, NotFound
from apps.jobs import streams
from apps.jobs.models import Job, Workflow, WorkflowSnapshot
from apps.jobs.services import workflow_api

Status = Job.Status
_CENT = Decimal("0.01")
_ACTION_FOR_STATUS = {
    Status.QUEUED: "job_queued",
    Status.RUNNING: "job_started",
    Status.COMPLETED: "job_completed",
    Status.FAILED: "job_failed",
    Status.CANCELLED: "job_cancelled",
}


# --- Transitions ---------------------------------------------------------------------------------


def lock_job(job_id: Any) -> Job | None:
    """The job, row-locked until the surrounding transaction ends (None if it does not exist)."""
    return Job.objects.select_for_update(of=("self",)).select_related("owner").filter(pk=job_id).first()


def move_job(job: Job, target: str, *, reason: str = "", request: HttpRequest | None = None) -> Job:
    """Apply one state-machine transition (409 if illegal), save, log it and tell the job's sockets.

    A move to a final status also stamps ``completed_at``, marks unfinished nodes and settles the
    credits; the sockets then receive ``job_finished`` and close.
    """
    previous = job.status
    job.transition_to(target)
    now = timezone.now()
    if target == Status.QUEUED:
        job.queued_at = now
    elif target == Status.RUNNING:
        job.started_at = now
    if target in Job.FINISHED:
        job.completed_at = now
        if reason and target != Status.COMPLETED:
            job.error_message = reason[:10_000]
        _close_nodes(job, target)
        _settle(job)
    job.save()
    details = f"Job {job.id}: {previous} -> {target}" + (f" ({reason})" if reason else "")
    activity_record(
        user=job.owner,
        action=_ACTION_FOR_STATUS[target],
        details=details[:2000],
        status=Activity.Status.FAILURE if target == Status.FAILED else Activity.Status.SUCCESS,
        request=request,
        metadata={"job_id": str(job.id), "status": target},
    )
    message = _status_message(job)
    transaction.on_commit(lambda: streams.job_publish(job.id, message))
    return job


def _status_message(job: Job) -> dict[str, Any]:
    if job.is_finished:
        return {
            "type": streams.JOB_FINISHED,
            "job_id": str(job.id),
            "status": job.status,
            "progress": job.progress,
            "results": job.results,
            "error_message": job.error_message,
            "nodes": job.nodes,
            "timestamp": timezone.now().isoformat(),
        }
    return {
        "type": streams.JOB_STATUS,
        "job_id": str(job.id),
        "status": job.status,
        "progress": job.progress,
        "timestamp": timezone.now().isoformat(),
    }


def _close_nodes(job: Job, target: str) -> None:
    """Nodes that never finished end as ``cancelled`` (job cancelled) or ``skipped``; the running
    one of a failed job as ``failed``."""
    now = timezone.now().isoformat()
    for node in job.nodes:
        if node["status"] == "running":
            node["status"] = "cancelled" if target == Status.CANCELLED else "failed"
            node["finished_at"] = now
        elif node["status"] == "pending":
            node["status"] = "cancelled" if target == Status.CANCELLED else "skipped"
    if target == Status.COMPLETED:
        job.progress = 100


def _settle(job: Job) -> None:
    """Charge what the job used and refund the rest of its reservation (once: see the module doc)."""
    reserved = job.credits_reserved
    if job.status == Status.COMPLETED:
        charged = reserved
    else:
        models = [node for node in job.nodes if node.get("type") == "model"]
        done = sum(1 for node in models if node["status"] == "completed")
        charged = (reserved * done / len(models)).quantize(_CENT, ROUND_HALF_UP) if models else Decimal(0)
    refund = reserved - charged
    job.credits_charged = charged
    if refund > 0:
        from apps.credits.services import credits_refund

        credits_refund(
            user=job.owner,
            amount=refund,
            description=f"Refund for {job.status} job {job.id}",
            reference=f"job:{job.id}",
        )
        job.credits_refunded = refund


# --- Create --------------------------------------------------------------------------------------


def _initial_nodes(snapshot: WorkflowSnapshot) -> list[dict[str, Any]]:
    """Per-node state in plan order: dataset, preprocessing, models, evaluation."""
    order = {"dataset": 0, "preprocessing": 1, "model": 2, "evaluation": 3}
    plan_position = {str(step[0]): index for index, step in enumerate(workflow_api.plan_steps(snapshot.plan))}
    nodes = sorted(
        snapshot.nodes,
        key=lambda node: (order.get(node.get("type"), 9), plan_position.get(str(node.get("id")), 0)),
    )
    return [
        {
            "id": str(node["id"]),
            "type": node.get("type", ""),
            "plugin": (node.get("data") or {}).get("plugin", ""),
            "label": (node.get("data") or {}).get("label", ""),
            "status": "pending",
            "started_at": None,
            "finished_at": None,
            "error": "",
            "summary": {},
            "logs": [],
        }
        for node in nodes
    ]


def _queue(job: Job) -> None:
    from apps.jobs import tasks

    def send() -> None:
        result = tasks.execute_job.delay(str(job.id))
        Job.objects.filter(pk=job.pk, task_id="").update(task_id=result.id or "")

    transaction.on_commit(send)


def job_create(
    *, user: Any, snapshot: WorkflowSnapshot, retry_of: Job | None = None, request: HttpRequest | None = None
) -> Job:
    """Price the snapshot, reserve the credits (402 when short), create the job queued and queue its
    execution once the transaction commits."""
    cost = workflow_api.price(plan=snapshot.plan)
    with transaction.atomic():
        job = Job.objects.create(
            owner=user,
            snapshot=snapshot,
            workflow=snapshot.workflow,
            retry_of=retry_of,
            estimated_cost=cost,
            nodes=_initial_nodes(snapshot),
        )
        if cost > 0:
            from apps.credits.services import credits_spend

            credits_spend(user=user, amount=cost, description=f"Training job {job.id}", reference=f"job:{job.id}")
        job.credits_reserved = cost
        move_job(job, Status.QUEUED, reason=f"retry of {retry_of.id}" if retry_of else "", request=request)
        _queue(job)
    return job


def _save_workflow(*, user: Any, nodes: list, edges: list, workflow_id: int | None, name: str | None) -> Workflow:
    if workflow_id is not None:
        workflow = Workflow.objects.select_for_update().filter(pk=workflow_id, owner=user).first()
        if workflow is None:
            raise NotFound("Workflow not found")
        workflow.nodes, workflow.edges = nodes, edges
        if name:
            workflow.name = name
        workflow.save()
        return workflow
    return Workflow.objects.create(owner=user, nodes=nodes, edges=edges, name=name or "Untitled workflow")


def workflow_execute(
    *,
    user: Any,
    nodes: list,
    edges: list,
    workflow_id: int | None = None,
    name: str | None = None,
    request: HttpRequest | None = None,
) -> Job:
    """Validate a workflow (400 ``INVALID_WORKFLOW`` with the errors), save it, freeze a snapshot and
    create its job (see :func:`job_create`)."""
    plan = workflow_api.validated_plan(user=user, nodes=nodes, edges=edges)
    with transaction.atomic():
        workflow = _save_workflow(user=user, nodes=nodes, edges=edges, workflow_id=workflow_id, name=name)
        snapshot = WorkflowSnapshot.objects.create(
            owner=user, workflow=workflow, name=workflow.name, nodes=nodes, edges=edges, plan=plan
        )
        return job_create(user=user, snapshot=snapshot, request=request)


# --- Cancel, retry -------------------------------------------------------------------------------


def job_cancel(*, job: Job, request: HttpRequest | None = None) -> Job:
    """Cancel a pending, queued or running job (409 otherwise), refund the unused credits, and kill
    its training process at once (the supervisor also notices within a fraction of a second)."""
    with transaction.atomic():
        locked = lock_job(job.pk)
        if locked.is_finished:
            raise HangarError(
                f"Job is {locked.status}; only pending, queued or running jobs can be cancelled",
                error_code=ErrorCode.CONFLICT,
                status_code=409,
            )
        move_job(locked, Status.CANCELLED, reason="cancelled by the user", request=request)
        pid, host = locked.executor_pid, locked.executor_host
    if pid:
        from apps.jobs.executor.supervisor import kill_executor

        kill_executor(job_id=str(locked.id), pid=pid, host=host)
    return locked


def job_retry(*, job: Job, request: HttpRequest | None = None) -> Job:
    """A new job on the failed job's snapshot, charged again (409 unless the job failed)."""
    if job.status != Status.FAILED:
        raise HangarError(
            f"Job is {job.status}; only failed jobs can be retried", error_code=ErrorCode.CONFLICT, status_code=409
        )
    return job_create(user=job.owner, snapshot=job.snapshot, retry_of=job, request=request)


def job_fail(*, job_id: Any, reason: str) -> Job | None:
    """Fail an active job with ``reason`` and refund; None (and nothing changed) if it had finished."""
    with transaction.atomic():
        job = lock_job(job_id)
        if job is None or job.is_finished:
            return None
        return move_job(job, Status.FAILED, reason=reason)


def jobs_reap_stuck() -> list[str]:
    """Fail (and refund) jobs queued or running past the time limit plus a grace period: their
    worker died. Returns their ids."""
    limit = settings.JOB_TIME_LIMIT_SECONDS + settings.JOB_STUCK_GRACE_SECONDS
    cutoff = timezone.now() - timezone.timedelta(seconds=limit)
    stuck = Job.objects.filter(
        Q(status=Status.RUNNING, started_at__lt=cutoff)
        | Q(status__in=[Status.PENDING, Status.QUEUED], created_at__lt=cutoff)
    ).values_list("id", "executor_pid", "executor_host")
    reaped = []
    for job_id, pid, host in stuck:
        job = job_fail(job_id=job_id, reason="The job's worker stopped responding; it was failed and refunded")
        if job is not None:
            reaped.append(str(job_id))
            if pid:
                from apps.jobs.executor.supervisor import kill_executor

                kill_executor(job_id=str(job_id), pid=pid, host=host)
    return reaped
