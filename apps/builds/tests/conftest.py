"""Fixtures of the builds tests: build folders under tmp_path, a short runtime root, and notebooks
uploaded and parsed through the notebooks app (which generates the sources that builds use)."""

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.builds.builders import cache
from apps.notebooks.models import Notebook
from apps.notebooks.services import notebook_parse, notebook_upload


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
    """A notebook of ``owner`` that needs ``packages``, uploaded and (unless ``status`` says
    ``uploaded``) parsed through the notebooks app's own services."""
    upload = SimpleUploadedFile(f"{name}.ipynb", notebook_json(list(packages)), content_type="application/json")
    notebook = notebook_upload(owner=owner, uploaded_file=upload)
    return notebook_parse(notebook=notebook) if status == Notebook.Status.PARSED else notebook


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
