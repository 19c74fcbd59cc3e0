"""001's routes: ``/auth/login``, ``/auth/logout``, ``/users/me``, ``/admin/users``."""

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import services
from apps.accounts.permissions import IsHangarAdmin
from apps.accounts.selectors import user_from_cookie, user_list
from apps.accounts.serializers import CmbUserSerializer, LoginInput
from apps.accounts.tokens import clear_auth_cookies, tokens_for, valid_access_token
from apps.accounts.views.common import refresh_from, require_same_origin, signed_in_response, validated
from apps.core.envelopes import cmb_response
from apps.core.pagination import limit_param


class CmbLoginView(APIView):
    """Start Google OAuth (the documented flow) and answer its ``auth_url``.

    A body with a username or email and a password signs in directly instead, setting the
    cookie, so ``curl -c cookies.txt`` works on a Hangar without OAuth configured.
    """

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=LoginInput, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request) -> Response:
        if hasattr(request.data, "get") and request.data.get("password"):
            require_same_origin(request)
            data = validated(LoginInput, request)
            user = services.user_login(identifier=data["identifier"], password=data["password"], request=request)
            body = {"status": "success", "message": "Logged in", "data": CmbUserSerializer(user).data}
            return signed_in_response(user, body, pair=tokens_for(user))
        from apps.accounts.oauth import authorization_url, bind_state_to_browser

        url = authorization_url(request, provider="google", flow="cmb")
        response = Response({"status": "success", "auth_url": url, "message": "Redirect to auth_url to login"})
        bind_state_to_browser(response, url)
        return response


class CmbLogoutView(APIView):
    """Sign out: blacklist the cookie's refresh token and clear the cookies."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        user = user_from_cookie(request)
        if user is not None:
            access = valid_access_token(request.COOKIES.get(settings.JWT_ACCESS_COOKIE))
            services.user_logout(user=user, refresh=refresh_from(request), access=access, request=request)
        response = cmb_response(message="Logged out successfully")
        clear_auth_cookies(response)
        return response

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request) -> Response:
        """001 documents GET; POST is accepted too, since signing out changes state."""
        return self.get(request)


class CmbMeView(APIView):
    """The caller, in 001's envelope."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        return cmb_response(CmbUserSerializer(request.user).data)


class CmbAdminUsersView(APIView):
    """Every user, for admins."""

    permission_classes = [IsHangarAdmin]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        users = user_list()[: limit_param(request, default=100)]
        return cmb_response({"users": CmbUserSerializer(users, many=True).data})
