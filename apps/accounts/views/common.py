"""Pieces every family's auth views share."""

from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from apps.accounts.models import User
from apps.accounts.serializers import UserSerializer
from apps.accounts.tokens import TokenPair, set_auth_cookies, tokens_for
from apps.core.errors import ErrorCode, HangarError


def validated(serializer_class: type[Serializer], request: Request) -> dict:
    """Validate the request body; bad input raises a 400 with field ``errors``."""
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def signed_in_response(
    user: User, body: dict[str, Any], *, status: int = 200, pair: TokenPair | None = None
) -> Response:
    """A response that also stores the tokens in the browser cookies."""
    response = Response(body, status=status)
    set_auth_cookies(response, pair or tokens_for(user))
    return response


def token_response(user: User) -> Response:
    """The sign-in answer of 000, 003 and 004: a fresh pair, ``token_type``, ``expires_in`` and
    the user. No cookie: these clients send bearer tokens, and a cookie set by a JSON route that
    any site can post a form to would let that site sign a browser into its own account."""
    pair = tokens_for(user)
    return Response({**pair.as_dict(), "user": UserSerializer(user).data})


def require_same_origin(request: Request) -> None:
    """Refuse a cookie-setting sign-in posted from another site (login CSRF)."""
    origin = request.headers.get("Origin")
    if not origin or origin in settings.CSRF_TRUSTED_ORIGINS:
        return
    if urlparse(origin).netloc != request.get_host():
        raise HangarError("Cross-site sign-in refused", error_code=ErrorCode.FORBIDDEN, status_code=403)


def refresh_from(request: Request) -> str | None:
    """The refresh token a logout names: in the body, else the browser cookie."""
    data = request.data if hasattr(request.data, "get") else {}
    return data.get("refresh_token") or data.get("refresh") or request.COOKIES.get(settings.JWT_REFRESH_COOKIE)


def dev_login_allowed() -> bool:
    """003's dev-login works only with DEBUG or a development environment."""
    return settings.DEBUG or settings.ENVIRONMENT == "development"
