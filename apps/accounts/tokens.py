"""JWT issuing, rotation, revocation and the browser cookies that carry them."""

import contextlib
import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, Token

from apps.accounts.models import User
from apps.core.errors import ErrorCode, HangarError

_REVOKED_PREFIX = "jwt:revoked:"
_ROTATED_PREFIX = "jwt:rotated:"
ROTATION_GRACE_SECONDS = 10
TIER_CLAIM = "tier"


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
    """Issue a fresh pair for ``user``; the refresh token is recorded so it can be blacklisted.

    The access token carries the user's tier, so rate limits can follow it without a query.
    """
    refresh = RefreshToken.for_user(user)
    access = refresh.access_token
    access[TIER_CLAIM] = user.tier
    return TokenPair(access=str(access), refresh=str(refresh), expires_in=_lifetime_seconds())


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
    try:
        _entry, created = refresh.blacklist()
    except IntegrityError:
        created = False
    if not created:
        # Another request redeemed the same token a moment ago: only one of them may win.
        raise _invalid("Refresh token is invalid: Token is blacklisted")
    return user, tokens_for(user)


def rotate_refresh_for_browser(raw_refresh: str) -> tuple[User | None, TokenPair]:
    """``rotate_refresh`` for the cookie middleware: a browser fires parallel requests with the
    same expired access cookie, so for a few seconds each of them gets the same new pair."""
    key = _ROTATED_PREFIX + hashlib.sha256(raw_refresh.encode()).hexdigest()
    cached = cache.get(key)
    if cached:
        return None, TokenPair(**cached)
    try:
        user, pair = rotate_refresh(raw_refresh)
    except HangarError:
        time.sleep(0.2)  # the request that won may still be storing its pair
        cached = cache.get(key)
        if not cached:
            raise
        return None, TokenPair(**cached)
    cache.set(key, pair.__dict__, timeout=ROTATION_GRACE_SECONDS)
    return user, pair


def blacklist_refresh(raw_refresh: str, *, owner: User) -> None:
    """Blacklist one of ``owner``'s refresh tokens; an invalid one, or another user's, is ignored
    (logout is idempotent, and nobody may sign someone else out)."""
    with contextlib.suppress(TokenError):
        refresh = RefreshToken(raw_refresh)
        if str(refresh.payload.get(api_settings.USER_ID_CLAIM)) == str(owner.pk):
            refresh.blacklist()


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


def tier_from_request(request: HttpRequest) -> str | None:
    """The tier a request's valid access token carries, without touching the database."""
    raw = raw_access_token(request)
    if not raw:
        return None
    try:
        return AccessToken(raw).get(TIER_CLAIM)
    except TokenError:
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
