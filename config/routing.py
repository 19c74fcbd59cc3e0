"""WebSocket routes of every app."""

from django.urls import path

from apps.activity.consumers import ActivityConsumer
from apps.builds.routing import websocket_urlpatterns as build_sockets
from apps.deployments.routing import websocket_urlpatterns as deployment_sockets
from apps.environments.consumers import LogsConsumer, TerminalConsumer
from apps.jobs.routing import websocket_urlpatterns as job_sockets
from apps.workspaces.consumers import CodeSessionConsumer

websocket_urlpatterns = [
    path("ws/activity", ActivityConsumer.as_asgi()),
    path("api/v1/ws/terminal/<str:environment_id>", TerminalConsumer.as_asgi()),
    path("api/v1/ws/logs/<str:environment_id>", LogsConsumer.as_asgi()),
    path("ws", CodeSessionConsumer.as_asgi()),
    *build_sockets,
    *deployment_sockets,
    *job_sockets,
]
