"""Every read of the notebooks app, scoped to the caller: another tenant's notebook is a 404."""

from typing import Any

from django.db.models import QuerySet

from apps.core.errors import NotFound
from apps.notebooks.generate import DOCKERFILE
from apps.notebooks.models import Notebook

DOWNLOADABLE = ("main.py", "requirements.txt", "Dockerfile")


def notebook_list(*, user: Any, status: str | None = None) -> QuerySet[Notebook]:
    """The caller's notebooks, newest first, optionally with one ``status``."""
    queryset = Notebook.objects.filter(owner=user)
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def notebook_get(*, user: Any, notebook_id: Any) -> Notebook:
    """One of the caller's notebooks; 404 for another user's, an unknown or a malformed id."""
    raw = str(notebook_id)
    notebook = None
    if raw.isascii() and raw.isdigit() and len(raw) < 19:
        notebook = Notebook.objects.select_related("owner").filter(pk=int(raw), owner=user).first()
    if notebook is None:
        raise NotFound("Notebook not found")
    return notebook


def notebook_source_file(*, notebook: Notebook, name: str) -> str:
    """The text of one generated file (``main.py``, ``requirements.txt`` or ``Dockerfile``).

    400 ``NOTEBOOK_NOT_PARSED`` before the notebook is parsed; 404 for any other name.
    """
    from apps.notebooks.services import notebook_require_parsed

    if name not in DOWNLOADABLE:
        raise NotFound(f"No generated file named {name}")
    notebook_require_parsed(notebook=notebook)
    return {"main.py": notebook.main_py, "requirements.txt": notebook.requirements_txt, "Dockerfile": DOCKERFILE}[name]
