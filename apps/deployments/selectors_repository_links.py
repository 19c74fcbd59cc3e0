"""Reads of repository links, scoped to the caller: another tenant's link or notebook is a 404."""

from typing import Any

from django.db.models import QuerySet

from apps.core.errors import NotFound
from apps.deployments import notebooks_api
from apps.deployments.models import RepositoryLink


def notebook_for_link(*, user: Any, notebook_id: Any) -> Any:
    """One of the caller's notebooks (the notebooks app's selector); 404 otherwise."""
    return notebooks_api.notebook_get(user=user, notebook_id=notebook_id)


def repository_link_list(*, user: Any) -> QuerySet[RepositoryLink]:
    """The caller's repository links, newest first."""
    return RepositoryLink.objects.filter(owner=user).select_related("notebook")


def repository_link_get(*, user: Any, notebook: Any) -> RepositoryLink:
    """The link of one of the caller's notebooks; 404 when it has none."""
    link = repository_link_list(user=user).filter(notebook=notebook).first()
    if link is None:
        raise NotFound("This notebook is not linked to a repository")
    return link
