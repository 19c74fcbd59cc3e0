"""000's /api/v1/deployments: deploy a build, list, inspect, stop, redeploy, logs."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.pagination import paginate
from apps.deployments import selectors
from apps.deployments.serializers import (
    DeploymentCreatedSerializer,
    DeploymentCreateInput,
    DeploymentListQuery,
    DeploymentListSerializer,
    DeploymentLogsQuery,
    DeploymentSerializer,
)
from apps.deployments.services import deployments as services
from apps.environments.views.common import validated, validated_query


class DeploymentListView(APIView):
    """List the caller's deployments (``skip``, ``limit``, ``status``) or deploy a build."""

    @extend_schema(
        operation_id="deployments_list", parameters=[DeploymentListQuery], responses=DeploymentListSerializer
    )
    def get(self, request: Request) -> Response:
        query = validated_query(DeploymentListQuery, request)
        page = paginate(selectors.deployment_list(user=request.user, status=query.get("status")), request)
        return Response(
            {
                "total": page.total,
                "skip": page.skip,
                "limit": page.limit,
                "deployments": DeploymentSerializer(page.items, many=True).data,
            }
        )

    @extend_schema(request=DeploymentCreateInput, responses={201: DeploymentCreatedSerializer})
    def post(self, request: Request) -> Response:
        data = validated(DeploymentCreateInput, request)
        notebook = selectors.deployable_notebook_get(user=request.user, notebook_id=data.pop("notebook_id"))
        build = selectors.deployable_build_get(user=request.user, build_id=data.pop("build_id"))
        deployment = services.deployment_trigger(
            owner=request.user, notebook=notebook, build=build, request=request, **data
        )
        return Response(DeploymentCreatedSerializer(deployment).data, status=201)


class DeploymentDetailView(APIView):
    """One of the caller's deployments."""

    @extend_schema(responses=DeploymentSerializer)
    def get(self, request: Request, deployment_id: str) -> Response:
        deployment = selectors.deployment_get(user=request.user, deployment_id=deployment_id)
        return Response(DeploymentSerializer(deployment).data)


class DeploymentStopView(APIView):
    """Stop a deployment (409 for a failed one); its URL answers 503 until the next deploy."""

    @extend_schema(request=None, responses=DeploymentSerializer)
    def post(self, request: Request, deployment_id: str) -> Response:
        deployment = selectors.deployment_get(user=request.user, deployment_id=deployment_id)
        deployment = services.deployment_stop(deployment=deployment, request=request)
        return Response(DeploymentSerializer(deployment).data)


class DeploymentRedeployView(APIView):
    """Deploy the same build again as a new revision; the current one serves until it is ready."""

    @extend_schema(request=None, responses={201: DeploymentCreatedSerializer})
    def post(self, request: Request, deployment_id: str) -> Response:
        deployment = selectors.deployment_get(user=request.user, deployment_id=deployment_id)
        revision = services.deployment_redeploy(deployment=deployment, request=request)
        return Response(DeploymentCreatedSerializer(revision).data, status=201)


class DeploymentLogsView(APIView):
    """The revision's recent log: the app's output and its start and exit lines."""

    @extend_schema(parameters=[DeploymentLogsQuery], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, deployment_id: str) -> Response:
        deployment = selectors.deployment_get(user=request.user, deployment_id=deployment_id)
        query = validated_query(DeploymentLogsQuery, request)
        return Response(selectors.deployment_logs(deployment=deployment, lines=query["lines"]))
