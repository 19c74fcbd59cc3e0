"""One error shape for every API family: ``{"detail", "error_code", "timestamp"}``.

Field validation adds ``errors``. The codes are constants so tests and clients can rely on them.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.response import Response


class ErrorCode:
    """Every ``error_code`` Hangar answers with."""

    BAD_REQUEST = "BAD_REQUEST"
    VALIDATION_ERROR = "VALIDATION_ERROR"
    MALFORMED_JSON = "MALFORMED_JSON"
    UNAUTHORIZED = "UNAUTHORIZED"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    TOKEN_INVALID = "TOKEN_INVALID"
    ACCOUNT_DISABLED = "ACCOUNT_DISABLED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    CONFLICT = "CONFLICT"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    RATE_LIMITED = "RATE_LIMITED"
    OAUTH_NOT_CONFIGURED = "OAUTH_NOT_CONFIGURED"
    OAUTH_FAILED = "OAUTH_FAILED"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    # Notebooks, builds and deployments (000)
    INVALID_NOTEBOOK = "INVALID_NOTEBOOK"
    UNSUPPORTED_KERNEL = "UNSUPPORTED_KERNEL"
    NOTEBOOK_NOT_PARSED = "NOTEBOOK_NOT_PARSED"
    BUILD_NOT_READY = "BUILD_NOT_READY"
    WEBHOOK_SIGNATURE_INVALID = "WEBHOOK_SIGNATURE_INVALID"
    APP_UNAVAILABLE = "APP_UNAVAILABLE"
    # Datasets, workflows, jobs and credits (003)
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    UPLOAD_URL_INVALID = "UPLOAD_URL_INVALID"
    INVALID_DATASET = "INVALID_DATASET"
    INVALID_WORKFLOW = "INVALID_WORKFLOW"
    INSUFFICIENT_CREDITS = "INSUFFICIENT_CREDITS"


class HangarError(exceptions.APIException):
    """An API error with an explicit status and error code, raised by services and views."""

    def __init__(self, detail: str, *, error_code: str, status_code: int = 400, errors: Any = None) -> None:
        super().__init__(detail=detail)
        self.status_code = status_code
        self.error_code = error_code
        # Optional structured details (e.g. a workflow's per-node errors), answered as ``errors``.
        self.errors = errors


class NotFound(HangarError):
    """Raised by selectors for objects the caller may not see: a 404, never a 403."""

    def __init__(self, detail: str = "Not found") -> None:
        super().__init__(detail, error_code=ErrorCode.NOT_FOUND, status_code=404)


_CODE_BY_EXCEPTION = [
    (exceptions.ParseError, ErrorCode.MALFORMED_JSON),
    (exceptions.ValidationError, ErrorCode.VALIDATION_ERROR),
    (exceptions.AuthenticationFailed, ErrorCode.UNAUTHORIZED),
    (exceptions.NotAuthenticated, ErrorCode.UNAUTHORIZED),
    (exceptions.PermissionDenied, ErrorCode.FORBIDDEN),
    (exceptions.NotFound, ErrorCode.NOT_FOUND),
    (exceptions.MethodNotAllowed, ErrorCode.METHOD_NOT_ALLOWED),
    (exceptions.UnsupportedMediaType, ErrorCode.UNSUPPORTED_MEDIA_TYPE),
    (exceptions.Throttled, ErrorCode.RATE_LIMITED),
]


def error_body(detail: str, error_code: str, errors: Any = None) -> dict:
    """Build the error body every family shares."""
    body = {"detail": detail, "error_code": error_code, "timestamp": timezone.now().isoformat()}
    if errors is not None:
        body["errors"] = errors
    return body


def error_response(detail: str, error_code: str, status_code: int, errors: Any = None) -> JsonResponse:
    """A plain Django JSON error response, for code outside DRF views."""
    return JsonResponse(error_body(detail, error_code, errors), status=status_code)


def _error_code_for(exc: Exception) -> str:
    if isinstance(exc, HangarError):
        return exc.error_code
    if isinstance(exc, exceptions.AuthenticationFailed) and _is_token_error(exc):
        return ErrorCode.TOKEN_INVALID
    for exc_class, code in _CODE_BY_EXCEPTION:
        if isinstance(exc, exc_class):
            return code
    return ErrorCode.BAD_REQUEST


def _is_token_error(exc: exceptions.AuthenticationFailed) -> bool:
    codes = exc.get_codes()
    if isinstance(codes, dict):
        codes = codes.get("code", "")
    return codes in ("token_not_valid", "user_inactive", "user_not_found")


def _validation_detail(errors: Any) -> str:
    """A readable one-line summary of field errors, e.g. ``email: This field is required.``"""
    if isinstance(errors, dict):
        for field, messages in errors.items():
            message = messages[0] if isinstance(messages, list) and messages else messages
            if isinstance(message, (dict, list)):
                return f"{field}: invalid value"
            return str(message) if field == "non_field_errors" else f"{field}: {message}"
    if isinstance(errors, list) and errors:
        return str(errors[0])
    return "Invalid input"


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's exception handler, reshaped to Hangar's error body."""
    # Imported here: rest_framework.views loads the authentication classes, and models import
    # this module while apps are still loading.
    from rest_framework.views import exception_handler

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    code = _error_code_for(exc)
    if isinstance(exc, exceptions.ValidationError):
        body = error_body(_validation_detail(response.data), code, errors=response.data)
    elif isinstance(exc, HangarError) and exc.errors is not None:
        body = error_body(str(response.data["detail"]), code, errors=exc.errors)
    elif isinstance(response.data, dict) and "detail" in response.data:
        body = error_body(str(response.data["detail"]), code)
    else:
        body = error_body(str(response.data), code)
    response.data = body
    if isinstance(exc, exceptions.Throttled) or code == ErrorCode.RATE_LIMITED:
        response.status_code = status.HTTP_429_TOO_MANY_REQUESTS
    return response
