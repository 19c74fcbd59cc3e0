"""001's /user-files: upload, list, download and delete files in the user's workspace folder."""

import mimetypes
import os

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.envelopes import cmb_response
from apps.core.errors import ErrorCode, HangarError
from apps.core.uploads import cap_upload
from apps.environments import selectors
from apps.environments.services import files as services


class UserFileUploadView(APIView):
    """Upload one file (multipart field ``file``); 413 past the tier's per-file cap or quota."""

    parser_classes = [MultiPartParser, FormParser]

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        super().initial(request, *args, **kwargs)
        # Authentication is done and the body not yet read: refuse by Content-Length, then cap
        # what is actually read, so an oversized upload is never stored.
        self._size_cap = cap_upload(
            request,
            request.user.tier_limits["max_upload_bytes"],
            lambda: services.too_large("Request body exceeds the per-file upload limit"),
        )

    @extend_schema(request={"multipart/form-data": OpenApiTypes.OBJECT}, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request) -> Response:
        upload = request.FILES.get("file")
        if self._size_cap is not None and self._size_cap.exceeded:
            raise services.too_large("File exceeds the per-file upload limit")
        if upload is None:
            raise HangarError(
                "Send the file as multipart form data in the field 'file'",
                error_code=ErrorCode.BAD_REQUEST,
                status_code=400,
            )
        try:
            data = services.user_file_upload(user=request.user, upload=upload, request=request)
        finally:
            upload.close()
        return cmb_response(data)


class UserFileListView(APIView):
    """The caller's files."""

    @extend_schema(operation_id="user_files_list", responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        return cmb_response({"files": selectors.user_file_list(user=request.user)})


class UserFileDetailView(APIView):
    """Download or delete one file."""

    @extend_schema(
        operation_id="user_files_download", responses={(200, "application/octet-stream"): OpenApiTypes.BINARY}
    )
    def get(self, request: Request, filename: str) -> FileResponse:
        path = selectors.user_file_path(user=request.user, filename=filename)
        # O_NOFOLLOW: a symlink swapped in after the check is refused rather than followed.
        try:
            handle = os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb")
        except OSError:
            raise HangarError("File not found", error_code=ErrorCode.NOT_FOUND, status_code=404) from None
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return FileResponse(handle, as_attachment=True, filename=path.name, content_type=content_type)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def delete(self, request: Request, filename: str) -> Response:
        services.user_file_delete(user=request.user, filename=filename, request=request)
        return cmb_response(message="File deleted successfully")
