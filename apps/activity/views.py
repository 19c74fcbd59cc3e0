"""001's activity routes: ``GET /activity`` and ``GET /admin/activity``."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import IsHangarAdmin
from apps.activity.selectors import activity_all, activity_for_user
from apps.activity.serializers import ActivitySerializer
from apps.core.envelopes import cmb_response
from apps.core.pagination import int_param, limit_param


class ActivityView(APIView):
    """The caller's activity log."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        items = activity_for_user(user=request.user, limit=limit_param(request, default=50))
        return cmb_response({"activities": ActivitySerializer(items, many=True).data})


class AdminActivityView(APIView):
    """Every user's activity, for admins, optionally filtered by ``user_id``."""

    permission_classes = [IsHangarAdmin]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        user_id = int_param(request, "user_id", None, 1, 2**63 - 1)
        items = activity_all(limit=limit_param(request, default=100), user_id=user_id)
        return cmb_response({"activities": ActivitySerializer(items, many=True).data})
