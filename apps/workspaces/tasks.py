"""Celery tasks of code sessions: thin, idempotent, safe to run twice."""

from celery import shared_task

from apps.workspaces import services


@shared_task(acks_late=True, time_limit=300, soft_time_limit=280)
def stop_idle_sessions() -> int:
    """Periodic, via beat: stop sandboxes idle past ``SESSION_IDLE_TIMEOUT_MINUTES``, then reconcile.

    Returns how many idle sandboxes were stopped.
    """
    stopped = len(services.sessions_stop_idle())
    services.sessions_reconcile()
    return stopped
