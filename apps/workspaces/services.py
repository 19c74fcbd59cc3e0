"""Every write to code sessions, their workspaces and their sandboxes.

Sandboxes are started lazily, on the first terminal input, and stopped on shutdown or when idle.
The runtime call itself always happens outside a database transaction (it can take a while on
Kubernetes); the state machine moves are short locked transactions around it.
"""

import contextlib
import logging
import time
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.activity.models import Activity
from apps.activity.services import activity_record
from apps.core.errors import ErrorCode, HangarError
from apps.runtime import registry
from apps.runtime.errors import RuntimeBackendError, WorkloadNotFound
from apps.runtime.spec import NetworkPolicy, Phase, WorkloadSpec, WorkloadStatus
from apps.runtime.workspaces import confined_path, storage_bytes
from apps.workspaces import files
from apps.workspaces.models import LIVE_STATES, WORKLOAD_PREFIX, CodeSession, WorkloadState

logger = logging.getLogger(__name__)

DEFAULT_SCRIPT = "script.py"
DEFAULT_MAIN = "main.py"
WELCOME_CODE = "# Welcome to your coding session!\nprint('Hello, World!')\n"

# Execution limits in the spirit of Judge0: no network, small memory and process budgets, and
# a capped terminal output rate so a print loop cannot flood the socket.
SESSION_IMAGE = "python:3.11-slim"
SESSION_CPU = 0.5
SESSION_MEMORY_BYTES = 256 * 1024**2
SESSION_PIDS = 64
SESSION_OUTPUT_RATE = 64 * 1024
# A start claimed longer ago than this is presumed dead (its process crashed) and is retried.
START_TIMEOUT_SECONDS = 120
_WAIT_STEP_SECONDS = 0.2


class SessionStartFailed(HangarError):
    """The runtime refused or failed to start the session's sandbox; the message is the user's."""

    def __init__(self, detail: str, *, error_code: str = "RUNTIME_ERROR") -> None:
        super().__init__(detail, error_code=error_code, status_code=503)


def _payload_too_large(detail: str) -> HangarError:
    return HangarError(detail, error_code=ErrorCode.PAYLOAD_TOO_LARGE, status_code=413)


# --- Sessions -----------------------------------------------------------------------------------


@transaction.atomic
def session_create(*, owner: Any, name: str, language: str = "python", actor: Any = None) -> CodeSession:
    """Create a session and its workspace with the default ``script.py``."""
    session = CodeSession(owner=owner, name=name, language=language)
    session.save()
    # Written inside the transaction so a failed write rolls the session back with it.
    files.write_text(session.workspace_path, DEFAULT_SCRIPT, WELCOME_CODE)
    metadata: dict[str, Any] = {"session_id": str(session.id)}
    if actor is not None and actor.pk != owner.pk:
        metadata["actor_id"] = actor.pk
    activity_record(user=owner, action="session_created", details=f"Code session '{name}' created", metadata=metadata)
    return session


# --- Workspace files ----------------------------------------------------------------------------


def _check_quota(session: CodeSession, path: str, size: int) -> None:
    if size > settings.SESSION_FILE_MAX_BYTES:
        raise _payload_too_large(f"File content is larger than the {settings.SESSION_FILE_MAX_BYTES} byte limit")
    quota = session.owner.tier_limits["storage_quota_bytes"]
    root = session.workspace_path
    used = storage_bytes(root)
    try:
        # Replacing a file frees its current size.
        current = confined_path(root, path)
        used -= current.stat().st_size if current.is_file() else 0
    except OSError:
        pass
    if used + size > quota:
        raise _payload_too_large(f"The workspace would exceed its storage quota of {quota} bytes")


def session_file_write(*, session: CodeSession, path: str, content: str) -> tuple[bool, dict]:
    """Create or replace a text file (creating its folders); returns (created, file object)."""
    _check_quota(session, path, len(content.encode("utf-8")))
    created = files.write_text(session.workspace_path, path, content)
    return created, files.file_object(path, content)


def session_file_delete(*, session: CodeSession, path: str) -> str:
    """Delete a file or folder (a symlink is removed as a link); returns ``file`` or ``folder``."""
    return files.delete(session.workspace_path, path)


def session_file_touch(*, session: CodeSession, path: str) -> bool:
    """Create an empty file unless it exists; True if it was created."""
    _check_quota(session, path, 0)
    return files.touch(session.workspace_path, path)


def session_ensure_default(*, session: CodeSession) -> dict | None:
    """Create ``main.py`` with the welcome code when the workspace holds no file; its file object."""
    if files.file_count(session.workspace_path) > 0:
        return None
    _, body = session_file_write(session=session, path=DEFAULT_MAIN, content=WELCOME_CODE)
    return body


# --- The sandbox --------------------------------------------------------------------------------


def session_spec(session: CodeSession) -> WorkloadSpec:
    """The workload that runs a session: its workspace at /workspace, under the session limits."""
    return WorkloadSpec(
        id=session.workload_id,
        owner_id=session.owner_id,
        kind="session",
        image=SESSION_IMAGE,
        workspace=str(session.workspace_path),
        cpu=SESSION_CPU,
        memory_bytes=SESSION_MEMORY_BYTES,
        pids=SESSION_PIDS,
        disk_bytes=session.owner.tier_limits["storage_quota_bytes"],
        network=NetworkPolicy.NONE,
        output_rate=SESSION_OUTPUT_RATE,
    )


def _runtime_status(session: CodeSession) -> WorkloadStatus:
    try:
        return registry.get_backend().status(session.workload_id)
    except RuntimeBackendError as exc:
        return WorkloadStatus(phase=Phase.ERROR, reason=exc.user_message)


def _record_vanished(session: CodeSession, status: WorkloadStatus) -> bool:
    """Mark a sandbox recorded as ready but no longer running; True if this call marked it."""
    failed = status.phase == Phase.ERROR
    target = WorkloadState.ERROR if failed else WorkloadState.STOPPED
    reason = status.reason or "The sandbox was gone"
    if not _mark(session.id, target, reason=reason, only_from=(WorkloadState.READY,)):
        return False
    activity_record(
        user=session.owner,
        action="session_stopped",
        details=f"Code session '{session.name}' sandbox ended: {reason}",
        status=Activity.Status.FAILURE if failed else Activity.Status.SUCCESS,
        metadata={"session_id": str(session.id), "reason": reason},
    )
    return True


def _claim_start(session_id: uuid.UUID) -> tuple[CodeSession, str | None]:
    """Move the session to ``starting`` unless it is ready or someone else is starting it.

    Returns the session and, when this caller claimed the start, the state it left.
    """
    with transaction.atomic():
        session = CodeSession.objects.select_for_update().select_related("owner").get(pk=session_id)
        state = session.workload_state
        if state == WorkloadState.READY:
            return session, None
        if state == WorkloadState.STARTING:
            age = (timezone.now() - session.state_changed_at).total_seconds()
            if age < START_TIMEOUT_SECONDS:
                return session, None
            session.transition(WorkloadState.ERROR, reason="The sandbox did not start in time")
        session.transition(WorkloadState.STARTING)
        session.save(update_fields=["workload_state", "workload_reason", "state_changed_at", "updated_at"])
        return session, state


def _mark(session_id: uuid.UUID, target: str, *, reason: str = "", only_from: tuple[str, ...] = ()) -> bool:
    """Move to ``target`` if the session is still in one of ``only_from``; True if it moved."""
    with transaction.atomic():
        session = CodeSession.objects.select_for_update().get(pk=session_id)
        if only_from and session.workload_state not in only_from:
            return False
        session.transition(target, reason=reason)
        session.save(update_fields=["workload_state", "workload_reason", "state_changed_at", "updated_at"])
        return True


def _start_claimed(session: CodeSession, previous: str) -> CodeSession:
    backend = registry.get_backend()
    try:
        if previous != WorkloadState.IDLE:
            # A failed or vanished start may have left something behind under the same id.
            with contextlib.suppress(WorkloadNotFound):
                backend.stop(session.workload_id)
        backend.check_image(SESSION_IMAGE)
        state = backend.start(session_spec(session))
    except RuntimeBackendError as exc:
        logger.warning("Session %s failed to start: %s", session.id, exc.detail)
        _mark(session.id, WorkloadState.ERROR, reason=exc.user_message)
        activity_record(
            user=session.owner,
            action="session_start_failed",
            details=exc.user_message,
            status=Activity.Status.FAILURE,
            metadata={"session_id": str(session.id)},
        )
        raise SessionStartFailed(exc.user_message, error_code=exc.code) from None
    with transaction.atomic():
        current = CodeSession.objects.select_for_update().select_related("owner").get(pk=session.id)
        still_wanted = current.workload_state == WorkloadState.STARTING
        if still_wanted:
            current.transition(WorkloadState.READY)
            current.workload_data = state
            current.last_activity_at = timezone.now()
            current.save()
            activity_record(
                user=current.owner,
                action="session_started",
                details=f"Code session '{current.name}' sandbox started",
                metadata={"session_id": str(current.id), "workload_id": current.workload_id},
            )
    if not still_wanted:
        # Shut down while we were starting it: do not leave an unseen sandbox behind.
        backend.stop(session.workload_id)
        raise SessionStartFailed("The session was shut down while it was starting")
    return current


def session_workload_start(*, session_id: uuid.UUID, timeout: float = START_TIMEOUT_SECONDS) -> CodeSession:
    """Make sure the session's sandbox runs, starting it if needed; returns the ready session.

    Safe to call from several sockets or processes at once: one claims the start, the others
    wait for it. A sandbox recorded as ready but gone from the runtime is started again.
    """
    deadline = time.monotonic() + timeout
    while True:
        session, previous = _claim_start(session_id)
        if previous is not None:
            return _start_claimed(session, previous)
        if session.workload_state == WorkloadState.READY:
            status = _runtime_status(session)
            if status.phase == Phase.RUNNING:
                return session
            _record_vanished(session, status)
            continue
        if time.monotonic() > deadline:
            raise SessionStartFailed("The sandbox is still starting; try again shortly")
        time.sleep(_WAIT_STEP_SECONDS)


def session_workload_stop(*, session: CodeSession, reason: str = "", actor: Any = None) -> bool:
    """Stop the session's sandbox if it may be running; True if there was one to stop."""
    session.refresh_from_db()
    if not session.is_live:
        return False
    try:
        registry.get_backend().stop(session.workload_id)
    except WorkloadNotFound:
        pass  # already gone, which is all that stop promises
    except RuntimeBackendError as exc:
        logger.warning("Session %s failed to stop: %s", session.id, exc.detail)
        _mark(session.id, WorkloadState.ERROR, reason=exc.user_message)
        raise SessionStartFailed(exc.user_message, error_code=exc.code) from None
    if _mark(session.id, WorkloadState.STOPPED, reason=reason, only_from=LIVE_STATES):
        metadata: dict[str, Any] = {"session_id": str(session.id), "reason": reason}
        if actor is not None and actor.pk != session.owner_id:
            metadata["actor_id"] = actor.pk
        activity_record(
            user=session.owner,
            action="session_stopped",
            details=f"Code session '{session.name}' sandbox stopped" + (f": {reason}" if reason else ""),
            metadata=metadata,
        )
    session.refresh_from_db()
    return True


def session_activity_touch(*, session_id: uuid.UUID) -> None:
    """Record terminal activity, which postpones the idle shutdown."""
    CodeSession.objects.filter(pk=session_id).update(last_activity_at=timezone.now())


def sessions_stop_idle(*, now: Any = None) -> list[uuid.UUID]:
    """Stop every live sandbox idle for longer than ``SESSION_IDLE_TIMEOUT_MINUTES``."""
    cutoff = (now or timezone.now()) - timedelta(minutes=settings.SESSION_IDLE_TIMEOUT_MINUTES)
    idle = CodeSession.objects.filter(workload_state__in=LIVE_STATES).filter(
        Q(last_activity_at__lt=cutoff) | Q(last_activity_at__isnull=True, state_changed_at__lt=cutoff)
    )
    stopped = []
    for session in idle.select_related("owner"):
        try:
            if session_workload_stop(session=session, reason="idle"):
                stopped.append(session.id)
        except HangarError:
            logger.exception("Could not stop idle session %s", session.id)
    return stopped


def sessions_reconcile() -> dict[str, int]:
    """Converge the database and the runtime for code sessions.

    Ready sessions whose sandbox vanished are marked stopped (or error, e.g. ``OOMKilled``) with
    the runtime's reason; session sandboxes the database does not consider live are stopped.
    """
    vanished = 0
    for session in CodeSession.objects.filter(workload_state=WorkloadState.READY).select_related("owner"):
        status = _runtime_status(session)
        if status.phase != Phase.RUNNING and _record_vanished(session, status):
            vanished += 1
    backend = registry.get_backend()
    try:
        running = [w for w in backend.list_workloads() if w.startswith(WORKLOAD_PREFIX)]
    except RuntimeBackendError:
        logger.exception("Could not list the runtime's workloads")
        running = []
    live = set(
        CodeSession.objects.filter(workload_id__in=running, workload_state__in=LIVE_STATES).values_list(
            "workload_id", flat=True
        )
    )
    orphans = 0
    for workload_id in running:
        if workload_id in live:
            continue
        # Re-check: a start may have been claimed since the listing.
        if CodeSession.objects.filter(workload_id=workload_id, workload_state__in=LIVE_STATES).exists():
            continue
        try:
            backend.stop(workload_id)
            orphans += 1
        except RuntimeBackendError:
            logger.exception("Could not stop orphaned session sandbox %s", workload_id)
    return {"vanished": vanished, "orphans": orphans}
