"""Shared helpers of the pipeline, webhook, repository-link and metrics tests: notebooks made
directly, a local bare git repository, GitHub signatures."""

import hashlib
import hmac
import json
import subprocess
from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from apps.notebooks.models import Notebook


def notebook_json(source: str = "print('hello')") -> bytes:
    """A small valid nbformat 4 notebook with one code cell."""
    return json.dumps(
        {
            "cells": [{"cell_type": "code", "metadata": {}, "source": source, "outputs": [], "execution_count": None}],
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    ).encode()


def make_notebook(owner, *, name: str = "app", status: str = Notebook.Status.UPLOADED, content: bytes | None = None):
    """A notebook of ``owner`` stored directly (its file holds ``content``)."""
    notebook = Notebook(owner=owner, name=name, filename=f"{name}.ipynb", status=status)
    notebook.file.save(f"{name}.ipynb", ContentFile(content or notebook_json()), save=False)
    notebook.size_bytes = notebook.file.size
    notebook.save()
    return notebook


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded notebooks go to the test's folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def notebook_text(notebook: Notebook) -> bytes:
    """The notebook's stored file."""
    notebook.file.open("rb")
    try:
        return notebook.file.read()
    finally:
        notebook.file.close()


# --- git --------------------------------------------------------------------------------------------

_GIT_IDENTITY = ["-c", "user.name=Hangar Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main"]


def git(*args: str, cwd: Path) -> str:
    """Run git in ``cwd`` with a fixed identity; raises on failure."""
    result = subprocess.run(
        ["git", *_GIT_IDENTITY, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


class BareRepo:
    """A local bare repository and a work tree that pushes to it."""

    def __init__(self, root: Path) -> None:
        self.remote = root / "remote.git"
        self.work = root / "work"
        self.remote.mkdir(parents=True)
        git("init", "--bare", "--quiet", str(self.remote), cwd=root)
        git("clone", "--quiet", str(self.remote), str(self.work), cwd=root)
        git("checkout", "--quiet", "-b", "main", cwd=self.work)

    @property
    def url(self) -> str:
        return f"file://{self.remote}"

    def commit(self, files: dict[str, bytes], *, branch: str = "main", message: str = "change") -> str:
        """Write ``files``, commit them on ``branch`` and push; returns the commit id."""
        current = git("symbolic-ref", "--short", "HEAD", cwd=self.work)
        if current != branch:
            existing = git("branch", "--list", branch, cwd=self.work)
            git("checkout", "--quiet", *([] if existing else ["-b"]), branch, cwd=self.work)
        for name, content in files.items():
            path = self.work / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            git("add", name, cwd=self.work)
        git("commit", "--quiet", "-m", message, cwd=self.work)
        git("push", "--quiet", "origin", branch, cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)


def github_signature(secret: str, body: bytes) -> str:
    """``X-Hub-Signature-256`` of ``body`` under ``secret``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
