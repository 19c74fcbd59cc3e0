from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Health, errors, envelopes, rate limits and pagination shared by every family."""

    name = "apps.core"
