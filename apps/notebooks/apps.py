from django.apps import AppConfig


class NotebooksConfig(AppConfig):
    """Uploaded notebooks, their parsing, dependency detection and generated sources (000)."""

    name = "apps.notebooks"
    default_auto_field = "django.db.models.BigAutoField"
