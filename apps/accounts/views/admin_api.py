"""000's Admin & IAM routes under ``/api/v1/admin/``; all need the admin role."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import selectors, services
from apps.accounts.permissions import IsHangarAdmin
from apps.accounts.serializers import AdminUserUpdateInput, RoleAssignInput, RoleSerializer, UserSerializer
from apps.accounts.views.common import validated
from apps.core.pagination import paginate


class AdminUsersView(APIView):
    """List users with ``skip`` and ``limit``; the total is in ``X-Total-Count``."""

    permission_classes = [IsHangarAdmin]

    @extend_schema(responses=UserSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = paginate(selectors.user_list(), request, default_limit=100)
        response = Response(UserSerializer(page.items, many=True).data)
        response["X-Total-Count"] = str(page.total)
        return response


class AdminUserDetailView(APIView):
    """Update a user's active flag, superuser flag, organization or tier."""

    permission_classes = [IsHangarAdmin]

    @extend_schema(request=AdminUserUpdateInput, responses=UserSerializer)
    def put(self, request: Request, user_id: int) -> Response:
        user = selectors.user_get(user_id=user_id)
        data = validated(AdminUserUpdateInput, request)
        user = services.user_admin_update(user=user, actor=request.user, data=data)
        return Response(UserSerializer(user).data)

    patch = put


class AdminRolesView(APIView):
    """Every role with its permission strings."""

    permission_classes = [IsHangarAdmin]

    @extend_schema(responses=RoleSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(RoleSerializer(selectors.role_list(), many=True).data)


class AdminRoleAssignView(APIView):
    """Give a user a role."""

    permission_classes = [IsHangarAdmin]

    @extend_schema(request=RoleAssignInput, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request) -> Response:
        data = validated(RoleAssignInput, request)
        user = services.role_assign(**data, actor=request.user)
        return Response({"message": "Role assigned", "user_id": user.pk, "role_id": data["role_id"]})


class AdminInitRolesView(APIView):
    """Create the default roles; calling it again changes nothing."""

    permission_classes = [IsHangarAdmin]

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request) -> Response:
        roles = services.roles_init_defaults()
        return Response({"message": "Default roles initialized", "roles": RoleSerializer(roles, many=True).data})
