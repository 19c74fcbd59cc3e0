"""``/ws/activity``: the caller's activity log, live."""

from apps.core.consumers import AuthenticatedJsonConsumer


def activity_group(user_id: int) -> str:
    """The channel-layer group of one user's activity."""
    return f"activity.user.{user_id}"


class ActivityConsumer(AuthenticatedJsonConsumer):
    """Forward each new activity entry of the signed-in user."""

    async def on_connect(self) -> None:
        self.group = activity_group(self.user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send_json({"type": "connection_established", "user_id": self.user.pk})

    async def on_disconnect(self) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def activity_event(self, event: dict) -> None:
        """A new entry, sent by ``activity_record`` to the user's group."""
        await self.send_json({"type": "activity", "activity": event["activity"]})
