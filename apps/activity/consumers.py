"""``/ws/activity``: the caller's activity log, live."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer

UNAUTHORIZED_CLOSE_CODE = 4401


def activity_group(user_id: int) -> str:
    """The channel-layer group of one user's activity."""
    return f"activity.user.{user_id}"


class ActivityConsumer(AsyncJsonWebsocketConsumer):
    """Authenticate on connect, then forward each new activity entry of the user."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=UNAUTHORIZED_CLOSE_CODE)
            return
        self.group = activity_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "connection_established", "user_id": user.pk})

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: dict, **kwargs) -> None:
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.send_json({"type": "error", "error_code": "BAD_REQUEST", "detail": "Unknown message type"})

    async def activity_event(self, event: dict) -> None:
        """A new entry, sent by ``activity_record`` to the user's group."""
        await self.send_json({"type": "activity", "activity": event["activity"]})
