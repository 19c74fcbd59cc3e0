"""Deployments of built notebooks, one-click pipelines, repository links and webhook deliveries."""

from django.conf import settings
from django.db import models

from apps.core.state import StatusMachine


class Deployment(StatusMachine, models.Model):
    """A running revision of a notebook's app (000).

    Redeploying a notebook creates a new ``Deployment`` with the same ``service_name`` and the next
    ``revision``; the proxy routes ``/apps/<service_name>/`` to the newest healthy one.
    """

    class Status(models.TextChoices):
        DEPLOYING = "deploying"
        DEPLOYED = "deployed"
        FAILED = "failed"
        STOPPED = "stopped"

    TRANSITIONS = {
        Status.DEPLOYING: {Status.DEPLOYED, Status.FAILED, Status.STOPPED},
        Status.DEPLOYED: {Status.STOPPED, Status.FAILED},
        Status.FAILED: set(),
        Status.STOPPED: set(),
    }

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deployments")
    notebook = models.ForeignKey("notebooks.Notebook", on_delete=models.CASCADE, related_name="deployments")
    build = models.ForeignKey("builds.Build", on_delete=models.PROTECT, related_name="deployments")
    service_name = models.CharField(max_length=100, db_index=True)
    revision = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DEPLOYING, db_index=True)
    deployer = models.CharField(max_length=32, default="local")
    cpu = models.CharField(max_length=16, default="1")
    memory = models.CharField(max_length=16, default="512Mi")
    min_instances = models.PositiveIntegerField(default=0)
    max_instances = models.PositiveIntegerField(default=10)
    service_url = models.CharField(max_length=500, blank=True)
    # Running instances now: 0 when scaled to zero (min_instances 0 and idle), woken by a request.
    instances = models.PositiveIntegerField(default=0)
    runtime_state = models.JSONField(default=dict, blank=True)
    last_request_at = models.DateTimeField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    deployed_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.service_name} r{self.revision}"


class Pipeline(StatusMachine, models.Model):
    """A one-click deploy: parse, dependencies, upload, build and deploy as Celery work (000)."""

    class Status(models.TextChoices):
        PROCESSING = "processing"
        DEPLOYED = "deployed"
        FAILED = "failed"

    class Step(models.TextChoices):
        PARSE = "parse"
        DEPENDENCIES = "dependencies"
        UPLOAD = "upload"
        BUILD = "build"
        DEPLOY = "deploy"

    STEPS = [Step.PARSE, Step.DEPENDENCIES, Step.UPLOAD, Step.BUILD, Step.DEPLOY]
    TRANSITIONS = {
        Status.PROCESSING: {Status.DEPLOYED, Status.FAILED},
        Status.DEPLOYED: set(),
        Status.FAILED: set(),
    }

    pipeline_id = models.CharField(max_length=64, unique=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pipelines")
    notebook = models.ForeignKey("notebooks.Notebook", on_delete=models.CASCADE, related_name="pipelines")
    build = models.ForeignKey("builds.Build", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    deployment = models.ForeignKey(Deployment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROCESSING, db_index=True)
    current_step = models.CharField(max_length=16, choices=Step.choices, default=Step.PARSE)
    steps_completed = models.JSONField(default=list, blank=True)
    # The deploy options of the request (cpu, memory, min_instances, max_instances).
    options = models.JSONField(default=dict, blank=True)
    trigger = models.CharField(max_length=32, default="upload")
    error_message = models.TextField(blank=True)
    step_started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.pipeline_id


class RepositoryLink(models.Model):
    """A notebook linked to a file in a git repository; a push to the branch redeploys it."""

    class Provider(models.TextChoices):
        GITHUB = "github"
        GITLAB = "gitlab"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="repository_links")
    notebook = models.ForeignKey("notebooks.Notebook", on_delete=models.CASCADE, related_name="repository_links")
    provider = models.CharField(max_length=16, choices=Provider.choices, default=Provider.GITHUB)
    repo_url = models.CharField(max_length=500)
    # The URL normalised (host and path, lower case, no scheme, user, port or ".git"), so a webhook
    # finds the link whichever of the repository's URLs its payload carries.
    repo_key = models.CharField(max_length=500, db_index=True, default="")
    branch = models.CharField(max_length=200, default="main")
    path = models.CharField(max_length=500)
    # The webhook secret (GitHub HMAC key or GitLab token), Fernet-encrypted; never returned.
    secret_encrypted = models.TextField()
    last_commit = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # One repository file per notebook: /api/v1/notebooks/{id}/repository is a single resource.
        constraints = [models.UniqueConstraint(fields=["notebook"], name="unique_repository_link_per_notebook")]

    def __str__(self) -> str:
        return f"{self.repo_url}@{self.branch}:{self.path}"


class WebhookDelivery(models.Model):
    """A webhook delivery seen once; a redelivery with the same id does nothing again."""

    provider = models.CharField(max_length=16)
    delivery_id = models.CharField(max_length=200)
    event = models.CharField(max_length=64, blank=True)
    pipelines_started = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "delivery_id"], name="unique_webhook_delivery")]

    def __str__(self) -> str:
        return f"{self.provider}:{self.delivery_id}"
