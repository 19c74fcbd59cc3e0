from django.apps import AppConfig


class JobsConfig(AppConfig):
    """The plugin catalogue, workflows, training jobs and their executor (003)."""

    name = "apps.jobs"
    default_auto_field = "django.db.models.BigAutoField"
