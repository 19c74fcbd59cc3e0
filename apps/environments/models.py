"""Templates, environments, clusters, per-user environment variables and installation logs."""

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.core.errors import ErrorCode, HangarError


def new_environment_id() -> str:
    """An environment id, which is also its runtime workload id (``env-<uuid hex>``)."""
    return f"env-{uuid.uuid4().hex}"


class InvalidTransition(HangarError):
    """An environment was asked to move to a status its current status does not allow: 409."""

    def __init__(self, current: str, target: str, detail: str | None = None) -> None:
        super().__init__(
            detail or f"Environment is {current}; it cannot become {target}",
            error_code=ErrorCode.CONFLICT,
            status_code=409,
        )
        self.current = current
        self.target = target


class Template(models.Model):
    """A recipe for an environment (004's Template Object), plus which runtimes can provide it."""

    class Category(models.TextChoices):
        PROGRAMMING_LANGUAGE = "programming_language"
        FRAMEWORK = "framework"
        DATABASE = "database"
        DEVOPS = "devops"
        OPERATING_SYSTEM = "operating_system"

    class Status(models.TextChoices):
        ACTIVE = "active"
        DEPRECATED = "deprecated"
        BETA = "beta"

    class Network(models.TextChoices):
        NONE = "none"
        EGRESS = "egress"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.SlugField(max_length=64, unique=True)
    display_name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=32, choices=Category.choices, default=Category.PROGRAMMING_LANGUAGE)
    tags = models.JSONField(default=list, blank=True)
    docker_image = models.CharField(max_length=255)
    default_port = models.PositiveIntegerField(default=8080)
    default_resources = models.JSONField(default=dict)
    environment_variables = models.JSONField(default=dict, blank=True)
    startup_commands = models.JSONField(default=list, blank=True)
    documentation_url = models.URLField(max_length=500, blank=True)
    icon_url = models.URLField(max_length=500, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    version = models.CharField(max_length=32, default="1.0.0")
    runtimes = models.JSONField(default=list, blank=True)
    network_policy = models.CharField(max_length=8, choices=Network.choices, default=Network.EGRESS)
    usage_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.display_name or self.name


class Environment(models.Model):
    """A user's long-lived sandbox (001 and 004). Its id is its runtime workload id.

    ``status`` is a state machine; :meth:`transition_to` is the only way to change it.
    """

    class Status(models.TextChoices):
        CREATING = "creating"
        INSTALLING = "installing"
        RUNNING = "running"
        STOPPED = "stopped"
        TERMINATED = "terminated"
        ERROR = "error"

    # Every allowed move, in one place. Any status may also become error or terminated (below),
    # except terminated, which is final. error -> creating is a restart.
    TRANSITIONS: dict[str, set[str]] = {
        Status.CREATING: {Status.INSTALLING, Status.RUNNING},
        Status.INSTALLING: {Status.RUNNING},
        Status.RUNNING: {Status.STOPPED},
        Status.STOPPED: {Status.CREATING, Status.RUNNING},
        Status.ERROR: {Status.CREATING},
        Status.TERMINATED: set(),
    }
    # The statuses in which a workload should exist (or is being brought up).
    LIVE_STATUSES = (Status.CREATING, Status.INSTALLING, Status.RUNNING)

    id = models.CharField(primary_key=True, max_length=40, default=new_environment_id, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="environments")
    template = models.ForeignKey(Template, on_delete=models.PROTECT, related_name="environments")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    application_id = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATING, db_index=True)
    status_reason = models.CharField(max_length=500, blank=True)
    stop_reason = models.CharField(max_length=100, blank=True)
    docker_image = models.CharField(max_length=255)
    port = models.PositiveIntegerField(default=8080)
    resources = models.JSONField(default=dict)
    environment_variables = models.JSONField(default=dict, blank=True)
    installation_completed = models.BooleanField(default=False)
    runtime = models.CharField(max_length=32, default="local")
    runtime_state = models.JSONField(default=dict, blank=True)
    host_port = models.PositiveIntegerField(null=True, blank=True)
    last_activity = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "status"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"

    @classmethod
    def can_transition(cls, current: str, target: str) -> bool:
        """True when ``current -> target`` is allowed."""
        if current == cls.Status.TERMINATED:
            return False
        if target in (cls.Status.ERROR, cls.Status.TERMINATED):
            return True
        return target in cls.TRANSITIONS.get(current, set())

    def transition_to(self, target: str, *, reason: str = "") -> str:
        """Move to ``target`` (not saved), or raise :class:`InvalidTransition` (409).

        Returns the previous status. ``reason`` is kept in ``status_reason``.
        """
        if not self.can_transition(self.status, target):
            raise InvalidTransition(self.status, target)
        previous = self.status
        self.status = target
        self.status_reason = reason
        self.status_changed_at = timezone.now()
        return previous

    @property
    def url(self) -> str | None:
        """Where the template's port is published on the host, while the environment runs."""
        if self.status == self.Status.RUNNING and self.host_port:
            return f"http://127.0.0.1:{self.host_port}"
        return None

    @property
    def pod_name(self) -> str:
        """001's ``pod_name``: the owner and the environment id."""
        return f"user-{self.owner_id}-{self.id}"


class InstallationLogLine(models.Model):
    """One line of an environment's installation output, kept beside the runtime's own logs."""

    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="installation_lines")
    timestamp = models.DateTimeField(default=timezone.now, db_index=True)
    level = models.CharField(max_length=8, default="INFO")
    message = models.TextField()
    source = models.CharField(max_length=20, default="installation")

    class Meta:
        ordering = ["timestamp", "id"]

    def __str__(self) -> str:
        return self.message[:80]

    def as_log(self) -> dict[str, Any]:
        """004's log entry shape."""
        return {
            "timestamp": self.timestamp.isoformat(),
            "level": self.level,
            "message": self.message,
            "source": self.source,
        }


class Cluster(models.Model):
    """A Kubernetes cluster environments can run on (004). The kubeconfig is encrypted at rest."""

    class Provider(models.TextChoices):
        OVH = "ovh"
        GKE = "gke"
        EKS = "eks"
        AKS = "aks"
        DIGITALOCEAN = "digitalocean"
        SELF_HOSTED = "self_hosted"

    class Status(models.TextChoices):
        ACTIVE = "active"
        INACTIVE = "inactive"
        MAINTENANCE = "maintenance"
        ERROR = "error"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    provider = models.CharField(max_length=20, choices=Provider.choices, default=Provider.OVH)
    region = models.CharField(max_length=64)
    kubeconfig_encrypted = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    node_count = models.PositiveIntegerField(default=1)
    last_health_check = models.DateTimeField(null=True, blank=True)
    last_health_status = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserEnvVar(models.Model):
    """One of a user's environment variables (001), injected into every environment at start."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="env_vars")
    key = models.CharField(max_length=128)
    value_encrypted = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="user_env_var_unique_key")]
        verbose_name = "user environment variable"

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
