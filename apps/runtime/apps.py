from django.apps import AppConfig


class RuntimeConfig(AppConfig):
    """The sandbox runtime and its backends (local, kubernetes). No HTTP lives here."""

    name = "apps.runtime"
