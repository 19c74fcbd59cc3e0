"""The channel-layer group of each pipeline's progress socket, and sending to it."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

PIPELINE_UPDATE = "pipeline_update"


def pipeline_group(pipeline_pk: int) -> str:
    """The group every ``/api/v1/ws/pipelines/{pipeline_id}`` socket of one pipeline joins."""
    return f"pipeline-{pipeline_pk}"


def pipeline_publish(pipeline_pk: int) -> None:
    """Send the pipeline's current status to its sockets.

    Best effort: a broken channel layer must not fail the pipeline step that is being reported.
    """
    from apps.deployments.models import Pipeline
    from apps.deployments.selectors_pipelines import pipeline_status

    layer = get_channel_layer()
    if layer is None:
        return
    pipeline = Pipeline.objects.select_related("notebook", "build", "deployment").filter(pk=pipeline_pk).first()
    if pipeline is None:
        return
    message = {"type": PIPELINE_UPDATE, **pipeline_status(pipeline)}
    try:
        async_to_sync(layer.group_send)(pipeline_group(pipeline_pk), {"type": "pipeline.event", "message": message})
    except Exception:
        logger.warning("Could not publish to the sockets of pipeline %s", pipeline_pk, exc_info=True)
