"""003's ``/api/workflows/{job_id}/stream``: a job's node status, progress, log lines and final
results, live. Owner only: another user's or an unknown job is accepted and then closed with 4404
(a refused handshake would only show the browser a bare 403). The socket closes after
``job_finished``."""

import uuid
from typing import Any

from channels.db import database_sync_to_async

from apps.core.consumers import AuthenticatedJsonConsumer
from apps.core.errors import NotFound
from apps.jobs import selectors, streams
from apps.jobs.models import Job
from apps.jobs.serializers import JobSerializer

NOT_FOUND_CLOSE_CODE = 4404
FINISHED_CLOSE_CODE = 1000


@database_sync_to_async
def _owned_job(user: Any, job_id: str) -> Job | None:
    try:
        return selectors.job_get(user=user, job_id=job_id)
    except NotFound:
        return None


@database_sync_to_async
def _state(job: Job) -> dict[str, Any]:
    job.refresh_from_db()
    data = JobSerializer(job).data
    kind = streams.JOB_FINISHED if job.is_finished else streams.JOB_STATUS
    return {
        "type": kind,
        **{
            key: data[key]
            for key in ("job_id", "status", "progress", "current_node_id", "nodes", "results", "error_message")
        },
    }


class JobStreamConsumer(AuthenticatedJsonConsumer):
    """Joins the job's group, sends the current state, then forwards every event."""

    group: str | None = None

    async def on_connect(self) -> None:
        job_id = self.scope["url_route"]["kwargs"]["job_id"]
        job = await _owned_job(self.user, job_id)
        if job is None:
            await self.close(code=NOT_FOUND_CLOSE_CODE)
            return
        # Join before reading the state, so an event between the two cannot be missed.
        self.group = streams.job_group(uuid.UUID(str(job.pk)))
        await self.channel_layer.group_add(self.group, self.channel_name)
        state = await _state(job)
        await self.send_json(state)
        if state["type"] == streams.JOB_FINISHED:
            await self.close(code=FINISHED_CLOSE_CODE)

    async def on_disconnect(self) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def job_event(self, event: dict) -> None:
        """One message from the job's supervisor or services."""
        message = event["message"]
        await self.send_json(message)
        if message.get("type") == streams.JOB_FINISHED:
            await self.close(code=FINISHED_CLOSE_CODE)
