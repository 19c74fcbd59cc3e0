"""Reads of deployments, always scoped to the caller: another tenant's object is a 404."""

import re
from typing import Any

from django.db.models import QuerySet

from apps.builds.models import Build
from apps.core.errors import NotFound
from apps.deployments.deployers import get_deployer
from apps.deployments.models import Deployment
from apps.notebooks.models import Notebook
from apps.runtime.errors import RuntimeBackendError

_NUMERIC = re.compile(r"^[0-9]{1,18}$")


def _pk_or_none(value: Any) -> int | None:
    text = str(value)
    return int(text) if _NUMERIC.match(text) else None


def deployment_list(*, user: Any, status: str | None = None, notebook_id: int | None = None) -> QuerySet[Deployment]:
    """The caller's deployments, newest first, optionally by status and notebook."""
    queryset = Deployment.objects.filter(owner=user).select_related("build", "notebook")
    if status:
        queryset = queryset.filter(status=status)
    if notebook_id is not None:
        queryset = queryset.filter(notebook_id=notebook_id)
    return queryset


def deployment_get(*, user: Any, deployment_id: Any) -> Deployment:
    """One of the caller's deployments; 404 for another user's, an unknown or a malformed id."""
    pk = _pk_or_none(deployment_id)
    deployment = (
        Deployment.objects.select_related("build", "notebook", "owner").filter(pk=pk, owner=user).first()
        if pk is not None
        else None
    )
    if deployment is None:
        raise NotFound("Deployment not found")
    return deployment


def deployable_notebook_get(*, user: Any, notebook_id: Any) -> Notebook:
    """The caller's notebook to deploy; 404 otherwise."""
    pk = _pk_or_none(notebook_id)
    notebook = Notebook.objects.filter(pk=pk, owner=user).first() if pk is not None else None
    if notebook is None:
        raise NotFound("Notebook not found")
    return notebook


def deployable_build_get(*, user: Any, build_id: Any) -> Build:
    """The caller's build by numeric id or documented ``build-...`` id; 404 otherwise."""
    pk = _pk_or_none(build_id)
    builds = Build.objects.filter(owner=user)
    build = builds.filter(pk=pk).first() if pk is not None else builds.filter(build_id=str(build_id)).first()
    if build is None:
        raise NotFound("Build not found")
    return build


def deployment_logs(*, deployment: Deployment, lines: int = 100) -> dict[str, Any]:
    """The revision's recent log entries (the app's output and lifecycle lines)."""
    try:
        entries = get_deployer(deployment.deployer).logs(deployment, tail=lines)
    except RuntimeBackendError:
        entries = []
    return {
        "deployment_id": deployment.pk,
        "service_name": deployment.service_name,
        "revision": deployment.revision,
        "status": deployment.status,
        "logs": [
            {
                "timestamp": entry.timestamp.isoformat(),
                "level": entry.level,
                "message": entry.message,
                "source": entry.source,
            }
            for entry in entries
        ],
    }
