from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    """002's code sessions: workspaces with files and a WebSocket terminal, run by the runtime."""

    name = "apps.workspaces"
