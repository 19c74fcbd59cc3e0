"""003's /api/datasets: upload URL, signed upload, confirm, list, detail, delete, job status."""

import math

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.datasets import selectors, services
from apps.datasets.serializers import (
    ConfirmInput,
    ConfirmOutput,
    DatasetListQuery,
    DatasetPageOutput,
    DatasetSerializer,
    IngestionJobSerializer,
    UploadReceivedOutput,
    UploadUrlInput,
    UploadUrlOutput,
)
from apps.environments.views.common import validated, validated_query


class UploadUrlView(APIView):
    """A signed URL to upload one file to (tier size limit: 413; storage quota: 400)."""

    @extend_schema(request=UploadUrlInput, responses=UploadUrlOutput)
    def post(self, request: Request) -> Response:
        data = validated(UploadUrlInput, request)
        answer = services.upload_url_create(user=request.user, request=request, **data)
        return Response(UploadUrlOutput(answer).data)


class UploadReceiveView(APIView):
    """The embedded mode's upload URL: ``PUT`` the raw file bytes; the signature is the credential.

    403 for a tampered URL, 410 once expired, 409 when already used, 413 past the declared size.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes: list = []  # the body is streamed to storage, never parsed

    @extend_schema(
        operation_id="datasets_upload_put",
        auth=[],
        request={"application/octet-stream": OpenApiTypes.BINARY},
        parameters=[
            OpenApiParameter("expires", OpenApiTypes.INT, OpenApiParameter.QUERY, required=True),
            OpenApiParameter("signature", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True),
        ],
        responses=UploadReceivedOutput,
    )
    def put(self, request: Request, upload_id: str) -> Response:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or "")
        except ValueError:
            length = None
        intent = services.upload_receive(
            upload_id=str(upload_id),
            expires=request.query_params.get("expires", ""),
            signature=request.query_params.get("signature", ""),
            body=request._request,  # Django's request is a file-like view of the (spooled) body
            content_length=length,
        )
        return Response(
            UploadReceivedOutput(
                {"upload_id": intent.id, "size_bytes": intent.uploaded_size_bytes, "message": "Upload received"}
            ).data
        )


class ConfirmView(APIView):
    """Turn an uploaded file into a dataset (or a new version) and start its ingestion."""

    @extend_schema(request=ConfirmInput, responses=ConfirmOutput)
    def post(self, request: Request) -> Response:
        data = validated(ConfirmInput, request)
        job = services.dataset_confirm(user=request.user, request=request, **data)
        body = {
            "job_id": job.id,
            "dataset_id": job.dataset_id,
            "dataset_version_id": job.dataset_version_id,
            "version_number": job.dataset_version.version_number,
            "status": "pending",
            "estimated_duration_seconds": job.estimated_duration_seconds,
        }
        return Response(ConfirmOutput(body).data)


class DatasetListView(APIView):
    """The caller's datasets: ``page``, ``per_page`` (max 100), ``problem_type``, ``search``,
    ``sort_by`` (created_at, updated_at, name), ``sort_order`` (asc, desc)."""

    @extend_schema(operation_id="datasets_list", parameters=[DatasetListQuery], responses=DatasetPageOutput)
    def get(self, request: Request) -> Response:
        query = validated_query(DatasetListQuery, request)
        page, per_page = query.pop("page"), query.pop("per_page")
        datasets = selectors.dataset_list(user=request.user, **query)
        total = datasets.count()
        items = datasets[(page - 1) * per_page : page * per_page]
        return Response(
            {
                "datasets": DatasetSerializer(items, many=True).data,
                "total": total,
                "page": page,
                "per_page": per_page,
                "total_pages": math.ceil(total / per_page),
            }
        )


class DatasetDetailView(APIView):
    """One dataset with full column metadata; ``DELETE`` removes it, every version and every file."""

    @extend_schema(responses=DatasetSerializer)
    def get(self, request: Request, dataset_id: int) -> Response:
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
        return Response(DatasetSerializer(dataset).data)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def delete(self, request: Request, dataset_id: int) -> Response:
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
        services.dataset_delete(dataset=dataset, request=request)
        return Response({"message": "Dataset deleted successfully"})


class IngestionJobView(APIView):
    """The status and progress of one ingestion job."""

    @extend_schema(responses=IngestionJobSerializer)
    def get(self, request: Request, job_id: str) -> Response:
        job = selectors.ingestion_job_get(user=request.user, job_id=job_id)
        return Response(IngestionJobSerializer(job).data)
