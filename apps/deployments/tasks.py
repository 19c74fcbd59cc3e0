"""Thin Celery tasks: take ids, load, call a service. Idempotent, acks_late, with time limits."""

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from apps.deployments.models import Deployment
from apps.deployments.services.deployments import deployment_execute, deployment_fail
from apps.deployments.services.maintenance import deployments_reconcile, deployments_scale_idle

# Starting and the health wait, plus the drain before the old revision is retired.
EXECUTE_TIME_LIMIT = settings.DEPLOY_HEALTH_TIMEOUT_SECONDS + 120


@shared_task(acks_late=True, time_limit=EXECUTE_TIME_LIMIT + 60, soft_time_limit=EXECUTE_TIME_LIMIT)
def execute_deployment(deployment_id: int) -> str | None:
    """Start a ``deploying`` revision and switch traffic to it; returns the resulting status.

    Running twice is harmless: only a revision still in ``deploying`` is touched.
    """
    deployment = Deployment.objects.filter(pk=deployment_id).first()
    if deployment is None:
        return None
    try:
        return deployment_execute(deployment=deployment).status
    except SoftTimeLimitExceeded:
        return deployment_fail(deployment_id=deployment_id, message="The deployment timed out").status


@shared_task(acks_late=True, time_limit=300, soft_time_limit=240)
def scale_idle_deployments() -> dict:
    """Scale idle ``min_instances: 0`` apps to zero (periodic, through beat)."""
    return deployments_scale_idle().as_dict()


@shared_task(acks_late=True, time_limit=600, soft_time_limit=540)
def reconcile_deployments() -> dict:
    """Restart or fail deployed apps whose instances vanished; stop orphans (periodic, through beat)."""
    return deployments_reconcile().as_dict()
