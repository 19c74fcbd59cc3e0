"""ASGI entry point: HTTP and WebSocket, served by daphne.

``/apps/<service_name>/...`` (deployed apps, HTTP and WebSocket) goes to the app proxy before
Django sees it; everything else is Django and Channels.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from apps.accounts.ws_auth import JWTWebSocketAuthMiddleware  # noqa: E402
from apps.deployments.proxy.app import PREFIX as APPS_PREFIX  # noqa: E402
from apps.deployments.proxy.app import proxy_application  # noqa: E402
from config.routing import websocket_urlpatterns  # noqa: E402

hangar_application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(JWTWebSocketAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)


async def application(scope: dict, receive, send) -> None:
    """Deployed apps under ``/apps/`` go to the proxy; the rest is Hangar."""
    if scope["type"] in ("http", "websocket") and scope.get("path", "").startswith(APPS_PREFIX):
        await proxy_application(scope, receive, send)
    else:
        await hangar_application(scope, receive, send)
