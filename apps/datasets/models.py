"""Datasets, their versions, signed upload intents and ingestion jobs (003)."""

import uuid

from django.conf import settings
from django.db import models

from apps.core.state import StatusMachine


class ProblemType(models.TextChoices):
    """The kinds of learning problem 003 knows."""

    CLASSIFICATION = "classification"
    REGRESSION = "regression"
    CLUSTERING = "clustering"


class Dataset(models.Model):
    """A named dataset; its data lives in versions, the newest being ``current_version``."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="datasets")
    name = models.CharField(max_length=200, db_index=True)
    description = models.TextField(blank=True)
    problem_type = models.CharField(max_length=16, choices=ProblemType.choices, blank=True, db_index=True)
    target_column = models.CharField(max_length=255, blank=True)
    current_version = models.ForeignKey(
        "DatasetVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class DatasetVersion(models.Model):
    """One uploaded file of a dataset, profiled and stored as Parquet."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="versions")
    version_number = models.PositiveIntegerField()
    version_label = models.CharField(max_length=100, blank=True)
    original_filename = models.CharField(max_length=255)
    # Storage keys (default storage): the file as uploaded, and the Parquet written by ingestion.
    raw_key = models.CharField(max_length=500)
    parquet_key = models.CharField(max_length=500, blank=True)
    raw_size_bytes = models.PositiveBigIntegerField(default=0)
    file_size_bytes = models.PositiveBigIntegerField(default=0)
    row_count = models.PositiveBigIntegerField(null=True, blank=True)
    column_count = models.PositiveIntegerField(null=True, blank=True)
    columns_metadata = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dataset_id", "version_number"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "version_number"], name="unique_dataset_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.dataset_id} v{self.version_number}"


class UploadIntent(models.Model):
    """A signed upload URL handed out by ``upload-url``; used at most once, before it expires."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="upload_intents")
    filename = models.CharField(max_length=255)
    declared_size_bytes = models.PositiveBigIntegerField()
    storage_key = models.CharField(max_length=500)
    expires_at = models.DateTimeField()
    # Set by the one request that may write the file (a conditional update), so a URL is used once.
    upload_started_at = models.DateTimeField(null=True, blank=True)
    uploaded_at = models.DateTimeField(null=True, blank=True)
    uploaded_size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return str(self.id)


class IngestionJob(StatusMachine, models.Model):
    """Reading, profiling and converting one dataset version (``/api/datasets/jobs/{id}``)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        PROCESSING = "processing"
        COMPLETED = "completed"
        FAILED = "failed"

    TRANSITIONS = {
        Status.PENDING: {Status.PROCESSING, Status.FAILED},
        Status.PROCESSING: {Status.COMPLETED, Status.FAILED},
        Status.COMPLETED: set(),
        Status.FAILED: set(),
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ingestion_jobs")
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="ingestion_jobs")
    dataset_version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="ingestion_jobs")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    progress_percentage = models.PositiveSmallIntegerField(default=0)
    estimated_duration_seconds = models.FloatField(default=0)
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return str(self.id)
