"""Periodic upkeep of deployments, run by beat.

- **Idle scale to zero.** Request times (kept in the cache by the proxy) are flushed to
  ``last_request_at``; a ``min_instances: 0`` app idle for ``DEPLOYMENT_IDLE_SECONDS`` is scaled to
  zero, staying ``deployed`` until a request wakes it.
- **Reconcile.** A deployed app whose instances vanished (the host restarted, the app crashed or
  ran out of memory) is started again; one that does not come back is marked ``failed`` with the
  reason and its log. Workloads of no live revision are stopped, and nothing stays ``deploying``
  past the health timeout plus a margin. Every change lands in the activity log.
"""

import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.deployments.deployers import DeployFailed, get_deployer
from apps.deployments.deployers.local import WORKLOAD_PREFIX
from apps.deployments.models import Deployment
from apps.deployments.proxy import routes
from apps.deployments.services.deployments import deployment_fail, lock_deployment, record
from apps.deployments.services.scaling import deployment_sleep
from apps.runtime import registry
from apps.runtime.errors import RuntimeBackendError

logger = logging.getLogger(__name__)
Status = Deployment.Status
# A deploy's task gets the health timeout; past this margin on top, it is failed as stuck.
STUCK_MARGIN_SECONDS = 300
DRAIN_GRACE_SECONDS = 30


@dataclass
class MaintenanceReport:
    """What one pass changed, by deployment id (or workload id for orphans)."""

    scaled_to_zero: list[int] = field(default_factory=list)
    restarted: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    stuck_failed: list[int] = field(default_factory=list)
    orphans_stopped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        """JSON-safe, for the task result."""
        return asdict(self)


def deployments_scale_idle(*, now: datetime | None = None) -> MaintenanceReport:
    """Flush request times to the database and scale idle ``min_instances: 0`` apps to zero."""
    report = MaintenanceReport()
    now = now or timezone.now()
    idle_after = timedelta(seconds=settings.DEPLOYMENT_IDLE_SECONDS)
    running = Deployment.objects.filter(status=Status.DEPLOYED, instances__gt=0)
    for deployment in running:
        seen = routes.last_request(deployment.service_name)
        if seen is not None:
            moment = datetime.fromtimestamp(seen, UTC)
            if deployment.last_request_at is None or moment > deployment.last_request_at:
                deployment.last_request_at = moment
                Deployment.objects.filter(pk=deployment.pk).update(last_request_at=moment)
        if deployment.min_instances > 0 or get_deployer(deployment.deployer).scales_itself:
            continue
        last = deployment.last_request_at or deployment.deployed_at or deployment.created_at
        if now - last > idle_after:
            deployment_sleep(deployment_id=deployment.pk, reason=f"no request for {settings.DEPLOYMENT_IDLE_SECONDS} s")
            report.scaled_to_zero.append(deployment.pk)
    return report


def deployments_reconcile(*, now: datetime | None = None) -> MaintenanceReport:
    """One reconcile pass; each deployment is handled on its own, so one failure cannot stop the rest."""
    report = MaintenanceReport()
    now = now or timezone.now()
    for deployment_id in Deployment.objects.filter(status=Status.DEPLOYED, instances__gt=0).values_list(
        "pk", flat=True
    ):
        try:
            _check_deployed(deployment_id, report)
        except Exception:
            logger.exception("Reconciling deployment %s failed", deployment_id)
    deadline = now - timedelta(seconds=settings.DEPLOY_HEALTH_TIMEOUT_SECONDS + STUCK_MARGIN_SECONDS)
    for deployment_id in Deployment.objects.filter(status=Status.DEPLOYING, created_at__lt=deadline).values_list(
        "pk", flat=True
    ):
        deployment_fail(deployment_id=deployment_id, message="The deployment did not finish in time")
        report.stuck_failed.append(deployment_id)
    _stop_orphans(report)
    return report


def _check_deployed(deployment_id: int, report: MaintenanceReport) -> None:
    deployment = Deployment.objects.select_related("build", "owner", "notebook").get(pk=deployment_id)
    deployer = get_deployer(deployment.deployer)
    running, reason = deployer.is_running(deployment)
    if running:
        return
    record(deployment, "deployment_vanished", f"{deployment.service_name}: instances gone ({reason}); restarting")
    try:
        revision = deployer.start(deployment)
    except DeployFailed as exc:
        deployment_fail(
            deployment_id=deployment_id,
            message=f"The app stopped ({reason}) and did not start again: {exc.error_message()}",
        )
        report.failed.append(deployment_id)
        return
    with transaction.atomic():
        current = lock_deployment(deployment_id)
        if current.status != Status.DEPLOYED:
            deployer.stop(current)
            return
        current.instances = 1
        current.runtime_state = {**revision.state, "target": revision.target}
        current.save(update_fields=["instances", "runtime_state", "updated_at"])
        record(current, "deployment_restarted", f"{current.service_name} restarted after: {reason}")
        transaction.on_commit(lambda: routes.publish(current.service_name))
    report.restarted.append(deployment_id)


def _stop_orphans(report: MaintenanceReport) -> None:
    """Stop local deployment workloads whose revision is not deployed (or is asleep)."""
    backend = registry.get_backend()
    try:
        workload_ids = [wid for wid in backend.list_workloads() if str(wid).startswith(WORKLOAD_PREFIX)]
    except RuntimeBackendError:
        logger.warning("Could not list workloads; orphans wait for the next pass", exc_info=True)
        return
    # Superseded revisions keep serving through the drain window; they are retired by their deploy.
    draining = Q(status=Status.STOPPED, stopped_at__gt=timezone.now() - timedelta(seconds=DRAIN_GRACE_SECONDS))
    live = Deployment.objects.filter(Q(status__in=(Status.DEPLOYING, Status.DEPLOYED)) | draining, deployer="local")
    wanted = {f"{WORKLOAD_PREFIX}{pk}" for pk in live.values_list("pk", flat=True)}
    for workload_id in workload_ids:
        if workload_id not in wanted:
            try:
                backend.stop(workload_id)
                report.orphans_stopped.append(workload_id)
            except RuntimeBackendError:
                logger.warning("Could not stop orphan %s", workload_id, exc_info=True)
