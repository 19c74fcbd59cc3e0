"""000's builds: trigger, status, list, and the build logs Hangar serves itself."""

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.builds import notebooks as notebook_api
from apps.builds import selectors, services
from apps.builds.serializers import (
    BuildListQuery,
    BuildListSerializer,
    BuildLogsQuery,
    BuildLogsSerializer,
    BuildSerializer,
)
from apps.core.errors import NotFound
from apps.environments.views.common import validated_query


def _notebook_pk(notebook_id: str) -> int:
    """A notebook id from the path; anything but a plausible integer is simply not found."""
    if not notebook_id.isascii() or not notebook_id.isdigit() or len(notebook_id) > 18:
        raise NotFound("Notebook not found")
    return int(notebook_id)


class BuildTriggerView(APIView):
    """Queue a build of one of the caller's parsed notebooks (400 ``NOTEBOOK_NOT_PARSED`` before)."""

    @extend_schema(request=None, responses={201: BuildSerializer})
    def post(self, request: Request, notebook_id: str) -> Response:
        notebook = notebook_api.notebook_for(user=request.user, notebook_id=_notebook_pk(notebook_id))
        build = services.build_trigger(owner=request.user, notebook=notebook, request=request)
        return Response(BuildSerializer(build, context={"request": request}).data, status=201)


class BuildListView(APIView):
    """The caller's builds, newest first (``skip``, ``limit``, ``status``, ``notebook_id``)."""

    @extend_schema(operation_id="builds_list", parameters=[BuildListQuery], responses=BuildListSerializer)
    def get(self, request: Request) -> Response:
        query = validated_query(BuildListQuery, request)
        skip, limit = query.pop("skip"), query.pop("limit")
        builds = selectors.build_list(user=request.user, **query)
        page = builds[skip : skip + limit]
        return Response(
            {"total": builds.count(), "builds": BuildSerializer(page, many=True, context={"request": request}).data}
        )


class BuildDetailView(APIView):
    """One build, by numeric id or by ``build-<notebook>-<epoch>``."""

    @extend_schema(responses=BuildSerializer)
    def get(self, request: Request, build_ref: str) -> Response:
        build = selectors.build_get(user=request.user, build_ref=build_ref)
        return Response(BuildSerializer(build, context={"request": request}).data)


class BuildLogsView(APIView):
    """The build's log lines from ``offset`` on; poll with ``next_offset`` until ``complete``."""

    @extend_schema(parameters=[BuildLogsQuery], responses=BuildLogsSerializer)
    def get(self, request: Request, build_ref: str) -> Response:
        build = selectors.build_get(user=request.user, build_ref=build_ref)
        query = validated_query(BuildLogsQuery, request)
        return Response(selectors.build_logs(build=build, offset=query["offset"]))
