"""Capped multipart uploads: refuse by Content-Length before reading, then stop reading a body
once its file passes the cap, so an oversized upload is never spooled or stored."""

from collections.abc import Callable

from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from rest_framework.request import Request

# Multipart framing around the file (boundaries, part headers, other fields) on top of its bytes.
MULTIPART_SLACK = 64 * 1024


class SizeCap(FileUploadHandler):
    """An upload handler that stops the upload once more than ``cap`` bytes have arrived."""

    def __init__(self, request: object, cap: int) -> None:
        super().__init__(request)
        self.cap = cap
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        """Count the bytes and stop the upload past the cap; later handlers get the data."""
        self.received += len(raw_data)
        if self.received > self.cap:
            self.exceeded = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        """Leave the file to the handlers after this one."""
        return None


def declared_length(request: Request) -> int | None:
    """The request's Content-Length, or None when it is missing or not a number."""
    try:
        return int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


def cap_upload(request: Request, cap: int, too_large: Callable[[], Exception]) -> SizeCap | None:
    """Call from a view's ``initial`` (authenticated, body not read yet).

    Raises ``too_large()`` when the declared length is already over the cap; otherwise installs
    and returns a :class:`SizeCap` whose ``exceeded`` the view checks after reading. Returns None
    when the body was already parsed (e.g. by a CSRF check): the service still checks sizes.
    """
    declared = declared_length(request)
    if declared is not None and declared > cap + MULTIPART_SLACK:
        raise too_large()
    size_cap = SizeCap(request._request, cap)
    try:
        request._request.upload_handlers = [size_cap, *request._request.upload_handlers]
    except AttributeError:
        return None
    return size_cap
