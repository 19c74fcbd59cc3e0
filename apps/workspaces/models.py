"""Code sessions (002): a named workspace folder and, while someone uses its terminal, a sandbox."""

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.core.errors import ErrorCode, HangarError
from apps.runtime.workspaces import workspace_dir

WORKSPACE_KIND = "session"


class IllegalTransition(HangarError):
    """A workload state change the state machine does not allow; never applied silently."""

    def __init__(self, current: str, target: str) -> None:
        super().__init__(
            f"A session's sandbox cannot go from '{current}' to '{target}'",
            error_code=ErrorCode.CONFLICT,
            status_code=409,
        )
        self.current = current
        self.target = target


class WorkloadState(models.TextChoices):
    """The session's sandbox: none yet, being started, usable, stopped, or failed."""

    IDLE = "idle"
    STARTING = "starting"
    READY = "ready"
    STOPPED = "stopped"
    ERROR = "error"


# Every allowed move in one place. A stopped or failed sandbox may be started again, because
# the workspace outlives it; any state may fail.
TRANSITIONS: dict[str, frozenset[str]] = {
    WorkloadState.IDLE: frozenset({WorkloadState.STARTING, WorkloadState.ERROR}),
    WorkloadState.STARTING: frozenset({WorkloadState.READY, WorkloadState.STOPPED, WorkloadState.ERROR}),
    WorkloadState.READY: frozenset({WorkloadState.STOPPED, WorkloadState.ERROR}),
    WorkloadState.STOPPED: frozenset({WorkloadState.STARTING, WorkloadState.ERROR}),
    WorkloadState.ERROR: frozenset({WorkloadState.STARTING, WorkloadState.STOPPED, WorkloadState.ERROR}),
}

# States in which a sandbox may exist and must be stopped on shutdown or idleness.
LIVE_STATES = (WorkloadState.STARTING, WorkloadState.READY)


# Every session workload id starts with this, so reconciliation can tell ours from others'.
WORKLOAD_PREFIX = "ses-"


def _workload_id_for(session_id: uuid.UUID) -> str:
    return f"{WORKLOAD_PREFIX}{session_id.hex}"


class CodeSession(models.Model):
    """One user's code session: its workspace files live on disk, its sandbox in the runtime."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="code_sessions")
    name = models.CharField(max_length=200)
    # 002 keeps ``code`` as a legacy field that is always an empty string for new sessions.
    code = models.TextField(blank=True, default="")
    language = models.CharField(max_length=32, default="python")
    is_active = models.BooleanField(default=True)
    workload_state = models.CharField(max_length=16, choices=WorkloadState.choices, default=WorkloadState.IDLE)
    workload_reason = models.CharField(max_length=500, blank=True, default="")
    workload_id = models.CharField(max_length=64, unique=True, editable=False)
    # JSON state from the backend's ``start``, kept so a restarted platform can reattach.
    workload_data = models.JSONField(default=dict, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True, db_index=True)
    state_changed_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [models.Index(fields=["owner", "-created_at"]), models.Index(fields=["workload_state"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"

    def save(self, *args, **kwargs) -> None:
        if not self.workload_id:
            self.workload_id = _workload_id_for(self.id)
        super().save(*args, **kwargs)

    @property
    def workspace_path(self) -> Path:
        """The host folder mounted at ``/workspace`` in the sandbox (created on first use)."""
        return workspace_dir(WORKSPACE_KIND, str(self.id))

    @property
    def is_live(self) -> bool:
        """True while a sandbox may be running for this session."""
        return self.workload_state in LIVE_STATES

    def can_transition(self, target: str) -> bool:
        """Whether the state machine allows moving to ``target`` now."""
        return target in TRANSITIONS[self.workload_state]

    def transition(self, target: str, *, reason: str = "") -> None:
        """Move to ``target`` (unsaved), or raise :class:`IllegalTransition`."""
        if not self.can_transition(target):
            raise IllegalTransition(self.workload_state, target)
        self.workload_state = target
        self.workload_reason = reason
        self.state_changed_at = timezone.now()
