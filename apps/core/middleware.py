"""Middleware that keeps HTML error pages and tracebacks away from API clients."""

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from apps.core.errors import ErrorCode, error_response
from apps.core.http import wants_html

logger = logging.getLogger(__name__)

_GENERIC_ERRORS = {
    400: ("Bad request", ErrorCode.BAD_REQUEST),
    403: ("Forbidden", ErrorCode.FORBIDDEN),
    404: ("Not found", ErrorCode.NOT_FOUND),
    405: ("Method not allowed", ErrorCode.METHOD_NOT_ALLOWED),
    413: ("Request body too large", ErrorCode.PAYLOAD_TOO_LARGE),
    500: ("Internal server error", ErrorCode.INTERNAL_ERROR),
}


class JsonErrorMiddleware:
    """Turn unhandled exceptions and Django's HTML error pages into JSON for API clients."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if wants_html(request) or response.status_code not in _GENERIC_ERRORS:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        detail, code = _GENERIC_ERRORS[response.status_code]
        json_response = error_response(detail, code, response.status_code)
        if response.status_code == 405 and response.has_header("Allow"):
            json_response["Allow"] = response["Allow"]
        return json_response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Answer a JSON 500 instead of a traceback; the traceback goes to the log only."""
        if wants_html(request):
            return None
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response("Internal server error", ErrorCode.INTERNAL_ERROR, 500)
