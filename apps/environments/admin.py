from django.contrib import admin

from apps.environments.models import Cluster, Environment, InstallationLogLine, Template, UserEnvVar


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    """Environment templates (004)."""

    list_display = ["name", "display_name", "category", "docker_image", "status", "usage_count"]
    list_filter = ["category", "status", "network_policy"]
    search_fields = ["name", "display_name", "docker_image"]
    readonly_fields = ["id", "usage_count", "created_at", "updated_at"]


@admin.register(Environment)
class EnvironmentAdmin(admin.ModelAdmin):
    """Environments; status changes go through the API so the state machine and log apply."""

    list_display = ["id", "name", "owner", "template", "status", "created_at", "last_activity"]
    list_filter = ["status", "template", "runtime"]
    search_fields = ["id", "name", "owner__username", "owner__email"]
    readonly_fields = [
        "id",
        "status",
        "status_reason",
        "stop_reason",
        "runtime_state",
        "host_port",
        "started_at",
        "status_changed_at",
        "created_at",
        "updated_at",
    ]
    raw_id_fields = ["owner"]


@admin.register(InstallationLogLine)
class InstallationLogLineAdmin(admin.ModelAdmin):
    """Installation output, read-only."""

    list_display = ["timestamp", "environment", "level", "message"]
    list_filter = ["level"]
    search_fields = ["environment__id", "message"]
    readonly_fields = ["environment", "timestamp", "level", "message", "source"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Cluster)
class ClusterAdmin(admin.ModelAdmin):
    """Clusters; the kubeconfig is encrypted and not shown (edit it through the API)."""

    list_display = ["name", "provider", "region", "status", "node_count", "last_health_status"]
    list_filter = ["provider", "status"]
    search_fields = ["name", "region"]
    exclude = ["kubeconfig_encrypted"]
    readonly_fields = ["id", "last_health_check", "last_health_status", "created_at", "updated_at"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(UserEnvVar)
class UserEnvVarAdmin(admin.ModelAdmin):
    """Users' environment variables; values are encrypted and never shown."""

    list_display = ["user", "key", "created_at", "updated_at"]
    search_fields = ["user__username", "key"]
    exclude = ["value_encrypted"]
    readonly_fields = ["user", "key", "created_at", "updated_at"]

    def has_add_permission(self, request) -> bool:
        return False
