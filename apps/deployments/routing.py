"""WebSocket routes of the deployments app."""

websocket_urlpatterns: list = []
