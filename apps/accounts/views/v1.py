"""The auth routes 000 and 004 share under ``/api/v1/auth/``."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import services
from apps.accounts.serializers import (
    LoginInput,
    OptionalRefreshInput,
    RefreshInput,
    RegisterInput,
    TokenInput,
    TokenPairOutput,
    UserSerializer,
)
from apps.accounts.tokens import clear_auth_cookies, rotate_refresh
from apps.accounts.views.common import refresh_from, token_response, validated
from apps.core.errors import ErrorCode, HangarError
from apps.core.ratelimit import check_rate, rate_limited_response


class RegisterView(APIView):
    """Create an account; answers 201 with the user object."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=RegisterInput, responses={201: UserSerializer})
    def post(self, request: Request) -> Response:
        data = validated(RegisterInput, request)
        user = services.user_register(**data, request=request)
        return Response(UserSerializer(user).data, status=201)


class LoginView(APIView):
    """Sign in with form data or JSON, by username or email."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=LoginInput, responses=TokenPairOutput)
    def post(self, request: Request) -> Response:
        data = validated(LoginInput, request)
        user = services.user_login(identifier=data["identifier"], password=data["password"], request=request)
        return token_response(user)


class RefreshView(APIView):
    """Rotate a refresh token; the old one is blacklisted."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=RefreshInput, responses=TokenPairOutput)
    def post(self, request: Request) -> Response:
        token = validated(RefreshInput, request)["token"]
        _user, pair = rotate_refresh(token)
        return Response(pair.as_dict())


class MeView(APIView):
    """The caller's profile."""

    @extend_schema(responses=UserSerializer)
    def get(self, request: Request) -> Response:
        return Response(UserSerializer(request.user).data)


class LogoutView(APIView):
    """Blacklist the refresh token and revoke the access token in use."""

    @extend_schema(request=OptionalRefreshInput, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request) -> Response:
        services.user_logout(user=request.user, refresh=refresh_from(request), access=request.auth, request=request)
        response = Response({"message": "Successfully logged out"})
        clear_auth_cookies(response)
        return response


class VerifyEmailView(APIView):
    """Confirm an email address with the token from the verification email."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=TokenInput, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request) -> Response:
        token = validated(TokenInput, request)["token"]
        user = services.email_verify(token=token, request=request)
        return Response({"message": "Email verified successfully", "email": user.email, "is_verified": True})


class ResendVerificationView(APIView):
    """Send the verification email again (rate limited per user)."""

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request) -> Response:
        if request.user.is_verified:
            raise HangarError("Email is already verified", error_code=ErrorCode.BAD_REQUEST, status_code=400)
        usage = check_rate(request, "resend_verification", key=lambda _req: f"user:{request.user.pk}")
        if usage and usage["should_limit"]:
            return rate_limited_response(usage)
        services.email_verification_send(user=request.user)
        return Response({"message": "Verification email sent", "email": request.user.email})
