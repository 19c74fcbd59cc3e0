"""What pipelines, repository links and webhooks need from the notebooks app, in one place.

Imported at call time, so the two apps never import each other while loading.
"""

from typing import Any

from apps.notebooks.models import Notebook


def notebook_get(*, user: Any, notebook_id: Any) -> Notebook:
    """One of the caller's notebooks (404 ``NOT_FOUND`` for anyone else's or a malformed id)."""
    from apps.notebooks.selectors import notebook_get as get

    return get(user=user, notebook_id=notebook_id)


def notebook_upload(*, owner: Any, uploaded_file: Any) -> Notebook:
    """Store an uploaded ``.ipynb`` (400 for a non-notebook, 413 past the tier's cap)."""
    from apps.notebooks.services import notebook_upload as upload

    return upload(owner=owner, uploaded_file=uploaded_file)


def notebook_parse(*, notebook: Notebook) -> Notebook:
    """Parse the notebook: code, dependencies, generated sources (HangarError when it cannot)."""
    from apps.notebooks.services import notebook_parse as parse

    return parse(notebook=notebook)


def notebook_replace_content(*, notebook: Notebook, content: bytes, filename: str | None = None) -> Notebook:
    """Replace the notebook's file with a new revision (it becomes ``uploaded`` again)."""
    from apps.notebooks.services import notebook_replace_content as replace

    return replace(notebook=notebook, content=content, filename=filename)
