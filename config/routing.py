"""WebSocket routes of every app."""

from django.urls import path

from apps.activity.consumers import ActivityConsumer
from apps.environments.consumers import LogsConsumer, TerminalConsumer
from apps.workspaces.consumers import CodeSessionConsumer

websocket_urlpatterns = [
    path("ws/activity", ActivityConsumer.as_asgi()),
    path("api/v1/ws/terminal/<str:environment_id>", TerminalConsumer.as_asgi()),
    path("api/v1/ws/logs/<str:environment_id>", LogsConsumer.as_asgi()),
    path("ws", CodeSessionConsumer.as_asgi()),
]
