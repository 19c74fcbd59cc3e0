"""Workflows, their frozen snapshots, training jobs and the models they produce (003).

A job runs a :class:`WorkflowSnapshot`, never a live :class:`Workflow`, so editing a workflow cannot
change a job that is queued or running, and a retry runs exactly what failed.
"""

import uuid

from django.conf import settings
from django.db import models

from apps.core.state import StatusMachine


class Workflow(models.Model):
    """A user's editable workflow graph: nodes and edges as the builder sends them."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="workflows")
    name = models.CharField(max_length=200, default="Untitled workflow")
    nodes = models.JSONField(default=list)
    edges = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.name


class WorkflowSnapshot(models.Model):
    """A frozen copy of a workflow and the execution plan validated from it."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="workflow_snapshots")
    workflow = models.ForeignKey(Workflow, on_delete=models.SET_NULL, null=True, blank=True, related_name="snapshots")
    name = models.CharField(max_length=200, blank=True)
    nodes = models.JSONField(default=list)
    edges = models.JSONField(default=list)
    plan = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"snapshot {self.pk}"


class Job(StatusMachine, models.Model):
    """One execution of a workflow snapshot, paid for with credits reserved up front.

    ``nodes`` holds the per-node state, in plan order: ``[{id, type, plugin, status, started_at,
    finished_at, error, summary, logs}]`` (a list, because PostgreSQL's jsonb does not keep key order).
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        QUEUED = "queued"
        RUNNING = "running"
        COMPLETED = "completed"
        FAILED = "failed"
        CANCELLED = "cancelled"

    TRANSITIONS = {
        Status.PENDING: {Status.QUEUED, Status.FAILED, Status.CANCELLED},
        Status.QUEUED: {Status.RUNNING, Status.FAILED, Status.CANCELLED},
        Status.RUNNING: {Status.COMPLETED, Status.FAILED, Status.CANCELLED},
        Status.COMPLETED: set(),
        Status.FAILED: set(),
        Status.CANCELLED: set(),
    }
    ACTIVE = (Status.PENDING, Status.QUEUED, Status.RUNNING)
    FINISHED = (Status.COMPLETED, Status.FAILED, Status.CANCELLED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs")
    snapshot = models.ForeignKey(WorkflowSnapshot, on_delete=models.PROTECT, related_name="jobs")
    workflow = models.ForeignKey(Workflow, on_delete=models.SET_NULL, null=True, blank=True, related_name="jobs")
    retry_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="retries")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    estimated_cost = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    credits_reserved = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    # Set when the job finishes: what it finally cost, and what went back to the balance.
    credits_charged = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    credits_refunded = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    progress = models.PositiveSmallIntegerField(default=0)
    current_node_id = models.CharField(max_length=100, blank=True)
    nodes = models.JSONField(default=list)
    results = models.JSONField(default=dict, blank=True)
    error_message = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    executor_pid = models.PositiveIntegerField(null=True, blank=True)
    executor_host = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "status"])]

    def __str__(self) -> str:
        return str(self.id)

    @property
    def is_finished(self) -> bool:
        """Whether the job reached a final status."""
        return self.status in self.FINISHED

    @property
    def duration_seconds(self) -> float | None:
        """Seconds from start to finish, once both are known."""
        if self.started_at and self.completed_at:
            return (self.completed_at - self.started_at).total_seconds()
        return None


class TrainedModel(models.Model):
    """A fitted pipeline a job produced: one per model node, stored as a joblib artifact."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trained_models")
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="trained_models")
    node_id = models.CharField(max_length=100)
    plugin = models.CharField(max_length=100)
    problem_type = models.CharField(max_length=16)
    metrics = models.JSONField(default=dict)
    cv_metrics = models.JSONField(default=dict, blank=True)
    artifact_key = models.CharField(max_length=500)
    artifact_size_bytes = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["job_id", "id"]
        constraints = [models.UniqueConstraint(fields=["job", "node_id"], name="unique_trained_model_per_node")]

    def __str__(self) -> str:
        return f"{self.plugin} ({self.job_id}/{self.node_id})"
