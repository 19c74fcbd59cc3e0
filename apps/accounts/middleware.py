"""Keeps a browser signed in: an expired access cookie is renewed from the refresh cookie."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from apps.accounts.tokens import TokenPair, clear_auth_cookies, rotate_refresh, set_auth_cookies, valid_access_token
from apps.core.errors import HangarError


class JWTCookieRefreshMiddleware:
    """Rotate the refresh cookie when the access cookie has expired, before the view runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refresh = request.COOKIES.get(settings.JWT_REFRESH_COOKIE)
        if (
            not refresh
            or request.META.get("HTTP_AUTHORIZATION")
            or valid_access_token(request.COOKIES.get(settings.JWT_ACCESS_COOKIE))
        ):
            return self.get_response(request)
        pair: TokenPair | None
        try:
            _user, pair = rotate_refresh(refresh)
            request.COOKIES[settings.JWT_ACCESS_COOKIE] = pair.access
        except HangarError:
            pair = None
            request.COOKIES.pop(settings.JWT_ACCESS_COOKIE, None)
        response = self.get_response(request)
        if pair is not None:
            set_auth_cookies(response, pair)
        elif not response.cookies.get(settings.JWT_ACCESS_COOKIE):
            clear_auth_cookies(response)
        return response
