"""Per-family rate limits on django-ratelimit, with the X-RateLimit-* headers on every response.

The counters live in the default cache, which is Redis in production mode, so every process
shares them. Each family keeps its documented numbers (see ``HANGAR_RATE_LIMITS``).
"""

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django_ratelimit.core import get_usage

from apps.core.errors import ErrorCode, error_response
from apps.core.http import client_ip

# (path prefix, scope for auth routes, scope for everything else), first match wins.
_FAMILIES = (
    ("/api/v1/auth/", "v1_auth", "v1_api"),
    ("/api/v1/", None, "v1_api"),
    ("/api/auth/", "automl_auth", "automl_api"),
    ("/api/users/", "exec_auth", "exec_api"),
    ("/api/sessions", None, "exec_api"),
    ("/api/workspace/", None, "exec_api"),
    ("/workspace/", None, "exec_api"),
    ("/api/datasets", None, "automl_api"),
    ("/api/jobs", None, "automl_api"),
    ("/api/workflows", None, "automl_api"),
    ("/api/credits", None, "automl_api"),
    ("/api/plugins", None, "automl_api"),
    ("/auth/", "cmb_auth", "cmb_auth"),
    ("/users/", None, "cmb_api"),
    ("/environments", None, "cmb_api"),
    ("/user-env-vars", None, "cmb_api"),
    ("/user-files", None, "cmb_api"),
    ("/activity", None, "cmb_api"),
    ("/admin/users", None, "cmb_api"),
    ("/admin/environments", None, "cmb_api"),
    ("/admin/activity", None, "cmb_api"),
    # The web pages' sign-in and registration forms; only their POSTs count (see scope_for).
    ("/login", "pages_auth", None),
    ("/register", "pages_auth", None),
)


def scope_for(path: str, method: str = "POST") -> str | None:
    """The rate-limit scope of a request, or None for unlimited routes (health, docs, page views)."""
    for prefix, auth_scope, api_scope in _FAMILIES:
        if path.startswith(prefix):
            if auth_scope == "pages_auth":
                return auth_scope if method == "POST" else None
            # A profile read is ordinary API traffic, not a sign-in attempt.
            if auth_scope and not path.rstrip("/").endswith("/me"):
                return auth_scope
            return api_scope
    return None


def _caller_key(request: HttpRequest, scope: str) -> str:
    """Sign-in scopes count per client IP, whatever token is sent (else any valid token would
    buy a fresh budget); the others count per user when a valid JWT names one (no query)."""
    from apps.accounts.tokens import user_id_from_request

    user_id = None if scope.endswith("_auth") else user_id_from_request(request)
    return f"user:{user_id}" if user_id else f"ip:{client_ip(request)}"


def _rate_for(request: HttpRequest, scope: str) -> str:
    """The scope's rate; API scopes grow with the caller's tier (carried in the access token)."""
    rate = settings.HANGAR_RATE_LIMITS[scope]
    if not scope.endswith("_api"):
        return rate
    from apps.accounts.tokens import tier_from_request

    tier = settings.HANGAR_TIERS.get(tier_from_request(request) or "free", {})
    count, _, period = rate.partition("/")
    return f"{int(count) * tier.get('rate_multiplier', 1)}/{period}"


def check_rate(request: HttpRequest, scope: str, *, key: Callable[[HttpRequest], str] | None = None) -> dict | None:
    """Count one hit of ``scope`` for the caller; the usage dict of django-ratelimit, or None."""
    rate = _rate_for(request, scope)
    return get_usage(
        request,
        group=f"hangar.{scope}",
        key=lambda _group, req: key(req) if key else _caller_key(req, scope),
        rate=rate,
        increment=True,
    )


def rate_limited_response(usage: dict) -> HttpResponse:
    """The 429 answered when a caller is over its limit, with the headers set."""
    response = error_response(f"Rate limit exceeded: {usage['limit']} requests per window", ErrorCode.RATE_LIMITED, 429)
    add_headers(response, usage)
    response["Retry-After"] = str(max(usage["time_left"], 1))
    return response


def add_headers(response: HttpResponse, usage: dict) -> None:
    """Set X-RateLimit-Limit, -Remaining and -Reset (a Unix time) on ``response``."""
    response["X-RateLimit-Limit"] = str(usage["limit"])
    response["X-RateLimit-Remaining"] = str(max(usage["limit"] - usage["count"], 0))
    response["X-RateLimit-Reset"] = str(int(time.time()) + max(usage["time_left"], 0))


class RateLimitMiddleware:
    """Apply the family's limit to every API route and report it in headers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        scope = scope_for(request.path, request.method) if request.method != "OPTIONS" else None
        usage = check_rate(request, scope) if scope else None
        if usage and usage["should_limit"]:
            return rate_limited_response(usage)
        response = self.get_response(request)
        if usage and not response.has_header("X-RateLimit-Limit"):
            add_headers(response, usage)
        return response
