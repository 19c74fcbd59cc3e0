from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    """Deployments and deployers, the app proxy, pipelines, webhooks and metrics (000)."""

    name = "apps.deployments"
    default_auto_field = "django.db.models.BigAutoField"
