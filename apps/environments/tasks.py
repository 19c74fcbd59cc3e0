"""Thin Celery tasks: take ids, load, call a service. Idempotent, acks_late, with time limits."""

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from apps.environments.services.environments import environment_fail, environment_provision
from apps.environments.services.reconcile import environments_reconcile

# The whole provisioning (sandbox start plus every startup command) must end within this.
PROVISION_TIME_LIMIT = settings.ENVIRONMENT_PROVISION_TIMEOUT_SECONDS


@shared_task(acks_late=True, time_limit=PROVISION_TIME_LIMIT + 60, soft_time_limit=PROVISION_TIME_LIMIT)
def provision_environment(environment_id: str) -> str | None:
    """Start an environment's sandbox and run its installation; returns the resulting status.

    Running twice is harmless: only an environment in creating or installing is touched.
    """
    try:
        environment = environment_provision(environment_id=environment_id)
    except SoftTimeLimitExceeded:
        environment = environment_fail(environment_id=environment_id, reason="Provisioning timed out")
    return environment.status if environment is not None else None


@shared_task(acks_late=True, time_limit=300, soft_time_limit=240)
def reconcile_environments() -> dict[str, list[str]]:
    """Converge environments with the runtime (periodic, through beat)."""
    return environments_reconcile().as_dict()
