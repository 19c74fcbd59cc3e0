"""Writes to a user's environment variables (001), encrypted at rest."""

from typing import Any

from django.db import transaction
from django.http import HttpRequest

from apps.activity.services import activity_record
from apps.core.crypto import encrypt_text
from apps.core.errors import HangarError
from apps.environments.models import UserEnvVar
from apps.environments.selectors import user_env_var_get

MAX_VARIABLES_PER_USER = 200


@transaction.atomic
def user_env_var_set(*, user: Any, key: str, value: str, request: HttpRequest | None = None) -> UserEnvVar:
    """Create or replace ``key`` (validated by the caller) with ``value``, encrypted."""
    variable = UserEnvVar.objects.select_for_update().filter(user=user, key=key).first()
    if variable is None:
        if UserEnvVar.objects.filter(user=user).count() >= MAX_VARIABLES_PER_USER:
            raise HangarError(
                f"At most {MAX_VARIABLES_PER_USER} environment variables per user",
                error_code="ENV_VAR_LIMIT_REACHED",
                status_code=403,
            )
        variable = UserEnvVar(user=user, key=key)
    variable.value_encrypted = encrypt_text(value)
    variable.save()
    activity_record(user=user, action="env_var_set", details=f"Set environment variable {key}", request=request)
    return variable


@transaction.atomic
def user_env_var_delete(*, user: Any, key: str, request: HttpRequest | None = None) -> None:
    """Delete ``key``; 404 when the user has no such variable."""
    user_env_var_get(user=user, key=key).delete()
    activity_record(user=user, action="env_var_deleted", details=f"Deleted environment variable {key}", request=request)
