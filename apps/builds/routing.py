"""WebSocket routes of the builds app."""

websocket_urlpatterns: list = []
