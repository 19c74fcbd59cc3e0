from django.apps import AppConfig


class DatasetsConfig(AppConfig):
    """Datasets, their versions, signed uploads and ingestion (003)."""

    name = "apps.datasets"
    default_auto_field = "django.db.models.BigAutoField"
