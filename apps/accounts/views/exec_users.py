"""002's user routes: ``/api/users/register`` and ``/api/users/login``, in 002's envelope."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import services
from apps.accounts.serializers import ExecUserSerializer, LoginInput, RegisterInput
from apps.accounts.tokens import tokens_for
from apps.accounts.views.common import validated
from apps.core.envelopes import exec_response
from apps.core.errors import ErrorCode, HangarError


class ExecRegisterView(APIView):
    """Register; 002 documents an existing username or email as a 400."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=RegisterInput, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        data = validated(RegisterInput, request)
        try:
            user = services.user_register(**data, request=request)
        except HangarError as exc:
            if exc.error_code != ErrorCode.CONFLICT:
                raise
            raise HangarError(str(exc.detail), error_code=ErrorCode.CONFLICT, status_code=400) from None
        return exec_response(
            "User registered successfully",
            {"user_id": user.pk},
            http_status=201,
            user=ExecUserSerializer(user).data,
        )


class ExecLoginView(APIView):
    """Log in by username or email; the tokens come inside ``data`` (Hangar requires them)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=LoginInput, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request) -> Response:
        data = validated(LoginInput, request)
        user = services.user_login(identifier=data["identifier"], password=data["password"], request=request)
        pair = tokens_for(user)
        response = exec_response(
            "Login successful",
            {"user_id": user.pk, **pair.as_dict()},
            user=ExecUserSerializer(user).data,
        )
        return response
