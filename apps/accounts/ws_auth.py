"""WebSocket authentication: a JWT from ``?token=`` or from the access cookie."""

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken

from apps.accounts.models import User
from apps.accounts.tokens import is_access_revoked


def _raw_token(scope: dict) -> str | None:
    query = parse_qs(scope.get("query_string", b"").decode())
    if query.get("token"):
        return query["token"][0]
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            for part in value.decode().split(";"):
                key, _, cookie_value = part.strip().partition("=")
                if key == settings.JWT_ACCESS_COOKIE:
                    return cookie_value
    return None


@database_sync_to_async
def user_for_token(raw: str | None) -> Any:
    """The active user a valid, unrevoked access token names, else AnonymousUser."""
    if not raw:
        return AnonymousUser()
    try:
        token = AccessToken(raw)
    except TokenError:
        return AnonymousUser()
    if is_access_revoked(token):
        return AnonymousUser()
    user = User.objects.filter(pk=token.get(api_settings.USER_ID_CLAIM), is_active=True).first()
    return user or AnonymousUser()


class JWTWebSocketAuthMiddleware(BaseMiddleware):
    """Put the token's user in ``scope["user"]``; consumers refuse anonymous connections."""

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        scope["user"] = await user_for_token(_raw_token(scope))
        return await super().__call__(scope, receive, send)
