"""JWT issuing, rotation, revocation and the browser cookies that carry them."""

import contextlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, Token

from apps.accounts.models import User
from apps.core.errors import ErrorCode, HangarError

_REVOKED_PREFIX = "jwt:revoked:"


@dataclass(frozen=True)
class TokenPair:
    """An access and a refresh token, with the access token's lifetime in seconds."""

    access: str
    refresh: str
    expires_in: int

    def as_dict(self) -> dict:
        """The token fields shared by every family's login response."""
        return {
            "access_token": self.access,
            "refresh_token": self.refresh,
            "token_type": "bearer",
            "expires_in": self.expires_in,
        }


def _lifetime_seconds() -> int:
    return int(api_settings.ACCESS_TOKEN_LIFETIME.total_seconds())


def tokens_for(user: User) -> TokenPair:
    """Issue a fresh pair for ``user``; the refresh token is recorded so it can be blacklisted."""
    refresh = RefreshToken.for_user(user)
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh), expires_in=_lifetime_seconds())


def _invalid(detail: str) -> HangarError:
    return HangarError(detail, error_code=ErrorCode.TOKEN_INVALID, status_code=401)


def rotate_refresh(raw_refresh: str) -> tuple[User, TokenPair]:
    """Trade a refresh token for a new pair. The old one is blacklisted, so reuse gets 401."""
    try:
        refresh = RefreshToken(raw_refresh)
    except TokenError as exc:
        raise _invalid(f"Refresh token is invalid: {exc}") from None
    user = User.objects.filter(pk=refresh.payload.get(api_settings.USER_ID_CLAIM)).first()
    if user is None or not user.is_active:
        raise HangarError(
            "Account is disabled or no longer exists", error_code=ErrorCode.ACCOUNT_DISABLED, status_code=401
        )
    refresh.blacklist()
    return user, tokens_for(user)


def blacklist_refresh(raw_refresh: str) -> None:
    """Blacklist one refresh token; an already invalid one is ignored (logout is idempotent)."""
    with contextlib.suppress(TokenError):
        RefreshToken(raw_refresh).blacklist()


def blacklist_all_refresh(user: User) -> None:
    """Blacklist every outstanding refresh token of ``user``."""
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

    for outstanding in OutstandingToken.objects.filter(user=user, expires_at__gt=timezone.now()):
        BlacklistedToken.objects.get_or_create(token=outstanding)


def revoke_access(token: Token) -> None:
    """Deny an access token until it would expire anyway (simplejwt blacklists refresh only)."""
    remaining = int(token["exp"] - timezone.now().timestamp())
    if remaining > 0:
        cache.set(_REVOKED_PREFIX + str(token["jti"]), True, timeout=remaining)


def is_access_revoked(token: Token) -> bool:
    """True for an access token revoked by logout."""
    return bool(cache.get(_REVOKED_PREFIX + str(token.get("jti"))))


def valid_access_token(raw: str | None) -> AccessToken | None:
    """The access token ``raw`` holds if it is valid and not revoked, else None."""
    if not raw:
        return None
    try:
        token = AccessToken(raw)
    except TokenError:
        return None
    return None if is_access_revoked(token) else token


def user_for_access_token(raw: str | None) -> User | None:
    """The active user a valid, unrevoked access token names, else None."""
    token = valid_access_token(raw)
    if token is None:
        return None
    return User.objects.filter(pk=token.get(api_settings.USER_ID_CLAIM), is_active=True).first()


def raw_access_token(request: HttpRequest) -> str | None:
    """The access token from the Authorization header, else from the browser cookie."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.startswith("Bearer "):
        return header[len("Bearer ") :].strip() or None
    return request.COOKIES.get(settings.JWT_ACCESS_COOKIE)


def user_id_from_request(request: HttpRequest) -> str | None:
    """The user id a request's valid access token names, without touching the database."""
    raw = raw_access_token(request)
    if not raw:
        return None
    try:
        return str(AccessToken(raw)[api_settings.USER_ID_CLAIM])
    except (TokenError, KeyError):
        return None


def set_auth_cookies(response: HttpResponse, pair: TokenPair) -> None:
    """Store the pair in HttpOnly, SameSite cookies for the browser and 001's routes."""
    options = {
        "httponly": True,
        "secure": settings.JWT_COOKIE_SECURE,
        "samesite": settings.JWT_COOKIE_SAMESITE,
    }
    refresh_age = int(api_settings.REFRESH_TOKEN_LIFETIME.total_seconds())
    response.set_cookie(settings.JWT_ACCESS_COOKIE, pair.access, max_age=refresh_age, **options)
    response.set_cookie(settings.JWT_REFRESH_COOKIE, pair.refresh, max_age=refresh_age, **options)


def clear_auth_cookies(response: HttpResponse) -> None:
    """Remove the JWT cookies."""
    response.delete_cookie(settings.JWT_ACCESS_COOKIE, samesite=settings.JWT_COOKIE_SAMESITE)
    response.delete_cookie(settings.JWT_REFRESH_COOKIE, samesite=settings.JWT_COOKIE_SAMESITE)
