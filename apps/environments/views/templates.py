"""004's templates: list and get for everyone signed in; create, update, deprecate, initialize for admins."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import IsHangarAdmin
from apps.environments import selectors
from apps.environments.serializers import TemplateInput, TemplateListQuery, TemplateSerializer
from apps.environments.services import templates as services
from apps.environments.views.common import validated, validated_query


class _AdminWrites(APIView):
    """Reads need a signed-in user; writes need the admin role."""

    def get_permissions(self) -> list:
        if self.request.method in ("GET", "HEAD", "OPTIONS"):
            return [IsAuthenticated()]
        return [IsAuthenticated(), IsHangarAdmin()]


class TemplateListView(_AdminWrites):
    """List templates (``category`` and ``status`` filters) or create one."""

    @extend_schema(parameters=[TemplateListQuery], responses=TemplateSerializer(many=True))
    def get(self, request: Request) -> Response:
        filters = validated_query(TemplateListQuery, request)
        return Response(TemplateSerializer(selectors.template_list(**filters), many=True).data)

    @extend_schema(request=TemplateInput, responses={201: TemplateSerializer})
    def post(self, request: Request) -> Response:
        template = services.template_create(actor=request.user, data=validated(TemplateInput, request))
        return Response(TemplateSerializer(template).data, status=201)


class TemplateDetailView(_AdminWrites):
    """Get, update or deprecate one template."""

    @extend_schema(responses=TemplateSerializer)
    def get(self, request: Request, template_id: str) -> Response:
        return Response(TemplateSerializer(selectors.template_get(template_id=template_id)).data)

    @extend_schema(request=TemplateInput, responses=TemplateSerializer)
    def put(self, request: Request, template_id: str) -> Response:
        template = selectors.template_get(template_id=template_id)
        data = validated(TemplateInput, request, partial=True)
        return Response(
            TemplateSerializer(services.template_update(template=template, actor=request.user, data=data)).data
        )

    patch = put

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def delete(self, request: Request, template_id: str) -> Response:
        template = services.template_deprecate(
            template=selectors.template_get(template_id=template_id), actor=request.user
        )
        return Response({"message": "Template deprecated", "id": str(template.pk), "status": template.status})


class TemplateInitializeView(APIView):
    """Create the five default templates; calling it again creates nothing more."""

    permission_classes = [IsAuthenticated, IsHangarAdmin]

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request) -> Response:
        templates, created = services.templates_initialize_defaults(actor=request.user)
        return Response(
            {
                "message": "Default templates initialized",
                "created": created,
                "templates": TemplateSerializer(templates, many=True).data,
            }
        )
