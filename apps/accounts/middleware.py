"""Keeps a browser signed in: an expired access cookie is renewed from the refresh cookie."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from apps.accounts.tokens import (
    TokenPair,
    clear_auth_cookies,
    rotate_refresh_for_browser,
    set_auth_cookies,
    valid_access_token,
)
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
            _user, pair = rotate_refresh_for_browser(refresh)
        except HangarError:
            pair = None
        if pair is not None:
            # The view sees the new pair, so a logout blacklists the refresh token it replaces.
            request.COOKIES[settings.JWT_ACCESS_COOKIE] = pair.access
            request.COOKIES[settings.JWT_REFRESH_COOKIE] = pair.refresh
        else:
            request.COOKIES.pop(settings.JWT_ACCESS_COOKIE, None)
        response = self.get_response(request)
        if settings.JWT_ACCESS_COOKIE in response.cookies:
            return response  # the view signed in or out itself; its cookies win
        if pair is not None:
            set_auth_cookies(response, pair)
        else:
            clear_auth_cookies(response)
        return response
