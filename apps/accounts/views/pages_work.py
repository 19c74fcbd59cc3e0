"""Server-rendered work pages: environments, their terminals, and code sessions.

These views only render templates. Every piece of data reaches the page from the JSON API
(``/api/v1/environments``, ``/api/sessions/``, the WebSockets) through small ES modules in
``static/js``; the browser authenticates with the same HttpOnly JWT cookie, and unsafe API calls
carry Django's CSRF token, whose cookie these views make sure is set.

The views check ownership server-side, so another user's (or an unknown) id is a 404 before any
script runs.

``/environments`` is also 001's environment API (``GET``, ``POST``, ``DELETE``), which
``apps.environments`` serves. The same URL has two representations, as ``/`` does: a browser
navigating to it (a ``GET`` preferring ``text/html``, without a bearer token) gets the page, and
everyone else is handed to 001's view unchanged.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from apps.accounts.models import User
from apps.accounts.selectors import user_from_cookie
from apps.core.errors import NotFound
from apps.core.pages import login_redirect, render_page
from apps.environments import selectors as environment_selectors
from apps.environments.models import Environment
from apps.workspaces import selectors as workspace_selectors
from apps.workspaces.models import CodeSession


def _signed_in_user(request: HttpRequest) -> User | None:
    return user_from_cookie(request)


def _environment_or_404(user: User, environment_id: str) -> Environment:
    try:
        return environment_selectors.environment_get(user=user, environment_id=environment_id)
    except NotFound:
        raise Http404("Environment not found") from None


def _session_or_404(user: User, session_id: object) -> CodeSession:
    try:
        return workspace_selectors.session_get(user=user, session_id=session_id)
    except NotFound:
        raise Http404("Session not found") from None


def is_page_request(request: HttpRequest) -> bool:
    """True for a browser navigating to a page: a GET or HEAD that prefers HTML and carries no
    bearer token (API clients send ``Accept: */*`` or JSON, or an ``Authorization`` header)."""
    if request.method not in ("GET", "HEAD") or "Authorization" in request.headers:
        return False
    if "text/html" not in request.headers.get("Accept", ""):
        return False
    return request.get_preferred_type(["text/html", "application/json"]) == "text/html"


@csrf_exempt  # only for the API hand-off: 001's view does its own (cookie-only) CSRF check
def environments_page(request: HttpRequest) -> HttpResponse:
    """``/environments``: the environments page for browsers; 001's environment API otherwise."""
    if not is_page_request(request):
        from apps.environments.views.cmb import CmbEnvironmentsView

        response = CmbEnvironmentsView.as_view()(request)
    else:
        user = _signed_in_user(request)
        response = login_redirect(request) if user is None else render_page(request, "environments.html")
    patch_vary_headers(response, ["Accept"])
    return response


def _environment_page(request: HttpRequest, environment_id: str, template: str) -> HttpResponse:
    """A page about one of the signed-in user's environments (another user's id is a 404)."""
    user = _signed_in_user(request)
    if user is None:
        return login_redirect(request)
    environment = _environment_or_404(user, environment_id)
    return render_page(request, template, {"environment": environment})


@require_GET
def environment_detail_page(request: HttpRequest, environment_id: str) -> HttpResponse:
    """``/environments/<id>``: status, resources, metrics, logs and the terminal of one environment."""
    return _environment_page(request, environment_id, "environment_detail.html")


@require_GET
def environment_terminal_page(request: HttpRequest, environment_id: str) -> HttpResponse:
    """``/environments/<id>/terminal``: the environment's terminal, full page."""
    return _environment_page(request, environment_id, "terminal.html")


@require_GET
def sessions_page(request: HttpRequest) -> HttpResponse:
    """``/sessions``: the user's code sessions and a form to create one."""
    if _signed_in_user(request) is None:
        return login_redirect(request)
    return render_page(request, "sessions.html")


@require_GET
def session_page(request: HttpRequest, session_uuid: object) -> HttpResponse:
    """``/sessions/<uuid>``: a session's file tree, editor and terminal."""
    user = _signed_in_user(request)
    if user is None:
        return login_redirect(request)
    session = _session_or_404(user, session_uuid)
    return render_page(request, "session.html", {"session": session})
