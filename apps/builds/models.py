"""Builds: a parsed notebook turned into something a deployer can run."""

from django.conf import settings
from django.db import models

from apps.core.state import StatusMachine


class Build(StatusMachine, models.Model):
    """One build of a notebook (000). ``build_id`` is the documented ``build-<notebook>-<epoch>``."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        BUILDING = "building"
        SUCCESS = "success"
        FAILED = "failed"

    TRANSITIONS = {
        Status.QUEUED: {Status.BUILDING, Status.FAILED},
        Status.BUILDING: {Status.SUCCESS, Status.FAILED},
        Status.SUCCESS: set(),
        Status.FAILED: set(),
    }

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="builds")
    notebook = models.ForeignKey("notebooks.Notebook", on_delete=models.CASCADE, related_name="builds")
    build_id = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    builder = models.CharField(max_length=32, default="local")
    image_name = models.CharField(max_length=500, blank=True)
    # Content hash of the requirements and the Python version: builds with equal keys share an env.
    cache_key = models.CharField(max_length=64, blank=True, db_index=True)
    cache_hit = models.BooleanField(default=False)
    # Where the built app lives on this host (local builder): its sources and its Python environment.
    source_path = models.CharField(max_length=500, blank=True)
    env_path = models.CharField(max_length=500, blank=True)
    # The builder's own reference (e.g. a Cloud Build operation) and its console link.
    external_id = models.CharField(max_length=200, blank=True)
    external_log_url = models.URLField(max_length=1000, blank=True)
    error_message = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.build_id
