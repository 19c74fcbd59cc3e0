"""003's /api/jobs and /api/workflows/{execute, {job_id}/status, {job_id}/cancel}: submitting,
listing, inspecting, cancelling and retrying training jobs, and their plots and model files."""

import math

from django.core.files.storage import default_storage
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.environments.views.common import validated, validated_query
from apps.jobs import selectors
from apps.jobs.executor.names import safe_name
from apps.jobs.serializers import (
    ExecuteOutput,
    JobCreateInput,
    JobListQuery,
    JobLogsOutput,
    JobPageOutput,
    JobSerializer,
    JobStatsOutput,
    JobSummarySerializer,
    WorkflowExecuteInput,
    WorkflowStatusOutput,
    execute_output,
)
from apps.jobs.services import jobs as services


class WorkflowExecuteView(APIView):
    """Validate, save and snapshot a workflow, reserve its credits and queue its job.

    400 ``INVALID_WORKFLOW`` (with ``errors``) when it is not runnable; 402 when the balance is short.
    """

    @extend_schema(request=WorkflowExecuteInput, responses={202: ExecuteOutput})
    def post(self, request: Request) -> Response:
        data = validated(WorkflowExecuteInput, request)
        job = services.workflow_execute(
            user=request.user,
            nodes=data["nodes"],
            edges=data["edges"],
            workflow_id=data.get("workflow_id"),
            name=data.get("name") or None,
            request=request,
        )
        return Response(execute_output(job), status=202)


class JobListView(APIView):
    """The caller's jobs (``status_filter``, ``page``, ``page_size`` up to 100), or run a snapshot."""

    @extend_schema(operation_id="jobs_list", parameters=[JobListQuery], responses=JobPageOutput)
    def get(self, request: Request) -> Response:
        query = validated_query(JobListQuery, request)
        jobs = selectors.job_list(user=request.user, status=query.get("status_filter"))
        page, size = query["page"], query["page_size"]
        total = jobs.count()
        items = jobs[(page - 1) * size : page * size]
        return Response(
            {
                "items": JobSummarySerializer(items, many=True).data,
                "total": total,
                "page": page,
                "page_size": size,
                "total_pages": math.ceil(total / size) if total else 0,
                "has_more": page * size < total,
            }
        )

    @extend_schema(operation_id="jobs_create", request=JobCreateInput, responses={202: ExecuteOutput})
    def post(self, request: Request) -> Response:
        data = validated(JobCreateInput, request)
        snapshot = selectors.snapshot_get(user=request.user, snapshot_id=data["workflow_snapshot_id"])
        job = services.job_create(user=request.user, snapshot=snapshot, request=request)
        return Response(execute_output(job), status=202)


class JobDetailView(APIView):
    """One job: status, progress, timing, per-node state, results or error."""

    @extend_schema(responses=JobSerializer)
    def get(self, request: Request, job_id: str) -> Response:
        return Response(JobSerializer(selectors.job_get(user=request.user, job_id=job_id)).data)


class JobCancelView(APIView):
    """Cancel a pending, queued or running job (its training stops at once); 409 once it finished."""

    @extend_schema(request=None, responses=JobSerializer)
    def post(self, request: Request, job_id: str) -> Response:
        job = selectors.job_get(user=request.user, job_id=job_id)
        return Response(JobSerializer(services.job_cancel(job=job, request=request)).data)


class JobRetryView(APIView):
    """Run a failed job's snapshot again as a new job, charged again; 409 for any other status."""

    @extend_schema(request=None, responses={202: ExecuteOutput})
    def post(self, request: Request, job_id: str) -> Response:
        job = selectors.job_get(user=request.user, job_id=job_id)
        return Response(execute_output(services.job_retry(job=job, request=request)), status=202)


def _node_log(node: dict) -> dict:
    from django.utils.dateparse import parse_datetime

    started, finished = node.get("started_at"), node.get("finished_at")
    duration = None
    if started and finished:
        duration = round((parse_datetime(finished) - parse_datetime(started)).total_seconds(), 3)
    return {**node, "duration_seconds": duration}


class JobLogsView(APIView):
    """Per node: status, timing, error, output summary and log lines."""

    @extend_schema(responses=JobLogsOutput)
    def get(self, request: Request, job_id: str) -> Response:
        job = selectors.job_get(user=request.user, job_id=job_id)
        nodes = [_node_log(node) for node in job.nodes]
        return Response(
            JobLogsOutput(
                {"job_id": job.id, "status": job.status, "error_message": job.error_message, "nodes": nodes}
            ).data
        )


class JobStatsView(APIView):
    """Counts by status, credits spent, mean duration and success rate of the caller's jobs."""

    @extend_schema(responses=JobStatsOutput)
    def get(self, request: Request) -> Response:
        return Response(JobStatsOutput(selectors.job_stats(user=request.user)).data)


class WorkflowStatusView(APIView):
    """The overall status of a workflow's job, each node's status, progress, and results once done."""

    @extend_schema(responses=WorkflowStatusOutput)
    def get(self, request: Request, job_id: str) -> Response:
        job = selectors.job_get(user=request.user, job_id=job_id)
        return Response(
            WorkflowStatusOutput(
                {
                    "job_id": job.id,
                    "status": job.status,
                    "progress": job.progress,
                    "current_node_id": job.current_node_id,
                    "nodes": job.nodes,
                    "results": job.results if job.status == job.Status.COMPLETED else None,
                    "error_message": job.error_message,
                }
            ).data
        )


class JobPlotView(APIView):
    """A PNG plot of one of the caller's jobs (``<model node>_<plot>``)."""

    @extend_schema(responses={(200, "image/png"): OpenApiTypes.BINARY})
    def get(self, request: Request, job_id: str, name: str) -> FileResponse:
        job = selectors.job_get(user=request.user, job_id=job_id)
        key = selectors.job_plot_key(job=job, name=name)
        response = FileResponse(default_storage.open(key, "rb"), content_type="image/png")
        response["Cache-Control"] = "private, max-age=3600"
        return response


class JobModelDownloadView(APIView):
    """The fitted scikit-learn pipeline of one model node, as a joblib file."""

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request: Request, job_id: str, node_id: str) -> FileResponse:
        job = selectors.job_get(user=request.user, job_id=job_id)
        model = selectors.trained_model_get(job=job, node_id=node_id)
        filename = f"{model.plugin}-{safe_name(node_id)}-{str(job.id)[:8]}.joblib"
        return FileResponse(
            default_storage.open(model.artifact_key, "rb"),
            as_attachment=True,
            filename=filename,
            content_type="application/octet-stream",
        )
