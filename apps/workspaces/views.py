"""002's session, workspace-file and shutdown routes: thin views over selectors and services.

Session routes answer 002's ``{"success", "message", "data"}`` envelope; the workspace routes
answer the plain objects and arrays 002 documents. Every route needs a token (the default
authentication), and ``user_id`` is only a filter that must name the caller unless an admin.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.views.common import validated
from apps.core.envelopes import exec_response
from apps.core.pagination import paginate
from apps.workspaces import selectors, services
from apps.workspaces.files import normalized
from apps.workspaces.models import CodeSession
from apps.workspaces.presence import attached_sockets
from apps.workspaces.serializers import FileWriteInput, SessionCreateInput, SessionSerializer

USER_ID = OpenApiParameter("user_id", int, description="Must be your own id (admins may name anyone)")


def _session(request: Request, session_uuid: object) -> CodeSession:
    return selectors.session_get(
        user=request.user, session_id=session_uuid, user_id=request.query_params.get("user_id")
    )


class SessionListCreateView(APIView):
    """``GET /api/sessions/`` (skip, limit, user_id) and ``POST /api/sessions/``."""

    @extend_schema(
        operation_id="exec_sessions_list",
        parameters=[USER_ID, OpenApiParameter("skip", int), OpenApiParameter("limit", int)],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        sessions = selectors.session_list(user=request.user, user_id=request.query_params.get("user_id"))
        page = paginate(sessions, request)
        data = SessionSerializer(page.items, many=True).data
        return exec_response(f"Retrieved {len(data)} sessions", data, count=page.total)

    @extend_schema(request=SessionCreateInput, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        data = validated(SessionCreateInput, request)
        owner = selectors.session_owner_get(user=request.user, user_id=data.get("user_id"))
        session = services.session_create(owner=owner, name=data["name"], actor=request.user)
        return exec_response("Session created successfully", SessionSerializer(session).data, http_status=201)


class SessionDetailView(APIView):
    """``GET /api/sessions/{uuid}``; another user's session is a 404."""

    @extend_schema(parameters=[USER_ID], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, session_uuid: str) -> Response:
        session = _session(request, session_uuid)
        return exec_response("Session retrieved successfully", SessionSerializer(session).data)


class WorkspaceFilesView(APIView):
    """``GET /api/workspace/{uuid}/files``: a flat list, each folder before its children."""

    @extend_schema(parameters=[USER_ID], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, session_uuid: str) -> Response:
        return Response(selectors.session_files(session=_session(request, session_uuid)))


class WorkspaceFileView(APIView):
    """``GET``, ``POST`` and ``DELETE /api/workspace/{uuid}/file/{path}``, nested paths allowed."""

    @extend_schema(parameters=[USER_ID], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, session_uuid: str, filename: str) -> Response:
        session = _session(request, session_uuid)
        return Response(selectors.session_file_read(session=session, path=filename))

    @extend_schema(parameters=[USER_ID], request=FileWriteInput, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, session_uuid: str, filename: str) -> Response:
        session = _session(request, session_uuid)
        data = validated(FileWriteInput, request)
        created, file = services.session_file_write(session=session, path=filename, content=data["content"])
        verb = "created" if created else "updated"
        return Response({"message": f"File {file['path']} {verb} successfully", "file": file})

    @extend_schema(parameters=[USER_ID], responses=OpenApiTypes.OBJECT)
    def delete(self, request: Request, session_uuid: str, filename: str) -> Response:
        session = _session(request, session_uuid)
        kind = services.session_file_delete(session=session, path=filename)
        noun = "Folder" if kind == "folder" else "File"
        return Response({"message": f"{noun} {normalized(filename)} deleted successfully"})


class WorkspaceStatusView(APIView):
    """``GET /api/workspace/{uuid}/status``."""

    @extend_schema(parameters=[USER_ID], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, session_uuid: str) -> Response:
        return Response(selectors.session_workspace_status(session=_session(request, session_uuid)))


class WorkspaceEnsureDefaultView(APIView):
    """``POST /api/workspace/{uuid}/ensure-default``: ``main.py`` when the workspace has no file."""

    @extend_schema(parameters=[USER_ID], request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, session_uuid: str) -> Response:
        file = services.session_ensure_default(session=_session(request, session_uuid))
        if file is None:
            return Response({"message": "Workspace already has files, no defaults created", "files_created": []})
        return Response(
            {"message": f"Created default {file['path']} file", "files_created": [file["path"]], "file": file}
        )


class WorkspaceShutdownView(APIView):
    """``POST /workspace/{id}/shutdown``: stop the session's sandbox; the workspace files stay."""

    @extend_schema(parameters=[USER_ID], request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, workspace_id: str) -> Response:
        session = _session(request, workspace_id)
        workspace = str(session.id)
        if not services.session_workload_stop(session=session, reason="shutdown requested", actor=request.user):
            return Response(
                {
                    "success": True,
                    "message": f"No active session found for workspace {workspace}",
                    "workspace_id": workspace,
                }
            )
        return Response(
            {
                "success": True,
                "message": f"Workspace {workspace} shutdown completed",
                "workspace_id": workspace,
                "session_id": session.workload_id,
                # Sockets stay open after a shutdown; their terminals end with the sandbox.
                "active_connections": attached_sockets(session.id),
                "container_cleaned": True,
            }
        )
