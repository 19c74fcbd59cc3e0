"""Scale to zero and wake: a ``min_instances: 0`` app idle long enough is stopped but stays
``deployed``; the next request through the proxy starts it again (as Cloud Run does)."""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from apps.deployments.deployers import DeployFailed, get_deployer
from apps.deployments.models import Deployment
from apps.deployments.services.deployments import (
    deployment_fail,
    lock_deployment,
    publish_on_commit,
    record,
    stop_quietly,
)

logger = logging.getLogger(__name__)

Status = Deployment.Status
WAKE_POLL_SECONDS = 0.1


def deployment_sleep(*, deployment_id: int, reason: str = "idle") -> Deployment | None:
    """Scale a deployed revision to zero instances; it stays ``deployed`` and a request wakes it."""
    with transaction.atomic():
        deployment = lock_deployment(deployment_id)
        if deployment is None or deployment.status != Status.DEPLOYED or deployment.instances == 0:
            return deployment
        deployment.instances = 0
        deployment.runtime_state = {**deployment.runtime_state, "target": ""}
        deployment.save(update_fields=["instances", "runtime_state", "updated_at"])
        record(deployment, "deployment_scaled_to_zero", f"{deployment.service_name} scaled to zero ({reason})")
        publish_on_commit(deployment.service_name)
    try:
        get_deployer(deployment.deployer).sleep(deployment)
    except Exception:
        logger.warning("Could not scale %s to zero", deployment.pk, exc_info=True)
    return deployment


def _wake_lock_key(deployment_id: int) -> str:
    return f"deploy:wake:{deployment_id}"


def deployment_wake(*, deployment_id: int) -> str:
    """Start a scaled-to-zero revision and return the target to forward to ("" if it cannot run).

    One process wakes it (a cache lock across processes); the others wait for its result. An app
    that no longer starts is marked ``failed`` with its log.
    """
    timeout = settings.DEPLOY_HEALTH_TIMEOUT_SECONDS + 30
    if not cache.add(_wake_lock_key(deployment_id), 1, timeout):
        return _wait_for_wake(deployment_id, timeout)
    try:
        deployment = Deployment.objects.select_related("build", "owner", "notebook").filter(pk=deployment_id).first()
        if deployment is None or deployment.status != Status.DEPLOYED:
            return ""
        if deployment.instances > 0 and deployment.runtime_state.get("target"):
            return deployment.runtime_state["target"]
        try:
            revision = get_deployer(deployment.deployer).start(deployment)
        except DeployFailed as exc:
            deployment_fail(deployment_id=deployment_id, message=f"The app did not start again: {exc.error_message()}")
            return ""
        with transaction.atomic():
            deployment = lock_deployment(deployment_id)
            if deployment.status != Status.DEPLOYED:
                stop_quietly(deployment)
                return ""
            deployment.instances = 1
            deployment.runtime_state = {**revision.state, "target": revision.target}
            deployment.last_request_at = timezone.now()
            deployment.save(update_fields=["instances", "runtime_state", "last_request_at", "updated_at"])
            record(deployment, "deployment_woken", f"{deployment.service_name} woken by a request")
            publish_on_commit(deployment.service_name)
        return revision.target
    finally:
        cache.delete(_wake_lock_key(deployment_id))


def _wait_for_wake(deployment_id: int, timeout: float) -> str:
    """Another process is waking the app: wait for its result."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # Read the lock before the row: the waker commits the row before it releases the lock.
        waking = cache.get(_wake_lock_key(deployment_id)) is not None
        row = Deployment.objects.filter(pk=deployment_id).values("status", "instances", "runtime_state").first()
        if row is None or row["status"] != Status.DEPLOYED:
            return ""
        if row["instances"] > 0 and (row["runtime_state"] or {}).get("target"):
            return row["runtime_state"]["target"]
        if not waking:
            return ""
        time.sleep(WAKE_POLL_SECONDS)
    return ""
