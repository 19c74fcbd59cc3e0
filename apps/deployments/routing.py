"""WebSocket routes of the deployments app."""

from django.urls import path

from apps.deployments.consumers_pipelines import PipelineConsumer

websocket_urlpatterns: list = [
    path("api/v1/ws/pipelines/<str:pipeline_id>", PipelineConsumer.as_asgi()),
]
