"""The success envelopes of the API families that wrap their data.

001 answers ``{"status", "data", "timestamp"}``; 002 answers ``{"success", "message", "data"}``;
000, 003 and 004 answer plain objects and need no helper.
"""

from typing import Any

from django.utils import timezone
from rest_framework.response import Response


def cmb_response(data: Any = None, *, status: str = "success", http_status: int = 200, **extra: Any) -> Response:
    """A 001 (CMBCluster) envelope."""
    body: dict[str, Any] = {"status": status}
    if data is not None:
        body["data"] = data
    body.update(extra)
    body["timestamp"] = timezone.now().isoformat()
    return Response(body, status=http_status)


def exec_response(message: str, data: Any = None, *, http_status: int = 200, **extra: Any) -> Response:
    """A 002 (Code Execution Platform) envelope."""
    body: dict[str, Any] = {"success": True, "message": message, **extra}
    body["data"] = data
    return Response(body, status=http_status)
