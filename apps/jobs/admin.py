"""Admin registration of workflows, snapshots, jobs and trained models (read-mostly: jobs change
status only through the services, so the state machine, the credits and the activity log apply)."""

from django.contrib import admin

from apps.jobs.models import Job, TrainedModel, Workflow, WorkflowSnapshot


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    """Saved workflow graphs."""

    list_display = ["id", "name", "owner", "updated_at"]
    search_fields = ["name", "owner__username", "owner__email"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(WorkflowSnapshot)
class WorkflowSnapshotAdmin(admin.ModelAdmin):
    """Frozen workflows with their validated plans; never edited."""

    list_display = ["id", "name", "owner", "workflow", "created_at"]
    search_fields = ["name", "owner__username"]
    readonly_fields = ["owner", "workflow", "name", "nodes", "edges", "plan", "created_at"]


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """Training jobs; cancel and retry through the API."""

    list_display = ["id", "owner", "status", "progress", "estimated_cost", "credits_charged", "created_at"]
    list_filter = ["status"]
    search_fields = ["id", "owner__username", "owner__email"]
    readonly_fields = [field.name for field in Job._meta.fields]


@admin.register(TrainedModel)
class TrainedModelAdmin(admin.ModelAdmin):
    """Fitted pipelines produced by jobs."""

    list_display = ["id", "plugin", "node_id", "job", "owner", "created_at"]
    list_filter = ["plugin", "problem_type"]
    readonly_fields = [
        "owner",
        "job",
        "node_id",
        "plugin",
        "problem_type",
        "metrics",
        "cv_metrics",
        "artifact_key",
        "artifact_size_bytes",
        "created_at",
    ]
