"""004's /api/v1/environments: CRUD, lifecycle actions, metrics and logs."""

from collections.abc import Callable

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.environments import selectors
from apps.environments.models import Environment
from apps.environments.serializers import (
    EnvironmentCreateInput,
    EnvironmentListQuery,
    EnvironmentSerializer,
    EnvironmentUpdateInput,
    LogsQuery,
)
from apps.environments.services import environments as services
from apps.environments.views.common import validated, validated_query


def _action_response(environment: Environment, message: str) -> Response:
    return Response(
        {
            "message": message,
            "environment_id": environment.id,
            "status": environment.status,
            "environment": EnvironmentSerializer(environment).data,
        }
    )


class EnvironmentListView(APIView):
    """List the caller's environments (``status``, ``template_id`` filters) or create one."""

    @extend_schema(parameters=[EnvironmentListQuery], responses=EnvironmentSerializer(many=True))
    def get(self, request: Request) -> Response:
        filters = validated_query(EnvironmentListQuery, request)
        environments = selectors.environment_list(user=request.user, **filters)
        return Response(EnvironmentSerializer(environments, many=True).data)

    @extend_schema(request=EnvironmentCreateInput, responses={201: EnvironmentSerializer})
    def post(self, request: Request) -> Response:
        data = validated(EnvironmentCreateInput, request)
        template = selectors.template_get(template_id=data.pop("template_id"))
        environment = services.environment_create(owner=request.user, template=template, request=request, **data)
        return Response(EnvironmentSerializer(environment).data, status=201)


class EnvironmentDetailView(APIView):
    """Get, update or delete one of the caller's environments."""

    @extend_schema(responses=EnvironmentSerializer)
    def get(self, request: Request, environment_id: str) -> Response:
        environment = selectors.environment_get(user=request.user, environment_id=environment_id)
        return Response(EnvironmentSerializer(environment).data)

    @extend_schema(request=EnvironmentUpdateInput, responses=EnvironmentSerializer)
    def put(self, request: Request, environment_id: str) -> Response:
        environment = selectors.environment_get(user=request.user, environment_id=environment_id)
        data = validated(EnvironmentUpdateInput, request)
        environment = services.environment_update(environment=environment, data=data, request=request)
        return Response(EnvironmentSerializer(environment).data)

    patch = put

    @extend_schema(responses={204: None})
    def delete(self, request: Request, environment_id: str) -> Response:
        environment = selectors.environment_get(user=request.user, environment_id=environment_id)
        services.environment_delete(environment=environment, request=request)
        return Response(status=204)


class _LifecycleActionView(APIView):
    """POST one lifecycle action on an environment; a wrong status answers 409."""

    service: Callable[..., Environment]  # set by each subclass; not "action", which DRF reserves
    message: str

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, environment_id: str) -> Response:
        environment = selectors.environment_get(user=request.user, environment_id=environment_id)
        return _action_response(self.service(environment=environment, request=request), self.message)


class EnvironmentStartView(_LifecycleActionView):
    """Start a stopped environment (409 from any other status)."""

    service = staticmethod(services.environment_start)
    message = "Environment is starting"


class EnvironmentStopView(_LifecycleActionView):
    """Stop a running environment (409 from any other status)."""

    service = staticmethod(services.environment_stop)
    message = "Environment stopped"


class EnvironmentRestartView(_LifecycleActionView):
    """Restart a running, stopped or failed environment (409 otherwise)."""

    service = staticmethod(services.environment_restart)
    message = "Environment is restarting"


class EnvironmentMetricsView(APIView):
    """Measured CPU, memory and storage of a running environment (409 otherwise)."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, environment_id: str) -> Response:
        environment = selectors.environment_get(user=request.user, environment_id=environment_id)
        return Response(selectors.environment_metrics(environment=environment))


class EnvironmentLogsView(APIView):
    """004's Log Response: ``lines`` (1-1000, default 100) and ``since`` (ISO 8601)."""

    @extend_schema(parameters=[LogsQuery], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, environment_id: str) -> Response:
        environment = selectors.environment_get(user=request.user, environment_id=environment_id)
        query = validated_query(LogsQuery, request)
        return Response(
            selectors.environment_logs(environment=environment, lines=query["lines"], since=query.get("since"))
        )
