"""Reads of pipelines, scoped to the caller: another tenant's pipeline is a 404."""

from typing import Any

from django.db.models import QuerySet
from rest_framework.fields import DateTimeField

from apps.core.errors import NotFound
from apps.deployments.models import Pipeline

# Timestamps in the API's one format (DRF's, as every serializer writes them).
_datetime = DateTimeField()


def pipeline_list(*, user: Any) -> QuerySet[Pipeline]:
    """The caller's pipelines, newest first, with what the status fields need."""
    return Pipeline.objects.filter(owner=user).select_related("notebook", "build", "deployment")


def pipeline_get(*, user: Any, pipeline_id: str) -> Pipeline:
    """One of the caller's pipelines by its ``pipeline-<notebook>-<epoch>`` id; 404 otherwise."""
    pipeline = pipeline_list(user=user).filter(pipeline_id=str(pipeline_id)[:64]).first()
    if pipeline is None:
        raise NotFound("Pipeline not found")
    return pipeline


def pipeline_status(pipeline: Pipeline) -> dict[str, Any]:
    """The documented status body of ``GET /api/v1/pipeline/status/{pipeline_id}``."""
    notebook, build, deployment = pipeline.notebook, pipeline.build, pipeline.deployment
    return {
        "pipeline_id": pipeline.pipeline_id,
        "notebook_id": pipeline.notebook_id,
        "build_id": pipeline.build_id,
        "deployment_id": pipeline.deployment_id,
        "current_step": pipeline.current_step,
        "status": pipeline.status,
        "steps_completed": list(pipeline.steps_completed),
        "error_message": pipeline.error_message or None,
        "notebook_status": notebook.status if notebook else None,
        "build_status": build.status if build else None,
        "deployment_status": deployment.status if deployment else None,
        "service_url": (deployment.service_url or None) if deployment else None,
        "trigger": pipeline.trigger,
        "created_at": _datetime.to_representation(pipeline.created_at),
        "finished_at": _datetime.to_representation(pipeline.finished_at) if pipeline.finished_at else None,
    }


def pipeline_history_item(pipeline: Pipeline) -> dict[str, Any]:
    """One entry of ``GET /api/v1/pipeline/history``: the documented fields and the status fields."""
    return {**pipeline_status(pipeline), "notebook_name": pipeline.notebook.name}
