"""Fixtures of the builds tests: build folders under tmp_path, a short runtime root, notebooks.

The notebooks app provides the parsed check and the generated sources; until its services exist
in this tree, a stand-in with the same contract is used (see ``_notebook_contract``).
"""

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.builds import notebooks as notebook_api
from apps.builds.builders import cache
from apps.core.errors import ErrorCode, HangarError, NotFound
from apps.notebooks.models import Notebook


def real_notebook_services() -> bool:
    """True once the notebooks app ships the functions builds rely on."""
    try:
        from apps.notebooks import selectors, services
    except ImportError:
        return False
    return all(
        hasattr(module, name)
        for module, name in (
            (selectors, "notebook_get"),
            (services, "notebook_require_parsed"),
            (services, "notebook_write_sources"),
        )
    )


def _fake_notebook_for(*, user, notebook_id):
    notebook = Notebook.objects.filter(owner=user, pk=notebook_id).first()
    if notebook is None:
        raise NotFound("Notebook not found")
    return notebook


def _fake_require_parsed(*, notebook):
    if notebook.status == Notebook.Status.UPLOADED:
        raise HangarError(
            f"Notebook must be parsed first. Current status: {notebook.status}",
            error_code=ErrorCode.NOTEBOOK_NOT_PARSED,
            status_code=400,
        )


def _fake_write_sources(*, notebook, dest: Path):
    (dest / "main.py").write_text(notebook.main_py)
    (dest / "requirements.txt").write_text(notebook.requirements_txt)
    (dest / "Dockerfile").write_text("FROM python:3.11-slim\nCOPY . /app\nCMD python /app/main.py\n")


@pytest.fixture(autouse=True)
def _notebook_contract(monkeypatch):
    """The notebooks app's contract, faked only while its real services are not in the tree."""
    if real_notebook_services():
        return
    monkeypatch.setattr(notebook_api, "notebook_for", _fake_notebook_for)
    monkeypatch.setattr(notebook_api, "require_parsed", _fake_require_parsed)
    monkeypatch.setattr(notebook_api, "write_sources", _fake_write_sources)


@pytest.fixture(autouse=True)
def _build_roots(settings, tmp_path):
    """Builds, the environment cache and uploads in the test's folder; the local builder by default."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.BUILDS_ROOT = tmp_path / "builds"
    settings.BUILD_CACHE_ROOT = tmp_path / "build-cache"
    settings.BUILD_BACKEND = "local"


@pytest.fixture(autouse=True)
def _runtime_root(settings):
    """A short runtime root: the agent's unix socket path must fit in 108 bytes."""
    root = Path(tempfile.mkdtemp(prefix="hrb-", dir="/tmp"))
    settings.RUNTIME_ROOT = str(root)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def notebook_json(packages: list[str]) -> bytes:
    """An .ipynb whose one code cell pip-installs ``packages`` and prints something."""
    source = "".join(f"%pip install {package}\n" for package in packages) + "print('hello from the notebook')\n"
    cell = {"cell_type": "code", "source": source, "metadata": {}, "outputs": [], "execution_count": None}
    kernel = {"name": "python3", "language": "python", "display_name": "Python 3"}
    return json.dumps(
        {"cells": [cell], "metadata": {"kernelspec": kernel}, "nbformat": 4, "nbformat_minor": 5}
    ).encode()


def make_notebook(
    owner, *, packages: tuple[str, ...] = ("six==1.16.0",), status: str = Notebook.Status.PARSED, name: str = "app"
) -> Notebook:
    """A notebook of ``owner`` that needs ``packages``, uploaded, and parsed unless ``status`` says not.

    With the notebooks app's services it goes through the real upload and parse.
    """
    upload = SimpleUploadedFile(f"{name}.ipynb", notebook_json(list(packages)), content_type="application/json")
    if real_notebook_services():
        from apps.notebooks.services import notebook_parse, notebook_upload

        notebook = notebook_upload(owner=owner, uploaded_file=upload)
        return notebook_parse(notebook=notebook) if status == Notebook.Status.PARSED else notebook
    notebook = Notebook(owner=owner, name=name, filename=upload.name, status=status)
    notebook.file.save(upload.name, upload, save=False)
    if status != Notebook.Status.UPLOADED:
        notebook.main_py = "print('hello from the notebook')\n"
        notebook.requirements_txt = f"# Generated from {upload.name}\n" + "".join(f"{p}\n" for p in packages)
    notebook.save()
    return notebook


def seed_cache(requirements: str) -> Path:
    """Mark the environment of ``requirements`` as built, so a build of it is an instant cache hit."""
    entry = cache.entry(cache.cache_key(requirements))
    (entry / "bin").mkdir(parents=True, exist_ok=True)
    (entry / cache.COMPLETE_MARKER).write_text("seeded\n")
    return entry


@pytest.fixture
def notebook(user) -> Notebook:
    """A parsed notebook of ``user`` that needs six."""
    return make_notebook(user)
