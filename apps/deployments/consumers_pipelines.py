"""``/api/v1/ws/pipelines/{pipeline_id}``: a pipeline's progress, live (owner only).

On connect the socket gets the pipeline's current status, then one ``pipeline_update`` message
(the status body) at every step and status change. Another user's or an unknown pipeline is
accepted and then closed with 4404 (a refused handshake only shows the browser a bare 403).
"""

from typing import Any

from channels.db import database_sync_to_async

from apps.core.consumers import AuthenticatedJsonConsumer
from apps.core.errors import NotFound
from apps.deployments.selectors_pipelines import pipeline_get, pipeline_status
from apps.deployments.streams_pipelines import PIPELINE_UPDATE, pipeline_group

NOT_FOUND_CLOSE_CODE = 4404


@database_sync_to_async
def _owned_status(user: Any, pipeline_id: str) -> tuple[int, dict] | None:
    try:
        pipeline = pipeline_get(user=user, pipeline_id=pipeline_id)
    except NotFound:
        return None
    return pipeline.pk, pipeline_status(pipeline)


class PipelineConsumer(AuthenticatedJsonConsumer):
    """Sends a pipeline's status now and at every change."""

    group: str | None = None

    async def on_connect(self) -> None:
        found = await _owned_status(self.user, self.scope["url_route"]["kwargs"]["pipeline_id"])
        if found is None:
            await self.close(code=NOT_FOUND_CLOSE_CODE)
            return
        pk, status = found
        self.group = pipeline_group(pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send_json({"type": PIPELINE_UPDATE, **status})

    async def on_disconnect(self) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def pipeline_event(self, event: dict) -> None:
        """A status change published by the pipeline services."""
        await self.send_json(event["message"])
