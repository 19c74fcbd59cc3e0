"""Build reads, always scoped to the caller: another tenant's build is a 404."""

import re
from typing import Any

from django.db.models import QuerySet

from apps.builds import logs
from apps.builds.models import Build
from apps.core.errors import NotFound

# Numeric primary keys, or the documented string id. Bounded so a huge number is a 404, not a 500.
_NUMERIC = re.compile(r"^[0-9]{1,18}$")
_BUILD_ID = re.compile(r"^build-[0-9]{1,18}-[0-9]{1,18}$")


def build_list(*, user: Any, status: str | None = None, notebook_id: int | None = None) -> QuerySet[Build]:
    """The caller's builds, newest first, optionally filtered by status and notebook."""
    queryset = Build.objects.filter(owner=user).select_related("notebook")
    if status:
        queryset = queryset.filter(status=status)
    if notebook_id is not None:
        queryset = queryset.filter(notebook_id=notebook_id)
    return queryset


def build_get(*, user: Any, build_ref: str | int) -> Build:
    """One of the caller's builds by numeric id or ``build-<notebook>-<epoch>``; 404 otherwise."""
    ref = str(build_ref)
    if _NUMERIC.match(ref):
        lookup = {"pk": int(ref)}
    elif _BUILD_ID.match(ref):
        lookup = {"build_id": ref}
    else:
        raise NotFound("Build not found")
    build = build_list(user=user).filter(**lookup).first()
    if build is None:
        raise NotFound("Build not found")
    return build


def build_logs(*, build: Build, offset: int = 0) -> dict[str, Any]:
    """The build's log lines from line ``offset`` on, and whether the build (and so its log) ended."""
    # Status first: a final status means every line was written before it, so none can be missed.
    complete = build.status in (Build.Status.SUCCESS, Build.Status.FAILED)
    lines = logs.read_lines(build.build_id, offset=offset)
    return {
        "build_id": build.build_id,
        "status": build.status,
        "complete": complete,
        "offset": offset,
        "next_offset": offset + len(lines),
        "lines": lines,
    }
