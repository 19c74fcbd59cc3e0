from django.apps import AppConfig


class BuildsConfig(AppConfig):
    """Builds of parsed notebooks and the builders that make them (local, Cloud Build)."""

    name = "apps.builds"
    default_auto_field = "django.db.models.BigAutoField"
