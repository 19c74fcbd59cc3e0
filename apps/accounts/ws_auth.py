"""WebSocket authentication: a JWT from ``?token=`` or from the access cookie."""

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from apps.accounts.tokens import user_for_access_token, valid_access_token


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
def _user_for(raw: str | None) -> Any:
    return user_for_access_token(raw) or AnonymousUser()


def _jti(raw: str | None) -> str | None:
    token = valid_access_token(raw)
    return str(token.get("jti")) if token is not None else None


class JWTWebSocketAuthMiddleware(BaseMiddleware):
    """Put the token's user in ``scope["user"]``; consumers refuse anonymous connections."""

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        raw = _raw_token(scope)
        scope["user"] = await _user_for(raw)
        scope["token_jti"] = _jti(raw)  # so a logout can close the sockets this token opened
        return await super().__call__(scope, receive, send)
