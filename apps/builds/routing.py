"""WebSocket routes of the builds app."""

from django.urls import path

from apps.builds.consumers import BuildLogsConsumer

websocket_urlpatterns: list = [
    path("api/v1/ws/builds/<str:build_ref>/logs", BuildLogsConsumer.as_asgi()),
]
