"""Helpers that tell API requests from browser page requests."""

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

# Paths that belong to an API family and always answer JSON, whatever the Accept header says.
API_PREFIXES = (
    "/api/",
    "/auth/",
    "/users/",
    "/environments",
    "/user-env-vars",
    "/user-files",
    "/activity",
    "/admin/users",
    "/admin/environments",
    "/admin/activity",
    "/health",
    "/workspace/",
    "/ws",
)


def is_api_path(path: str) -> bool:
    """True when ``path`` belongs to one of the documented API families."""
    return path.startswith(API_PREFIXES)


def wants_html(request: HttpRequest) -> bool:
    """True for a browser asking for a page: a non-API path whose Accept header prefers HTML."""
    if is_api_path(request.path) or "text/html" not in request.headers.get("Accept", ""):
        return False
    return request.get_preferred_type(["text/html", "application/json"]) == "text/html"


def client_ip(request: HttpRequest) -> str:
    """The caller's address. X-Forwarded-For is not trusted: a proxy must set REMOTE_ADDR."""
    return request.META.get("REMOTE_ADDR") or "unknown"


def safe_next(value: str | None) -> str:
    """``value`` when it is a same-site relative path, else ``"/"`` (no open redirects)."""
    # Django's check rejects schemes and hosts; the prefix test also rejects "evil.example/x".
    is_path = bool(value) and value.startswith("/") and not value.startswith(("//", "/\\"))
    return value if is_path and url_has_allowed_host_and_scheme(value, allowed_hosts=set()) else "/"
