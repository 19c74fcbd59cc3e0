"""Health, root and info routes of every family, and the JSON 404 and 500 handlers."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from apps.core import health
from apps.core.errors import ErrorCode, error_response
from apps.core.http import wants_html
from apps.runtime import registry

SERVICE = "Hangar"


def _now() -> str:
    return timezone.now().isoformat()


def _base() -> dict:
    return {
        "service": SERVICE,
        "version": settings.VERSION,
        "environment": settings.ENVIRONMENT,
        "mode": "production" if settings.REDIS_URL else "embedded",
        "uptime": health.uptime_seconds(),
        "timestamp": _now(),
    }


@csrf_exempt
@require_safe
def root(request: HttpRequest) -> HttpResponse:
    """001's and 003's API information; browsers get the dashboard page instead (see
    ``apps.accounts.views.pages.dashboard``, which owns the ``/`` route and calls this)."""
    return JsonResponse(
        {
            "name": SERVICE,
            "service": f"{SERVICE} API",
            "version": settings.VERSION,
            "status": "healthy",
            "docs": "/docs",
            "redoc": "/redoc",
            "health": "/health",
        }
    )


@csrf_exempt
@require_safe
def health_view(request: HttpRequest) -> JsonResponse:
    """``/health``: 001, 003 and 004's fields in one body, and how workloads are isolated."""
    return JsonResponse({"status": "healthy", **_base(), "runtime": registry.get_backend().describe()})


@csrf_exempt
@require_safe
def live(request: HttpRequest) -> JsonResponse:
    """``/health/live``: the process answers."""
    return JsonResponse({"status": "alive", "service": SERVICE, "timestamp": _now()})


@csrf_exempt
@require_safe
def ready(request: HttpRequest) -> JsonResponse:
    """``/health/ready``: the database, plus cache and broker when they are external; 503 if down."""
    errors = {"database": health.check_database()}
    if settings.REDIS_URL:
        errors["cache"] = health.check_cache()
        errors["broker"] = health.check_broker()
    checks = {name: ("ok" if error is None else "error") for name, error in errors.items()}
    failed = {name: error for name, error in errors.items() if error is not None}
    body = {
        "status": "not_ready" if failed else "ready",
        "database": "connected" if errors["database"] is None else "disconnected",
        "checks": checks,
        "timestamp": _now(),
    }
    if failed:
        body["errors"] = failed
    return JsonResponse(body, status=503 if failed else 200)


@csrf_exempt
@require_safe
def health_db(request: HttpRequest) -> JsonResponse:
    """``/health/db`` (003)."""
    error = health.check_database()
    if error is None:
        return JsonResponse({"status": "healthy", "database": "connected", "timestamp": _now()})
    body = {"status": "unhealthy", "database": "disconnected", "error": error, "timestamp": _now()}
    return JsonResponse(body, status=503)


@csrf_exempt
@require_safe
def health_redis(request: HttpRequest) -> JsonResponse:
    """``/health/redis`` (003); the embedded default has no Redis and says so."""
    if not settings.REDIS_URL:
        return JsonResponse({"status": "healthy", "redis": "not configured", "timestamp": _now()})
    error = health.check_redis()
    if error is None:
        return JsonResponse({"status": "healthy", "redis": "connected", "timestamp": _now()})
    body = {"status": "unhealthy", "redis": "disconnected", "error": error, "timestamp": _now()}
    return JsonResponse(body, status=503)


@csrf_exempt
@require_safe
def api_health(request: HttpRequest) -> JsonResponse:
    """``/api/health/`` (002)."""
    return JsonResponse({"status": "healthy", **_base(), "message": f"{SERVICE} server is running"})


@csrf_exempt
@require_safe
def api_health_detailed(request: HttpRequest) -> JsonResponse:
    """``/api/health/detailed`` (002): memory and CPU from psutil."""
    body = {"status": "healthy", **_base(), "system": health.system_metrics()}
    body["message"] = f"Detailed {SERVICE} server health information"
    return JsonResponse(body)


@csrf_exempt
@require_safe
def info(request: HttpRequest) -> JsonResponse:
    """``/api/v1/info`` (004)."""
    return JsonResponse(
        {
            "name": SERVICE,
            "version": settings.VERSION,
            "api_version": "v1",
            "environment": settings.ENVIRONMENT,
            "description": settings.SPECTACULAR_SETTINGS["DESCRIPTION"],
            "docs_url": "/docs",
            "redoc_url": "/redoc",
            "openapi_url": "/api/schema/",
            "timestamp": _now(),
        }
    )


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404: a page for browsers, the JSON error for everyone else."""
    if wants_html(request):
        return render(request, "404.html", status=404)
    return error_response("Not found", ErrorCode.NOT_FOUND, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    """500: never a traceback; JSON unless a browser asked for a page."""
    if wants_html(request):
        return render(request, "500.html", status=500)
    return error_response("Internal server error", ErrorCode.INTERNAL_ERROR, 500)
