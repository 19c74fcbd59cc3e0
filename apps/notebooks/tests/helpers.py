"""Small helpers the notebooks tests share."""

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

from apps.notebooks import services

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BASE_PATH = "/apps/notebook-1/"


def fixture_bytes(name: str) -> bytes:
    """The bytes of one of the realistic notebooks in ``fixtures/``."""
    return (FIXTURES / name).read_bytes()


def notebook_json(*sources: str, kernel: dict | None = None, markdown: tuple[str, ...] = ()) -> bytes:
    """A v4 notebook with one code cell per source (and markdown cells first)."""
    cells = [
        {"cell_type": "markdown", "id": f"m{i}", "metadata": {}, "source": text} for i, text in enumerate(markdown)
    ]
    cells += [
        {"cell_type": "code", "id": f"c{i}", "metadata": {}, "source": source, "outputs": [], "execution_count": None}
        for i, source in enumerate(sources)
    ]
    metadata = {"kernelspec": kernel or {"name": "python3", "language": "python", "display_name": "Python 3"}}
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": metadata, "cells": cells}).encode()


def upload(client, content: bytes, name: str = "analysis.ipynb"):
    """POST a file to the upload route as multipart form data."""
    return client.post(
        "/api/v1/notebooks/upload",
        {"file": SimpleUploadedFile(name, content, "application/x-ipynb+json")},
        format="multipart",
    )


def upload_fixture(client, name: str):
    """Upload one of the fixture notebooks; returns its id."""
    response = upload(client, fixture_bytes(name), name=name)
    assert response.status_code == 201, response.content
    return response.json()["id"]


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The response is Hangar's JSON error with ``status`` (and ``code``)."""
    assert response.status_code == status, response.content
    body = response.json()
    assert {"detail", "error_code", "timestamp"} <= set(body)
    if code:
        assert body["error_code"] == code
    return body


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, headers: dict | None = None) -> tuple[int, str]:
    """GET ``url``: (status, body text), HTTP errors included."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@contextmanager
def running_app(python: str, sources: Path, *, timeout: float = 90, env: dict | None = None) -> Iterator[str]:
    """Start ``python main.py`` per the run contract; yield its URL once ``GET /`` answers 200."""
    port = free_port()
    env = {**os.environ, "PORT": str(port), "HANGAR_BASE_PATH": BASE_PATH, "PYTHONUNBUFFERED": "1", **(env or {})}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    log = (sources / "app.log").open("w")
    process = subprocess.Popen(
        [python, "main.py"], cwd=sources, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the app exited:\n{(sources / 'app.log').read_text()}")
            try:
                if get(url + "/")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"no 200 on / within {timeout} s:\n{(sources / 'app.log').read_text()}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def parsed_sources(user, content: bytes, name: str, dest: Path) -> Path:
    """Upload, parse and write the sources of a notebook through the services; returns ``dest``."""
    notebook = services.notebook_upload(owner=user, uploaded_file=SimpleUploadedFile(name, content))
    notebook = services.notebook_parse(notebook=notebook)
    services.notebook_write_sources(notebook=notebook, dest=dest)
    return dest
