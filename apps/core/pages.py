"""What every server-rendered page of a signed-in user shares: the login redirect and rendering."""

from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers


def login_redirect(request: HttpRequest) -> HttpResponse:
    """Send a signed-out browser to the login page, and back here afterwards."""
    return redirect(f"{settings.LOGIN_URL}?next={quote(request.get_full_path())}")


def render_page(request: HttpRequest, template: str, context: dict | None = None) -> HttpResponse:
    """Render ``template``, making sure the ``csrftoken`` cookie the page's scripts send back is set."""
    get_token(request)
    response = render(request, template, context or {})
    # The page depends on who is signed in; a shared cache must not hand it to someone else.
    patch_vary_headers(response, ["Cookie"])
    response["Cache-Control"] = "private, no-store"
    return response
