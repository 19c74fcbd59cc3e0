"""000's one-click pipeline: ``POST /api/v1/pipeline/deploy``, its status and its history."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.pagination import paginate
from apps.deployments.selectors_pipelines import pipeline_get, pipeline_history_item, pipeline_list, pipeline_status
from apps.deployments.services.deployments import validate_resources
from apps.deployments.services.pipelines import pipeline_deploy
from apps.environments.views.common import validated

STARTED_MESSAGE = "Pipeline started. Use /pipeline/status/{pipeline_id} to track progress."


class PipelineDeployInput(serializers.Serializer):
    """The documented form: the notebook and the deploy options, each with its default."""

    file = serializers.FileField()
    cpu = serializers.CharField(required=False, default="1", max_length=16)
    memory = serializers.CharField(required=False, default="512Mi", max_length=16)
    min_instances = serializers.IntegerField(required=False, default=0)
    max_instances = serializers.IntegerField(required=False, default=10)


PipelineStatusOutput = inline_serializer(
    name="PipelineStatus",
    fields={
        "pipeline_id": serializers.CharField(),
        "notebook_id": serializers.IntegerField(),
        "build_id": serializers.IntegerField(allow_null=True),
        "deployment_id": serializers.IntegerField(allow_null=True),
        "current_step": serializers.CharField(),
        "status": serializers.CharField(),
        "steps_completed": serializers.ListField(child=serializers.CharField()),
        "error_message": serializers.CharField(allow_null=True),
        "notebook_status": serializers.CharField(allow_null=True),
        "build_status": serializers.CharField(allow_null=True),
        "deployment_status": serializers.CharField(allow_null=True),
        "service_url": serializers.CharField(allow_null=True),
        "trigger": serializers.CharField(),
        "created_at": serializers.DateTimeField(),
        "finished_at": serializers.DateTimeField(allow_null=True),
    },
)


class PipelineDeployView(APIView):
    """Upload a notebook and start its pipeline (parse, dependencies, upload, build, deploy).

    The file is checked as an upload is (not .ipynb, too large, not a notebook) before anything
    starts; the steps then run as Celery work. Answers 202 with the ``pipeline_id`` to follow.
    """

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": PipelineDeployInput},
        responses={
            202: inline_serializer(
                name="PipelineStarted",
                fields={
                    "pipeline_id": serializers.CharField(),
                    "notebook_id": serializers.IntegerField(),
                    "status": serializers.CharField(),
                    "message": serializers.CharField(),
                },
            )
        },
    )
    def post(self, request: Request) -> Response:
        data = validated(PipelineDeployInput, request)
        options = {key: data[key] for key in ("cpu", "memory", "min_instances", "max_instances")}
        validate_resources(**options)
        pipeline = pipeline_deploy(owner=request.user, uploaded_file=data["file"], request=request, **options)
        body = {
            "pipeline_id": pipeline.pipeline_id,
            "notebook_id": pipeline.notebook_id,
            "status": pipeline.status,
            "message": STARTED_MESSAGE,
        }
        return Response(body, status=202)


class PipelineStatusView(APIView):
    """Where one of the caller's pipelines is: its step, status, error and what it made."""

    @extend_schema(responses=PipelineStatusOutput)
    def get(self, request: Request, pipeline_id: str) -> Response:
        return Response(pipeline_status(pipeline_get(user=request.user, pipeline_id=pipeline_id)))


class PipelineHistoryView(APIView):
    """The caller's pipelines, newest first (``skip`` >= 0, ``limit`` 1-100, default 20)."""

    @extend_schema(
        parameters=[
            inline_serializer(
                name="PipelineHistoryQuery",
                fields={
                    "skip": serializers.IntegerField(required=False, min_value=0),
                    "limit": serializers.IntegerField(required=False, min_value=1, max_value=100),
                },
            )
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        page = paginate(pipeline_list(user=request.user), request, default_limit=20, max_limit=100)
        return Response({"total": page.total, "pipelines": [pipeline_history_item(p) for p in page.items]})
