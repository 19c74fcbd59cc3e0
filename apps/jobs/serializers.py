"""Input validation and 003's output shapes for workflows and jobs."""

from typing import Any

from rest_framework import serializers

from apps.jobs.models import Job, TrainedModel, Workflow

MAX_NAME_LENGTH = 200


class WorkflowExecuteInput(serializers.Serializer):
    """``{nodes, edges, workflow_id?, name?}``; the graph itself is checked by workflow validation."""

    nodes = serializers.ListField(child=serializers.JSONField(), allow_empty=True)
    edges = serializers.ListField(child=serializers.JSONField(), allow_empty=True)
    workflow_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    name = serializers.CharField(required=False, allow_blank=True, max_length=MAX_NAME_LENGTH)


class JobCreateInput(serializers.Serializer):
    """``POST /api/jobs``: run one of the caller's workflow snapshots."""

    workflow_snapshot_id = serializers.IntegerField(min_value=1)


class JobListQuery(serializers.Serializer):
    """``status_filter`` (a job status), ``page`` (from 1), ``page_size`` (1-100, default 20)."""

    status_filter = serializers.ChoiceField(choices=Job.Status.choices, required=False)
    page = serializers.IntegerField(min_value=1, max_value=10**6, default=1)
    page_size = serializers.IntegerField(min_value=1, max_value=100, default=20)


class JobSerializer(serializers.ModelSerializer):
    """003's job object: status, progress, costs, timing, per-node state, results and error."""

    job_id = serializers.UUIDField(source="id", read_only=True)
    workflow_snapshot_id = serializers.IntegerField(source="snapshot_id")
    workflow_name = serializers.CharField(source="snapshot.name")
    estimated_cost = serializers.FloatField()
    credits_reserved = serializers.FloatField()
    credits_charged = serializers.FloatField(allow_null=True)
    credits_refunded = serializers.FloatField()
    duration_seconds = serializers.FloatField(allow_null=True)
    problem_type = serializers.SerializerMethodField()
    dataset_id = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "job_id",
            "status",
            "progress",
            "current_node_id",
            "workflow_id",
            "workflow_snapshot_id",
            "workflow_name",
            "retry_of_id",
            "problem_type",
            "dataset_id",
            "estimated_cost",
            "credits_reserved",
            "credits_charged",
            "credits_refunded",
            "nodes",
            "results",
            "error_message",
            "created_at",
            "queued_at",
            "started_at",
            "completed_at",
            "duration_seconds",
        ]

    def get_problem_type(self, job: Job) -> str:
        return job.snapshot.plan.get("problem_type", "")

    def get_dataset_id(self, job: Job) -> int | None:
        return job.snapshot.plan.get("dataset_id")


class JobSummarySerializer(JobSerializer):
    """A job in lists: everything but the per-node logs and the full results."""

    class Meta(JobSerializer.Meta):
        fields = [name for name in JobSerializer.Meta.fields if name not in ("nodes", "results")]


class JobPageOutput(serializers.Serializer):
    """A page of jobs."""

    items = JobSummarySerializer(many=True)
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    total_pages = serializers.IntegerField()
    has_more = serializers.BooleanField()


class ExecuteOutput(serializers.Serializer):
    """What ``POST /api/workflows/execute`` and ``POST /api/jobs`` answer."""

    job_id = serializers.UUIDField()
    id = serializers.UUIDField()
    status = serializers.CharField()
    estimated_cost = serializers.FloatField()
    workflow_id = serializers.IntegerField(allow_null=True)
    workflow_snapshot_id = serializers.IntegerField()
    created_at = serializers.DateTimeField()


def execute_output(job: Job) -> dict[str, Any]:
    """The answer to a submission."""
    return ExecuteOutput(
        {
            "job_id": job.id,
            "id": job.id,
            "status": job.status,
            "estimated_cost": job.estimated_cost,
            "workflow_id": job.workflow_id,
            "workflow_snapshot_id": job.snapshot_id,
            "created_at": job.created_at,
        }
    ).data


class NodeLogSerializer(serializers.Serializer):
    """One node's execution record."""

    id = serializers.CharField()
    type = serializers.CharField()
    plugin = serializers.CharField(allow_blank=True)
    status = serializers.CharField()
    started_at = serializers.CharField(allow_null=True)
    finished_at = serializers.CharField(allow_null=True)
    duration_seconds = serializers.FloatField(allow_null=True)
    error = serializers.CharField(allow_blank=True)
    summary = serializers.JSONField()
    logs = serializers.ListField(child=serializers.CharField())


class JobLogsOutput(serializers.Serializer):
    """``/api/jobs/{id}/logs``."""

    job_id = serializers.UUIDField()
    status = serializers.CharField()
    error_message = serializers.CharField(allow_blank=True)
    nodes = NodeLogSerializer(many=True)


class WorkflowStatusOutput(serializers.Serializer):
    """``/api/workflows/{job_id}/status``."""

    job_id = serializers.UUIDField()
    status = serializers.CharField()
    progress = serializers.IntegerField()
    current_node_id = serializers.CharField(allow_blank=True)
    nodes = serializers.JSONField()
    results = serializers.JSONField(allow_null=True)
    error_message = serializers.CharField(allow_blank=True)


class JobStatsOutput(serializers.Serializer):
    """``/api/jobs/stats``."""

    total_jobs = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    total_credits_spent = serializers.FloatField()
    average_duration_seconds = serializers.FloatField(allow_null=True)
    success_rate = serializers.FloatField(allow_null=True, help_text="completed / (completed + failed)")


class WorkflowSerializer(serializers.ModelSerializer):
    """A saved workflow."""

    class Meta:
        model = Workflow
        fields = ["id", "name", "nodes", "edges", "created_at", "updated_at"]


class TrainedModelSerializer(serializers.ModelSerializer):
    """A model a job trained."""

    class Meta:
        model = TrainedModel
        fields = ["id", "job_id", "node_id", "plugin", "problem_type", "metrics", "cv_metrics", "created_at"]
