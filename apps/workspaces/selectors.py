"""Reads of code sessions and their workspaces, always scoped to the caller.

002 "authenticates" by a ``user_id`` parameter. Hangar authenticates by token instead and keeps
``user_id`` as a filter that must name the caller; only admins may name someone else. A session
outside that scope is a 404, never a 403 that would confirm it exists.
"""

import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from apps.core.errors import ErrorCode, HangarError, NotFound
from apps.runtime import registry
from apps.runtime.errors import RuntimeBackendError
from apps.runtime.spec import Phase
from apps.workspaces import files
from apps.workspaces.models import CodeSession, WorkloadState

SESSION_NOT_FOUND = "Session not found"


def _parse_user_id(raw: Any) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise HangarError(
            "user_id must be an integer",
            error_code=ErrorCode.VALIDATION_ERROR,
            status_code=400,
        ) from None
    if value < 1:
        raise HangarError("user_id must be a positive integer", error_code=ErrorCode.VALIDATION_ERROR, status_code=400)
    return value


def owner_id_for(*, user: Any, user_id: Any = None) -> int:
    """The owner whose sessions the caller acts on: itself, or for admins any ``user_id``.

    A ``user_id`` naming someone else is a 403 for non-admins: the caller asked, in the open,
    to act as another user, so refusing confirms nothing about any session.
    """
    if user_id in (None, ""):
        return user.pk
    wanted = _parse_user_id(user_id)
    if wanted != user.pk and not user.is_hangar_admin:
        raise HangarError(
            "Access denied: user_id must be your own user id",
            error_code=ErrorCode.FORBIDDEN,
            status_code=403,
        )
    return wanted


def session_owner_get(*, user: Any, user_id: Any = None) -> Any:
    """The user a new session belongs to: the caller, or for an admin an active ``user_id`` (else 404)."""
    owner_id = owner_id_for(user=user, user_id=user_id)
    if owner_id == user.pk:
        return user
    owner = get_user_model().objects.filter(pk=owner_id, is_active=True).first()
    if owner is None:
        raise NotFound("User not found")
    return owner


def session_list(*, user: Any, user_id: Any = None) -> QuerySet[CodeSession]:
    """The sessions of the caller (or, for an admin, of ``user_id``), newest first."""
    return CodeSession.objects.filter(owner_id=owner_id_for(user=user, user_id=user_id)).order_by("-created_at", "id")


def session_get(*, user: Any, session_id: Any, user_id: Any = None) -> CodeSession:
    """One session the caller may see, else 404 (unknown, malformed and foreign ids alike)."""
    owner_id = owner_id_for(user=user, user_id=user_id)
    try:
        key = session_id if isinstance(session_id, uuid.UUID) else uuid.UUID(str(session_id))
    except (TypeError, ValueError):
        raise NotFound(SESSION_NOT_FOUND) from None
    session = CodeSession.objects.select_related("owner").filter(pk=key, owner_id=owner_id).first()
    if session is None:
        raise NotFound(SESSION_NOT_FOUND)
    return session


def session_files(*, session: CodeSession) -> list[dict]:
    """002's flat listing: every file and folder, each folder before its children."""
    return [item.as_dict() for item in files.list_items(session.workspace_path)]


def session_file_read(*, session: CodeSession, path: str) -> dict:
    """``{"name", "path", "content"}`` of one text file in the workspace."""
    content = files.read_text(session.workspace_path, path, max_bytes=settings.SESSION_FILE_MAX_BYTES)
    return files.file_object(path, content)


def session_container_ready(*, session: CodeSession) -> bool:
    """True when the runtime reports the session's sandbox running (asked only if it should be)."""
    if session.workload_state != WorkloadState.READY:
        return False
    try:
        return registry.get_backend().status(session.workload_id).phase == Phase.RUNNING
    except RuntimeBackendError:
        return False


def session_workspace_status(*, session: CodeSession) -> dict:
    """002's workspace status: ``ready``, ``initializing``, ``empty`` or ``error``.

    The folder is bind-mounted into the sandbox, so the files are always in sync with it.
    """
    count = files.file_count(session.workspace_path)
    if session.workload_state == WorkloadState.ERROR:
        status, message = "error", f"Workspace error: {session.workload_reason or 'the sandbox failed'}"
    elif session.workload_state == WorkloadState.STARTING:
        status, message = "initializing", "Container is being created"
    elif count == 0:
        status, message = "empty", "Workspace has no files"
    else:
        status, message = "ready", "Workspace is ready"
    return {
        "status": status,
        "message": message,
        "initialized": status in ("ready", "empty"),
        "filesystem_synced": True,
        "file_count": count,
        "container_ready": session_container_ready(session=session),
    }
