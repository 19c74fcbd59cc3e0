"""Celery tasks of the accounts app: thin, idempotent, by id."""

from celery import shared_task
from django.core.management import call_command

from apps.accounts.models import User
from apps.accounts.services import email_verification_deliver


@shared_task(
    acks_late=True, time_limit=60, soft_time_limit=50, autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def send_verification_email(user_id: int) -> bool:
    """Email the verification link, unless the user is gone or already verified."""
    user = User.objects.filter(pk=user_id, is_verified=False).first()
    if user is None:
        return False
    email_verification_deliver(user=user)
    return True


@shared_task(acks_late=True, time_limit=300, soft_time_limit=280)
def flush_expired_tokens() -> None:
    """Drop expired outstanding and blacklisted refresh tokens (periodic, through beat)."""
    call_command("flushexpiredtokens")
