"""The channel-layer group of each job's ``/api/workflows/{job_id}/stream`` sockets.

Message types sent to clients: ``job_status`` (overall status and progress), ``node_status``,
``progress``, ``log`` and, last, ``job_finished`` (final status, results or error), after which the
sockets close.
"""

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

JOB_STATUS = "job_status"
NODE_STATUS = "node_status"
PROGRESS = "progress"
LOG = "log"
JOB_FINISHED = "job_finished"


def job_group(job_id: Any) -> str:
    """The group every stream socket of one job joins."""
    return f"job.stream.{job_id}"


def job_publish(job_id: Any, message: dict[str, Any]) -> None:
    """Send ``message`` (a dict with a ``type``) to the job's sockets.

    Best effort: a broken channel layer must not fail the job being reported.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(job_group(job_id), {"type": "job.event", "message": message})
    except Exception:
        logger.warning("Could not publish to the stream of job %s", job_id, exc_info=True)
