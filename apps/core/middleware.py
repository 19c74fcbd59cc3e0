"""Middleware that keeps HTML error pages and tracebacks away from API clients."""

import logging
import re
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse

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
        """Answer a JSON 500 instead of a traceback; the traceback goes to the log only.

        Exceptions Django answers itself (404, 403, a bad request) keep their status: the JSON
        bodies for those come from ``__call__`` and the handlers in ``apps.core.views``.
        """
        if isinstance(exception, RequestDataTooBig):
            return error_response("Request body too large", ErrorCode.PAYLOAD_TOO_LARGE, 413)
        if wants_html(request) or isinstance(exception, (Http404, PermissionDenied, SuspiciousOperation)):
            return None
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response("Internal server error", ErrorCode.INTERNAL_ERROR, 500)


class BodySizeLimitMiddleware:
    """413 for a request body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``, before anything parses it.

    DRF's JSON parser reads the stream without Django's size check. File uploads (multipart) are
    exempt: they stream to disk, and their views enforce the tier's upload cap. So are the signed
    dataset upload URLs (a raw ``PUT`` of the file), whose view streams the body to storage and
    refuses more than the size declared for that URL.
    """

    STREAMED_ROUTES = re.compile(r"^/api/datasets/uploads/[0-9a-f-]{36}$")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        multipart = request.META.get("CONTENT_TYPE", "").startswith("multipart/")
        streamed = request.method == "PUT" and self.STREAMED_ROUTES.match(request.path)
        if limit is not None and length > limit and not multipart and not streamed:
            return error_response("Request body too large", ErrorCode.PAYLOAD_TOO_LARGE, 413)
        return self.get_response(request)
