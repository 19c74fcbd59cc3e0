"""003's token routes under ``/api/auth/`` (the OAuth ones live in ``oauth.py``)."""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import services
from apps.accounts.serializers import (
    AutomlUserSerializer,
    DevLoginInput,
    OptionalRefreshInput,
    RefreshInput,
    TokenPairOutput,
)
from apps.accounts.tokens import clear_auth_cookies, rotate_refresh
from apps.accounts.views.common import dev_login_allowed, refresh_from, token_response, validated


class AutomlRefreshView(APIView):
    """Rotate a refresh token: ``{"access_token", "refresh_token"}``."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=RefreshInput, responses=TokenPairOutput)
    def post(self, request: Request) -> Response:
        _user, pair = rotate_refresh(validated(RefreshInput, request)["token"])
        return Response(pair.as_dict())


class AutomlLogoutView(APIView):
    """Blacklist the refresh token given (the access token is revoked too)."""

    @extend_schema(request=OptionalRefreshInput, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request) -> Response:
        services.user_logout(user=request.user, refresh=refresh_from(request), access=request.auth, request=request)
        response = Response({"message": "Logged out"})
        clear_auth_cookies(response)
        return response


class AutomlMeView(APIView):
    """003's profile, with the AutoML counters (datasets, workflows, models, storage, credits)."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        from apps.credits.selectors import credit_balance
        from apps.datasets.selectors import automl_counters

        body = AutomlUserSerializer(request.user).data
        body.update(credit_balance=float(credit_balance(user=request.user)), **automl_counters(user=request.user))
        return Response(body)


class DevLoginView(APIView):
    """Development-only sign-in by email; 404 unless DEBUG or a development environment."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=DevLoginInput, responses=TokenPairOutput)
    def post(self, request: Request) -> Response:
        if not dev_login_allowed():
            raise Http404
        data = validated(DevLoginInput, request)
        user = services.user_dev_login(**data, request=request)
        return token_response(user)
