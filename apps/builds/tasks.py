"""Thin Celery tasks: take ids, load, call a service. Idempotent, acks_late, with time limits."""

from celery import shared_task
from django.conf import settings

from apps.builds.models import Build
from apps.builds.services import build_execute, builds_fail_stuck

# The builder enforces BUILD_TIMEOUT_SECONDS itself; these limits only catch a builder that hangs.
_LIMIT = settings.BUILD_TIMEOUT_SECONDS


@shared_task(acks_late=True, time_limit=_LIMIT + 120, soft_time_limit=_LIMIT + 60)
def run_build(build_pk: int) -> str | None:
    """Run a queued build to the end; returns its final status. A build not queued is left alone."""
    build = Build.objects.filter(pk=build_pk).first()
    if build is None:
        return None
    return build_execute(build=build).status


@shared_task(acks_late=True, time_limit=300, soft_time_limit=240)
def fail_stuck_builds() -> list[str]:
    """Fail builds queued or building past the time limit (periodic, through beat)."""
    return builds_fail_stuck()
