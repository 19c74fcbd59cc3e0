"""000's notebook routes: upload, list, detail, delete, parse and the generated files."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import ErrorCode, HangarError
from apps.core.uploads import cap_upload
from apps.environments.views.common import validated_query
from apps.notebooks import selectors, services
from apps.notebooks.serializers import (
    NotebookListQuery,
    NotebookParseSerializer,
    NotebookSerializer,
    NotebookUploadSerializer,
)


class NotebookUploadView(APIView):
    """Upload a ``.ipynb`` (multipart field ``file``); 413 past the tier's ``max_notebook_bytes``."""

    parser_classes = [MultiPartParser, FormParser]

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        super().initial(request, *args, **kwargs)
        # Authenticated, body not read yet: refuse by Content-Length, then cap what is read.
        cap = services.notebook_size_cap(owner=request.user)
        self._size_cap = cap_upload(request, cap, lambda: services.too_large(cap))

    @extend_schema(
        operation_id="v1_notebooks_upload",
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
        responses={201: NotebookUploadSerializer},
    )
    def post(self, request: Request) -> Response:
        upload = request.FILES.get("file")
        if self._size_cap is not None and self._size_cap.exceeded:
            raise services.too_large(self._size_cap.cap)
        if upload is None:
            raise HangarError(
                "Send the notebook as multipart form data in the field 'file'",
                error_code=ErrorCode.BAD_REQUEST,
                status_code=400,
            )
        try:
            notebook = services.notebook_upload(owner=request.user, uploaded_file=upload, request=request)
        finally:
            upload.close()
        return Response(NotebookUploadSerializer(notebook).data, status=201)


class NotebookListView(APIView):
    """The caller's notebooks, newest first (``skip``, ``limit``, ``status``); the total is in ``X-Total-Count``."""

    @extend_schema(
        operation_id="v1_notebooks_list", parameters=[NotebookListQuery], responses=NotebookSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        query = validated_query(NotebookListQuery, request)
        notebooks = selectors.notebook_list(user=request.user, status=query.get("status"))
        page = notebooks[query["skip"] : query["skip"] + query["limit"]]
        response = Response(NotebookSerializer(page, many=True).data)
        response["X-Total-Count"] = str(notebooks.count())
        return response


class NotebookDetailView(APIView):
    """One of the caller's notebooks: get or delete."""

    @extend_schema(operation_id="v1_notebooks_retrieve", responses=NotebookSerializer)
    def get(self, request: Request, notebook_id: str) -> Response:
        notebook = selectors.notebook_get(user=request.user, notebook_id=notebook_id)
        return Response(NotebookSerializer(notebook).data)

    @extend_schema(operation_id="v1_notebooks_destroy", responses={204: None})
    def delete(self, request: Request, notebook_id: str) -> Response:
        notebook = selectors.notebook_get(user=request.user, notebook_id=notebook_id)
        services.notebook_delete(notebook=notebook, request=request)
        return Response(status=204)


class NotebookParseView(APIView):
    """Parse a notebook: code cells, dependencies, app kind; 400 (and ``failed``) for unusable ones."""

    @extend_schema(operation_id="v1_notebooks_parse", request=None, responses=NotebookParseSerializer)
    def post(self, request: Request, notebook_id: str) -> Response:
        notebook = selectors.notebook_get(user=request.user, notebook_id=notebook_id)
        notebook = services.notebook_parse(notebook=notebook, request=request)
        return Response(NotebookParseSerializer(notebook).data)


class NotebookDownloadView(APIView):
    """A generated file as a plain-text attachment; 400 ``NOTEBOOK_NOT_PARSED`` before parsing."""

    filename = ""  # set by each subclass

    def download(self, request: Request, notebook_id: str) -> HttpResponse:
        notebook = selectors.notebook_get(user=request.user, notebook_id=notebook_id)
        text = selectors.notebook_source_file(notebook=notebook, name=self.filename)
        response = HttpResponse(text, content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{self.filename}"'
        return response


def _download_schema(operation_id: str) -> object:
    return extend_schema(
        operation_id=operation_id,
        responses={(200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="The generated file")},
    )


class NotebookMainPyView(NotebookDownloadView):
    """The generated ``main.py``."""

    filename = "main.py"

    @_download_schema("v1_notebooks_download_main_py")
    def get(self, request: Request, notebook_id: str) -> HttpResponse:
        return self.download(request, notebook_id)


class NotebookRequirementsView(NotebookDownloadView):
    """The generated ``requirements.txt``."""

    filename = "requirements.txt"

    @_download_schema("v1_notebooks_download_requirements_txt")
    def get(self, request: Request, notebook_id: str) -> HttpResponse:
        return self.download(request, notebook_id)


class NotebookDockerfileView(NotebookDownloadView):
    """The generated ``Dockerfile``."""

    filename = "Dockerfile"

    @_download_schema("v1_notebooks_download_dockerfile")
    def get(self, request: Request, notebook_id: str) -> HttpResponse:
        return self.download(request, notebook_id)
