"""``/api/v1/ws/builds/{id}/logs``: a build's log, live. Owner only; another user's or an unknown
build is accepted and then closed with 4404 (a refused handshake only shows the browser a 403).

On connect the socket joins the build's group first, then replays the log file, so no line is lost
between the two; lines carry their number ``n`` and duplicates are dropped. When the build ends the
socket sends ``{"type": "complete", "status", ...}`` and closes normally.
"""

import json
from typing import Any

from channels.db import database_sync_to_async

from apps.builds import logs, selectors
from apps.builds.models import Build
from apps.builds.services import FINAL_STATUSES, status_message
from apps.core.consumers import AuthenticatedJsonConsumer
from apps.core.errors import NotFound

NOT_FOUND_CLOSE_CODE = 4404
NORMAL_CLOSE_CODE = 1000


@database_sync_to_async
def _owned_build(user: Any, build_ref: str) -> Build | None:
    try:
        return selectors.build_get(user=user, build_ref=build_ref)
    except NotFound:
        return None


@database_sync_to_async
def _reload(build_pk: int) -> Build | None:
    return Build.objects.filter(pk=build_pk).first()


class BuildLogsConsumer(AuthenticatedJsonConsumer):
    """Replays a build's log, then forwards new lines and status changes until it ends."""

    build: Build | None = None
    group: str | None = None
    sent = 0
    finished = False

    async def on_connect(self) -> None:
        self.build = await _owned_build(self.user, self.scope["url_route"]["kwargs"]["build_ref"])
        if self.build is None:
            await self.close(code=NOT_FOUND_CLOSE_CODE)
            return
        self.group = logs.log_group(self.build.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        # Status before lines: a final status means the file already holds every line.
        build = await _reload(self.build.pk)
        for number, line in enumerate(await database_sync_to_async(logs.read_lines)(self.build.build_id)):
            await self.send_json({"type": "log", "n": number, "line": line, "replay": True})
            self.sent = number + 1
        await self.send_json(status_message(build) | {"type": "status"})
        if build.status in FINAL_STATUSES:
            await self._complete(status_message(build))

    async def build_event(self, event: dict) -> None:
        """A log line or status change published to the build's group."""
        message = event.get("message") or {}
        if self.finished:
            return
        if message.get("type") == "log":
            if int(message.get("n", -1)) < self.sent:
                return  # already replayed from the file
            self.sent = int(message["n"]) + 1
            await self.send_json(message)
        elif message.get("type") == "complete":
            await self._complete(message)
        else:
            await self.send_json(message)

    async def _complete(self, message: dict) -> None:
        self.finished = True
        await self.send_json(message)
        await self.close(code=NORMAL_CLOSE_CODE)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        try:
            content = json.loads(text_data) if text_data is not None else None
        except ValueError:
            content = None
        if not isinstance(content, dict):
            await self.send_json({"type": "error", "error_code": "BAD_REQUEST", "detail": "Send JSON objects"})
            return
        await self.receive_json(content)

    async def on_message(self, content: dict) -> None:
        await self.send_json(
            {"type": "error", "error_code": "BAD_REQUEST", "detail": "This socket only sends; use ping"}
        )

    async def on_disconnect(self) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
