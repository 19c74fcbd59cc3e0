"""Small helpers the notebooks tests share."""

import json
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

FIXTURES = Path(__file__).resolve().parent / "fixtures"


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
