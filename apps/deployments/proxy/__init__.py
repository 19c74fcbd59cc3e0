"""Hangar's reverse proxy to deployed apps: ``/apps/<service_name>/...`` over HTTP and WebSocket."""
