from django.contrib import admin

from apps.activity.models import Activity


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    """The activity log, read-only in the IAM console."""

    list_display = ["created_at", "user", "action", "status", "ip_address"]
    list_filter = ["status", "action", "created_at"]
    search_fields = ["user__username", "user__email", "action", "details"]
    readonly_fields = [f.name for f in Activity._meta.fields]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False
