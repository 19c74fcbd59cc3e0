"""The channel-layer group of each environment's log socket, and sending to it."""

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

# The message types 004 documents for the logs socket.
INSTALLATION_LOG = "installation_log"
INSTALLATION_STATUS = "installation_status"
INSTALLATION_COMPLETE = "installation_complete"
INSTALLATION_ERROR = "installation_error"


def logs_group(environment_id: str) -> str:
    """The group every ``/api/v1/ws/logs/{id}`` socket of one environment joins."""
    return f"environment.logs.{environment_id}"


def logs_publish(environment_id: str, message: dict[str, Any]) -> None:
    """Send ``message`` (a dict with a ``type``) to the environment's log sockets.

    Best effort: a broken channel layer must not fail the lifecycle that is being reported.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(logs_group(environment_id), {"type": "environment.event", "message": message})
    except Exception:
        logger.warning("Could not publish to the log socket of %s", environment_id, exc_info=True)
