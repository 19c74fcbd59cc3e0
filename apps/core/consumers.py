"""The base of every Hangar WebSocket: authentication on connect and the per-user socket limit."""

import contextlib

from asgiref.sync import async_to_sync
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache

UNAUTHORIZED_CLOSE_CODE = 4401
TOO_MANY_SOCKETS_CLOSE_CODE = 4429
# A process that dies without closing its sockets must not lock a user out for good.
_SLOT_TTL_SECONDS = 24 * 3600


def _auth_group(user_id: int) -> str:
    return f"auth.user.{user_id}"


def close_user_sockets(*, user_id: int, jti: str | None = None) -> None:
    """Close the user's open sockets: those opened with the access token ``jti``, or all of them
    (logout revokes one token; deactivation revokes every one)."""
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(_auth_group(user_id), {"type": "auth.revoked", "jti": jti})


def _slots_key(user_id: int) -> str:
    return f"ws:open:{user_id}"


async def acquire_socket_slot(user_id: int) -> bool:
    """Count one more open socket for the user; False (and nothing counted) past the limit."""
    key = _slots_key(user_id)
    await cache.aadd(key, 0, timeout=_SLOT_TTL_SECONDS)
    count = await cache.aincr(key)
    if count > settings.HANGAR_RATE_LIMITS["websocket_connections"]:
        await cache.adecr(key)
        return False
    return True


async def release_socket_slot(user_id: int) -> None:
    """Count one socket fewer for the user."""
    # A ValueError means the counter expired meanwhile: nothing is left to release.
    with contextlib.suppress(ValueError):
        await cache.adecr(_slots_key(user_id))


class AuthenticatedJsonConsumer(AsyncJsonWebsocketConsumer):
    """Refuses anonymous sockets (4401) and sockets past the user's limit (4429), answers pings.

    Subclasses implement ``on_connect`` (after accept) and ``on_message`` for other messages.
    """

    holds_slot = False

    async def connect(self) -> None:
        # Accept first and close with a code: a refused handshake only shows the client a 403.
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=UNAUTHORIZED_CLOSE_CODE)
            return
        if not await acquire_socket_slot(user.pk):
            await self.close(code=TOO_MANY_SOCKETS_CLOSE_CODE)
            return
        self.holds_slot = True
        self.user = user
        await self.channel_layer.group_add(_auth_group(user.pk), self.channel_name)
        await self.on_connect()

    async def disconnect(self, code: int) -> None:
        if self.holds_slot:
            self.holds_slot = False
            await self.channel_layer.group_discard(_auth_group(self.user.pk), self.channel_name)
            await release_socket_slot(self.user.pk)
            await self.on_disconnect()

    async def auth_revoked(self, event: dict) -> None:
        """The token this socket was opened with was revoked (logout), or the user deactivated."""
        if event.get("jti") in (None, self.scope.get("token_jti")):
            await self.close(code=UNAUTHORIZED_CLOSE_CODE)

    async def receive_json(self, content: dict, **kwargs) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.on_message(content)

    async def on_connect(self) -> None:
        """Called once the socket is accepted."""

    async def on_disconnect(self) -> None:
        """Called when an accepted socket closes."""

    async def on_message(self, content: dict) -> None:
        """Called for every message except ping; the default refuses it."""
        await self.send_json({"type": "error", "error_code": "BAD_REQUEST", "detail": "Unknown message type"})
