"""What builds need from the notebooks app, in one place: the caller's notebook, the parsed check,
and the generated sources. Imported at call time, so the two apps never import each other at load.
"""

from pathlib import Path
from typing import Any

from apps.notebooks.models import Notebook


def notebook_for(*, user: Any, notebook_id: str | int) -> Notebook:
    """One of the caller's notebooks (404 ``NOT_FOUND`` for anyone else's or a malformed id)."""
    from apps.notebooks.selectors import notebook_get

    return notebook_get(user=user, notebook_id=notebook_id)


def require_parsed(*, notebook: Notebook) -> None:
    """400 ``NOTEBOOK_NOT_PARSED`` ("Notebook must be parsed first. Current status: ...")."""
    from apps.notebooks.services import notebook_require_parsed

    notebook_require_parsed(notebook=notebook)


def write_sources(*, notebook: Notebook, dest: Path) -> None:
    """Write main.py, requirements.txt, Dockerfile and the app files into ``dest``."""
    from apps.notebooks.services import notebook_write_sources

    notebook_write_sources(notebook=notebook, dest=dest)
