"""001's activity routes: ``GET /activity`` and ``GET /admin/activity``."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import IsHangarAdmin
from apps.activity.selectors import activity_all, activity_for_user
from apps.activity.serializers import ActivitySerializer
from apps.core.envelopes import cmb_response
from apps.core.pagination import limit_param


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
        raw_user = request.query_params.get("user_id")
        if raw_user is not None and not raw_user.isdigit():
            raise ValidationError({"user_id": ["Must be a numeric user id."]})
        items = activity_all(limit=limit_param(request, default=100), user_id=int(raw_user) if raw_user else None)
        return cmb_response({"activities": ActivitySerializer(items, many=True).data})
