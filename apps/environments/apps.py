from django.apps import AppConfig


class EnvironmentsConfig(AppConfig):
    """Templates, clusters, environments, user env vars and files; terminal and log sockets."""

    name = "apps.environments"
    default_auto_field = "django.db.models.BigAutoField"
