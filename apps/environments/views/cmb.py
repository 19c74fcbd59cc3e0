"""001's environment routes over the same objects: /environments, /environments/list,
/environments/{env_id}/info, /environments/heartbeat and /admin/environments."""

import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import IsHangarAdmin
from apps.core.envelopes import cmb_response
from apps.core.errors import ErrorCode, HangarError
from apps.core.pagination import limit_param
from apps.environments import selectors
from apps.environments.models import Environment, Template
from apps.environments.serializers import (
    CmbAdminEnvironmentSerializer,
    CmbEnvironmentCreateInput,
    CmbEnvironmentSerializer,
    HeartbeatInput,
)
from apps.environments.services import environments as services
from apps.environments.views.common import validated

_ENV_ID = re.compile(r"^env-[0-9a-f]{32}$")
# The template 001's POST uses when the body names no image.
DEFAULT_TEMPLATE_NAME = "python-3.11"


def _checked_env_id(raw: str) -> str:
    """001 answers a malformed id with 400 BAD_REQUEST, as its error examples show."""
    if not _ENV_ID.match(raw or ""):
        raise HangarError("Invalid environment ID format", error_code=ErrorCode.BAD_REQUEST, status_code=400)
    return raw


def _template_for(image: str | None) -> Template:
    if image:
        template = selectors.template_for_image(image=image.strip())
        if template is None:
            raise HangarError(
                f"Image '{image}' is not available on this Hangar; use a template image (see GET /api/v1/templates)",
                error_code="IMAGE_UNAVAILABLE",
                status_code=400,
            )
        return template
    usable = selectors.template_list().exclude(status=Template.Status.DEPRECATED)
    template = usable.filter(name=DEFAULT_TEMPLATE_NAME).first() or usable.first()
    if template is None:
        raise HangarError(
            "No environment templates exist yet; an admin must initialize them",
            error_code="IMAGE_UNAVAILABLE",
            status_code=400,
        )
    return template


class CmbEnvironmentsView(APIView):
    """POST creates, GET answers the active environment, DELETE removes one (latest by default)."""

    @extend_schema(request=CmbEnvironmentCreateInput, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        data = validated(CmbEnvironmentCreateInput, request)
        template = _template_for(data.get("image"))
        config = data.get("config") or {}
        environment = services.environment_create(
            owner=request.user,
            template=template,
            name=config.get("name") or f"{template.display_name} environment",
            description=config.get("description", ""),
            application_id=data.get("application_id", ""),
            request=request,
        )
        return cmb_response(CmbEnvironmentSerializer(environment).data, status="created", http_status=201)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        environment = selectors.environment_active(user=request.user)
        active = environment is not None and environment.status in Environment.LIVE_STATUSES
        body = CmbEnvironmentSerializer(environment).data if environment is not None else None
        return cmb_response({"active": active, "environment": body})

    @extend_schema(parameters=[OpenApiParameter("env_id", str, required=False)], responses=OpenApiTypes.OBJECT)
    def delete(self, request: Request) -> Response:
        raw = request.query_params.get("env_id")
        if raw is not None:
            environment = selectors.environment_get(user=request.user, environment_id=_checked_env_id(raw))
        else:
            environment = selectors.environment_latest(user=request.user)
        services.environment_delete(environment=environment, request=request)
        return cmb_response(status="deleted", message="Environment deleted successfully")


class CmbEnvironmentListView(APIView):
    """All the caller's environments (multi-environment support)."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        environments = selectors.environment_list(user=request.user)
        return cmb_response({"environments": CmbEnvironmentSerializer(environments, many=True).data})


class CmbEnvironmentInfoView(APIView):
    """Uptime and time until auto-shutdown, from the caller's tier."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, env_id: str) -> Response:
        environment = selectors.environment_get(user=request.user, environment_id=_checked_env_id(env_id))
        limits = request.user.tier_limits
        uptime = selectors.environment_uptime_minutes(environment=environment)
        max_uptime = int(limits.get("max_uptime_minutes") or 0)
        auto_shutdown = bool(limits.get("auto_shutdown_enabled"))
        until = None
        if auto_shutdown and max_uptime > 0 and environment.status == Environment.Status.RUNNING:
            until = max(max_uptime - uptime, 0)
        return cmb_response(
            {
                "environment": CmbEnvironmentSerializer(environment).data,
                "uptime_minutes": uptime,
                "max_uptime_minutes": max_uptime,
                "auto_shutdown_enabled": auto_shutdown,
                "time_until_shutdown_minutes": until,
                "subscription_tier": request.user.tier,
            }
        )


class CmbHeartbeatView(APIView):
    """Keep the caller's environments (or the one named by ``env_id``) from the idle timeout."""

    @extend_schema(request=HeartbeatInput, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request) -> Response:
        data = validated(HeartbeatInput, request)
        environment = None
        if data.get("env_id"):
            environment = selectors.environment_get(user=request.user, environment_id=_checked_env_id(data["env_id"]))
        services.environment_heartbeat(user=request.user, environment=environment)
        return cmb_response(message="Heartbeat received")


class CmbAdminEnvironmentsView(APIView):
    """Every user's environments, for admins."""

    permission_classes = [IsHangarAdmin]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        environments = selectors.environment_list_all()[: limit_param(request, default=100)]
        return cmb_response({"environments": CmbAdminEnvironmentSerializer(environments, many=True).data})
