from django.contrib import admin

from apps.workspaces.models import CodeSession


@admin.register(CodeSession)
class CodeSessionAdmin(admin.ModelAdmin):
    """Code sessions; the sandbox state is changed only by the platform, never by hand."""

    list_display = ["name", "owner", "workload_state", "is_active", "last_activity_at", "created_at"]
    list_filter = ["workload_state", "is_active", "language", "created_at"]
    search_fields = ["id", "name", "owner__username", "owner__email", "workload_id"]
    readonly_fields = [
        "id",
        "owner",
        "workload_id",
        "workload_state",
        "workload_reason",
        "workload_data",
        "state_changed_at",
        "last_activity_at",
        "created_at",
        "updated_at",
    ]
    date_hierarchy = "created_at"
