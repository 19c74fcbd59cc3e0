"""DRF authentication: bearer JWTs, and the JWT cookie with CSRF protection."""

from django.conf import settings
from rest_framework.authentication import CSRFCheck
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.tokens import Token

from apps.accounts import tokens


class HangarJWTAuthentication(JWTAuthentication):
    """Bearer tokens; also refuses access tokens revoked by logout."""

    def get_validated_token(self, raw_token: bytes) -> Token:
        token = super().get_validated_token(raw_token)
        if tokens.is_access_revoked(token):
            raise AuthenticationFailed("Token has been revoked", code="token_not_valid")
        return token


class CookieJWTAuthentication(HangarJWTAuthentication):
    """The access token from the HttpOnly cookie. Unsafe methods must pass Django's CSRF check,
    because a browser sends the cookie on cross-site requests too."""

    def authenticate(self, request: Request):
        raw = request.COOKIES.get(settings.JWT_ACCESS_COOKIE)
        if not raw or request.META.get("HTTP_AUTHORIZATION"):
            return None
        token = self.get_validated_token(raw.encode())
        user = self.get_user(token)
        self._enforce_csrf(request)
        return user, token

    def _enforce_csrf(self, request: Request) -> None:
        check = CSRFCheck(lambda _request: None)
        check.process_request(request)
        reason = check.process_view(request, None, (), {})
        if reason:
            raise PermissionDenied(f"CSRF failed: {reason}")

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
