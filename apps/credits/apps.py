from django.apps import AppConfig


class CreditsConfig(AppConfig):
    """The credit ledger (003)."""

    name = "apps.credits"
    default_auto_field = "django.db.models.BigAutoField"
