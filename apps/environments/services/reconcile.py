"""Converge the database (what should run) with the runtime (what runs), run periodically by beat.

- a running environment whose workload vanished or died becomes stopped, or error with the
  backend's reason (e.g. ``OOMKilled``);
- a workload with no live environment (an orphan) is stopped;
- a running environment past its owner's tier ``max_uptime_minutes`` or idle longer than
  ``ENVIRONMENT_IDLE_TIMEOUT_MINUTES`` is stopped, when the tier has ``auto_shutdown_enabled``;
- nothing stays in creating or installing longer than ``ENVIRONMENT_PROVISION_TIMEOUT_SECONDS``.

Every change goes through the state machine, so each lands in the activity log.
"""

import logging
from dataclasses import asdict, dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.environments.models import Environment
from apps.environments.services.environments import (
    lock_environment,
    move_environment,
    stop_locked_environment,
    stop_workload_quietly,
)
from apps.runtime import registry
from apps.runtime.errors import RuntimeBackendError, WorkloadNotFound
from apps.runtime.spec import Phase

logger = logging.getLogger(__name__)

Status = Environment.Status
# Other kinds of workload (code sessions, deployments, builds) share the backend; only these are ours.
ENVIRONMENT_WORKLOAD_PREFIX = "env-"

STOP_REASON_MAX_UPTIME = "max_uptime_exceeded"
STOP_REASON_IDLE = "idle_timeout"
STOP_REASON_VANISHED = "workload_vanished"


@dataclass
class ReconcileReport:
    """What one pass changed, by environment or workload id."""

    vanished: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    orphans_stopped: list[str] = field(default_factory=list)
    max_uptime_stopped: list[str] = field(default_factory=list)
    idle_stopped: list[str] = field(default_factory=list)
    stuck_failed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        """JSON-safe, for the task result."""
        return asdict(self)


def environments_reconcile() -> ReconcileReport:
    """One reconciliation pass; each environment is handled on its own, so one failure does not
    stop the rest."""
    report = ReconcileReport()
    backend = registry.get_backend()
    now = timezone.now()

    for environment_id in Environment.objects.filter(status=Status.RUNNING).values_list("pk", flat=True):
        try:
            _check_running(environment_id, report, backend=backend, now=now)
        except Exception:
            logger.exception("Reconciling environment %s failed", environment_id)

    provision_deadline = now - timedelta(seconds=settings.ENVIRONMENT_PROVISION_TIMEOUT_SECONDS)
    stuck = Environment.objects.filter(
        status__in=(Status.CREATING, Status.INSTALLING), status_changed_at__lt=provision_deadline
    ).values_list("pk", flat=True)
    for environment_id in stuck:
        _fail_stuck(environment_id, report)

    try:
        workload_ids = backend.list_workloads()
    except RuntimeBackendError:
        logger.warning("Could not list workloads; orphans are left for the next pass", exc_info=True)
        workload_ids = []
    ours = [wid for wid in workload_ids if str(wid).startswith(ENVIRONMENT_WORKLOAD_PREFIX)]
    live = set(
        Environment.objects.filter(pk__in=ours, status__in=Environment.LIVE_STATUSES).values_list("pk", flat=True)
    )
    for workload_id in ours:
        if workload_id not in live:
            stop_workload_quietly(workload_id)
            report.orphans_stopped.append(workload_id)
            logger.info("Stopped orphan workload %s", workload_id)
    return report


@transaction.atomic
def _check_running(environment_id: str, report: ReconcileReport, *, backend, now) -> None:
    environment = lock_environment(environment_id)
    if environment is None or environment.status != Status.RUNNING:
        return
    try:
        observed = backend.status(environment.id)
        phase, reason = observed.phase, observed.reason
    except WorkloadNotFound:
        phase, reason = Phase.STOPPED, ""
    if phase == Phase.ERROR:
        stop_workload_quietly(environment.id)
        move_environment(environment, Status.ERROR, reason=reason or "Workload failed", stop_reason=reason or "error")
        report.failed.append(environment.id)
        return
    if phase == Phase.STOPPED:
        # The workload is gone (a host restart, or it exited): say so with the backend's reason.
        stop_workload_quietly(environment.id)
        stop_reason = reason or STOP_REASON_VANISHED
        move_environment(environment, Status.STOPPED, reason=stop_reason, stop_reason=stop_reason)
        report.vanished.append(environment.id)
        return

    limits = settings.HANGAR_TIERS.get(environment.owner.tier, {})
    if not limits.get("auto_shutdown_enabled", False):
        return
    max_uptime = int(limits.get("max_uptime_minutes") or 0)
    if max_uptime > 0 and environment.started_at and now - environment.started_at > timedelta(minutes=max_uptime):
        stop_locked_environment(environment, reason=STOP_REASON_MAX_UPTIME)
        report.max_uptime_stopped.append(environment.id)
        return
    idle_minutes = settings.ENVIRONMENT_IDLE_TIMEOUT_MINUTES
    last_seen = environment.last_activity or environment.started_at
    # A backend may also know when a terminal was last used (typing through any process counts).
    terminal_seen = getattr(backend, "last_activity", lambda _id: None)(environment.id)
    if terminal_seen is not None and (last_seen is None or terminal_seen > last_seen):
        last_seen = terminal_seen
    if idle_minutes > 0 and last_seen and now - last_seen > timedelta(minutes=idle_minutes):
        stop_locked_environment(environment, reason=STOP_REASON_IDLE)
        report.idle_stopped.append(environment.id)


@transaction.atomic
def _fail_stuck(environment_id: str, report: ReconcileReport) -> None:
    environment = lock_environment(environment_id)
    if environment is None or environment.status not in (Status.CREATING, Status.INSTALLING):
        return
    stop_workload_quietly(environment.id)
    seconds = settings.ENVIRONMENT_PROVISION_TIMEOUT_SECONDS
    move_environment(
        environment, Status.ERROR, reason=f"Provisioning timed out after {seconds} s in {environment.status}"
    )
    report.stuck_failed.append(environment.id)
