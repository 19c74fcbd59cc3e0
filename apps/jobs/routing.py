"""WebSocket routes of the jobs app."""

from django.urls import path

from apps.jobs.consumers import JobStreamConsumer

websocket_urlpatterns: list = [
    path("api/workflows/<str:job_id>/stream", JobStreamConsumer.as_asgi()),
]
