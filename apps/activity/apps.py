from django.apps import AppConfig


class ActivityConfig(AppConfig):
    """The activity and audit log: auth events now, every lifecycle event later."""

    name = "apps.activity"
