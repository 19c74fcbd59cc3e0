"""000's notebook routes over HTTP: upload, list, get, delete, parse, downloads; bad input; tenancy."""

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.activity.models import Activity
from apps.core.state import IllegalTransition
from apps.notebooks import services
from apps.notebooks.models import Notebook
from apps.notebooks.tests.helpers import assert_error, fixture_bytes, notebook_json, upload, upload_fixture

pytestmark = pytest.mark.django_db


def set_notebook_cap(settings, tier: str, cap: int) -> None:
    settings.HANGAR_TIERS = {**settings.HANGAR_TIERS, tier: {**settings.HANGAR_TIERS[tier], "max_notebook_bytes": cap}}


# --- upload ---------------------------------------------------------------------------------------


def test_upload_answers_the_documented_body(user_client, user, settings):
    response = upload(user_client, fixture_bytes("sales_analysis.ipynb"), name="my_notebook.ipynb")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "name", "filename", "user_id", "status", "created_at"}
    assert body["name"] == "my_notebook"
    assert body["filename"] == "my_notebook.ipynb"
    assert body["user_id"] == user.id
    assert body["status"] == "uploaded"
    notebook = Notebook.objects.get(pk=body["id"])
    assert notebook.size_bytes == len(fixture_bytes("sales_analysis.ipynb"))
    stored = Path(settings.MEDIA_ROOT) / notebook.file.name
    assert stored.read_bytes() == fixture_bytes("sales_analysis.ipynb")
    assert Activity.objects.filter(user=user, action="notebook_uploaded").exists()


def test_upload_keeps_only_the_base_name(user_client):
    body = upload(user_client, notebook_json("x = 1"), name="../../etc/evil.ipynb").json()
    assert body["filename"] == "evil.ipynb"


@pytest.mark.parametrize("name", ["data.csv", "notebook.ipynb.exe", "script.py", ".ipynb", "noext"])
def test_only_ipynb_files_are_accepted(user_client, name):
    body = assert_error(upload(user_client, b"{}", name=name), 400, "INVALID_NOTEBOOK")
    assert ".ipynb" in body["detail"]
    assert not Notebook.objects.exists()


def test_upload_without_a_file(user_client):
    assert_error(user_client.post("/api/v1/notebooks/upload", {"x": "1"}, format="multipart"), 400, "BAD_REQUEST")
    assert_error(
        user_client.post("/api/v1/notebooks/upload", {"file": "x"}, format="json"), 415, "UNSUPPORTED_MEDIA_TYPE"
    )


def test_upload_needs_authentication(api_client):
    assert_error(upload(api_client, notebook_json("x = 1")), 401)


def test_a_50_mb_upload_is_a_json_413_on_the_free_tier(user_client, user):
    assert user.tier == "free"
    response = upload(user_client, b"{" + b" " * (50 * 1024**2) + b"}", name="huge.ipynb")
    body = assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert "20 MB" in body["detail"]
    assert not Notebook.objects.exists()


def test_tier_cap_counts_the_bytes_read_not_the_declared_length(user_client, settings):
    set_notebook_cap(settings, "free", 1000)
    assert_error(upload(user_client, b"x" * 1001), 413, "PAYLOAD_TOO_LARGE")
    assert upload(user_client, b"x" * 1000).status_code == 201


def test_caps_follow_the_tier(settings, user, other_user):
    assert settings.HANGAR_TIERS["free"]["max_notebook_bytes"] == 20 * 1024**2
    assert settings.HANGAR_TIERS["pro"]["max_notebook_bytes"] == 100 * 1024**2
    assert settings.HANGAR_TIERS["enterprise"]["max_notebook_bytes"] == 500 * 1024**2
    user.tier = "pro"
    assert services.notebook_size_cap(owner=user) == 100 * 1024**2


def test_the_service_refuses_an_oversized_file(user, settings):
    set_notebook_cap(settings, "free", 10)
    with pytest.raises(services.HangarError) as caught:
        services.notebook_upload(owner=user, uploaded_file=SimpleUploadedFile("a.ipynb", b"x" * 11))
    assert caught.value.status_code == 413


# --- list, get, delete ----------------------------------------------------------------------------


def test_list_get_and_delete(user_client, settings, django_capture_on_commit_callbacks):
    first = upload_fixture(user_client, "flask_app.ipynb")
    second = upload_fixture(user_client, "sales_analysis.ipynb")
    user_client.post(f"/api/v1/notebooks/{second}/parse")

    response = user_client.get("/api/v1/notebooks")
    assert response.status_code == 200
    assert [item["id"] for item in response.json()] == [second, first]
    assert response["X-Total-Count"] == "2"

    assert [item["id"] for item in user_client.get("/api/v1/notebooks?status=parsed").json()] == [second]
    assert [item["id"] for item in user_client.get("/api/v1/notebooks?skip=1&limit=1").json()] == [first]
    assert user_client.get("/api/v1/notebooks?skip=1&limit=1")["X-Total-Count"] == "2"

    detail = user_client.get(f"/api/v1/notebooks/{second}").json()
    assert detail["status"] == "parsed"
    assert detail["app_kind"] == "outputs"
    assert detail["code_cells_count"] == 8

    stored = Path(settings.MEDIA_ROOT) / Notebook.objects.get(pk=first).file.name
    assert stored.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert user_client.delete(f"/api/v1/notebooks/{first}").status_code == 204
    assert not stored.exists()
    assert_error(user_client.get(f"/api/v1/notebooks/{first}"), 404, "NOT_FOUND")
    assert [item["id"] for item in user_client.get("/api/v1/notebooks").json()] == [second]


@pytest.mark.parametrize("query", ["skip=-1", "limit=0", "limit=5000", "limit=abc", "status=bogus"])
def test_bad_list_queries_are_400(user_client, query):
    assert_error(user_client.get(f"/api/v1/notebooks?{query}"), 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("notebook_id", ["999999", "abc", "1.5", "99999999999999999999999"])
def test_unknown_ids_are_404(user_client, notebook_id):
    assert_error(user_client.get(f"/api/v1/notebooks/{notebook_id}"), 404, "NOT_FOUND")
    assert_error(user_client.post(f"/api/v1/notebooks/{notebook_id}/parse"), 404, "NOT_FOUND")


def test_delete_is_refused_while_building(user_client):
    notebook_id = upload_fixture(user_client, "flask_app.ipynb")
    user_client.post(f"/api/v1/notebooks/{notebook_id}/parse")
    Notebook.objects.filter(pk=notebook_id).update(status="building")
    assert_error(user_client.delete(f"/api/v1/notebooks/{notebook_id}"), 409, "CONFLICT")


# --- parse ----------------------------------------------------------------------------------------


def test_parse_answers_the_documented_body(user_client, user):
    notebook_id = upload_fixture(user_client, "sales_analysis.ipynb")
    response = user_client.post(f"/api/v1/notebooks/{notebook_id}/parse")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "status", "code_cells_count", "dependencies", "parsed_at", "app_kind", "warnings"}
    assert body["id"] == notebook_id
    assert body["status"] == "parsed"
    assert body["code_cells_count"] == 8
    assert body["dependencies"] == ["matplotlib", "numpy", "pandas", "Pillow", "scikit-learn", "seaborn==0.13.2"]
    assert body["app_kind"] == "outputs"
    assert body["warnings"] == []
    assert body["parsed_at"]
    assert Activity.objects.filter(user=user, action="notebook_parsed").exists()


def test_parse_reports_warnings_for_magics(user_client):
    notebook_id = upload_fixture(user_client, "shell_magics.ipynb")
    body = user_client.post(f"/api/v1/notebooks/{notebook_id}/parse").json()
    assert body["status"] == "parsed"
    assert any("%%html cell magic is not supported" in warning for warning in body["warnings"])
    assert any("%%bash cell translated" in warning for warning in body["warnings"])


def test_parse_again_is_allowed_until_a_build_starts(user_client):
    notebook_id = upload_fixture(user_client, "flask_app.ipynb")
    assert user_client.post(f"/api/v1/notebooks/{notebook_id}/parse").status_code == 200
    assert user_client.post(f"/api/v1/notebooks/{notebook_id}/parse").status_code == 200
    Notebook.objects.filter(pk=notebook_id).update(status="building")
    assert_error(user_client.post(f"/api/v1/notebooks/{notebook_id}/parse"), 409, "CONFLICT")


def _parse_bad(client, content: bytes, name: str = "bad.ipynb"):
    notebook_id = upload(client, content, name=name).json()["id"]
    return notebook_id, client.post(f"/api/v1/notebooks/{notebook_id}/parse")


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (b"", "The file is empty; upload a Jupyter notebook (.ipynb)"),
        (b"hello", "The file is not valid JSON (Expecting value at line 1), so it is not a notebook"),
        (b'{"cells": []}', "The file is JSON but not a Jupyter notebook: it has no 'nbformat' version"),
        (
            b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}',
            "The notebook has no code cells, so there is nothing to run",
        ),
    ],
)
def test_unusable_files_are_400_and_marked_failed(user_client, user, content, detail):
    notebook_id, response = _parse_bad(user_client, content)
    body = assert_error(response, 400, "INVALID_NOTEBOOK")
    assert body["detail"] == detail
    notebook = Notebook.objects.get(pk=notebook_id)
    assert notebook.status == "failed"
    assert notebook.error_message == detail
    assert user_client.get(f"/api/v1/notebooks/{notebook_id}").json()["error_message"] == detail
    assert Activity.objects.filter(user=user, action="notebook_parse_failed", status="failure").exists()


def test_schema_invalid_notebook_keeps_nbformats_reason(user_client):
    content = json.dumps(
        {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {},
            "cells": [{"cell_type": "code", "metadata": {}, "source": 42, "outputs": []}],
        }
    ).encode()
    notebook_id, response = _parse_bad(user_client, content)
    body = assert_error(response, 400, "INVALID_NOTEBOOK")
    assert body["detail"].startswith("Invalid notebook: ")
    assert body["detail"] == "Invalid notebook: 'execution_count' is a required property"
    assert Notebook.objects.get(pk=notebook_id).status == "failed"


def test_r_notebook_is_unsupported_kernel(user_client):
    notebook_id = upload_fixture(user_client, "r_kernel.ipynb")
    body = assert_error(user_client.post(f"/api/v1/notebooks/{notebook_id}/parse"), 400, "UNSUPPORTED_KERNEL")
    assert body["detail"] == "This notebook uses the R kernel (language: R); Hangar runs Python notebooks only"
    assert Notebook.objects.get(pk=notebook_id).status == "failed"


def test_syntax_error_cell_in_a_flask_app_is_refused_naming_the_cell(user_client):
    notebook_id = upload_fixture(user_client, "flask_syntax_error.ipynb")
    body = assert_error(user_client.post(f"/api/v1/notebooks/{notebook_id}/parse"), 400, "INVALID_NOTEBOOK")
    assert body["detail"].startswith("Cell 2 has a Python syntax error")


def test_syntax_error_cell_in_an_outputs_notebook_parses_with_a_warning(user_client):
    notebook_id = upload_fixture(user_client, "syntax_error.ipynb")
    body = user_client.post(f"/api/v1/notebooks/{notebook_id}/parse").json()
    assert body["status"] == "parsed"
    assert body["warnings"] == ["Cell 2: syntax error (line 1: invalid syntax); the app page shows it"]


def test_a_failed_notebook_parses_after_a_new_revision(user_client, user):
    notebook_id, _ = _parse_bad(user_client, b"not json")
    notebook = Notebook.objects.get(pk=notebook_id)
    services.notebook_replace_content(notebook=notebook, content=fixture_bytes("flask_app.ipynb"))
    notebook.refresh_from_db()
    assert notebook.status == "uploaded"
    assert notebook.error_message == ""
    body = user_client.post(f"/api/v1/notebooks/{notebook_id}/parse").json()
    assert body["status"] == "parsed"
    assert body["app_kind"] == "flask"


# --- downloads ------------------------------------------------------------------------------------


@pytest.mark.parametrize("filename", ["main.py", "requirements.txt", "Dockerfile"])
def test_downloads_need_a_parse_first(user_client, filename):
    notebook_id = upload_fixture(user_client, "flask_app.ipynb")
    body = assert_error(
        user_client.get(f"/api/v1/notebooks/{notebook_id}/download/{filename}"), 400, "NOTEBOOK_NOT_PARSED"
    )
    assert body["detail"] == "Notebook must be parsed first. Current status: uploaded"


def test_downloads_after_parse(user_client):
    notebook_id = upload_fixture(user_client, "fastapi_app.ipynb")
    user_client.post(f"/api/v1/notebooks/{notebook_id}/parse")

    response = user_client.get(f"/api/v1/notebooks/{notebook_id}/download/main.py")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="main.py"'
    main_py = response.content.decode()
    compile(main_py, "main.py", "exec")
    assert "root_path=BASE_PATH" in main_py

    requirements = user_client.get(f"/api/v1/notebooks/{notebook_id}/download/requirements.txt")
    assert requirements["Content-Disposition"] == 'attachment; filename="requirements.txt"'
    assert requirements.content.decode().splitlines()[1:] == ["fastapi", "uvicorn"]

    dockerfile = user_client.get(f"/api/v1/notebooks/{notebook_id}/download/Dockerfile").content.decode()
    assert "FROM python:3.11-slim" in dockerfile


def test_failed_parse_download_says_failed(user_client):
    notebook_id, _ = _parse_bad(user_client, b"")
    body = assert_error(
        user_client.get(f"/api/v1/notebooks/{notebook_id}/download/main.py"), 400, "NOTEBOOK_NOT_PARSED"
    )
    assert body["detail"] == "Notebook must be parsed first. Current status: failed"


# --- services other apps call -----------------------------------------------------------------------


def test_require_parsed_and_write_sources(user, tmp_path):
    notebook = services.notebook_upload(
        owner=user, uploaded_file=SimpleUploadedFile("dash.ipynb", fixture_bytes("streamlit_app.ipynb"))
    )
    with pytest.raises(services.HangarError) as caught:
        services.notebook_require_parsed(notebook=notebook)
    assert caught.value.detail == "Notebook must be parsed first. Current status: uploaded"
    with pytest.raises(services.HangarError):
        services.notebook_write_sources(notebook=notebook, dest=tmp_path / "src")

    notebook = services.notebook_parse(notebook=notebook)
    services.notebook_require_parsed(notebook=notebook)
    services.notebook_write_sources(notebook=notebook, dest=tmp_path / "src")
    written = sorted(path.name for path in (tmp_path / "src").iterdir())
    assert written == ["Dockerfile", "app.py", "main.py", "requirements.txt"]
    assert (tmp_path / "src" / "main.py").read_text() == notebook.main_py
    assert (tmp_path / "src" / "requirements.txt").read_text() == notebook.requirements_txt


def test_a_build_failure_keeps_the_notebook_parsed_for_a_rebuild(user):
    notebook = services.notebook_upload(
        owner=user, uploaded_file=SimpleUploadedFile("a.ipynb", fixture_bytes("flask_app.ipynb"))
    )
    notebook = services.notebook_parse(notebook=notebook)
    for status in ("building", "failed"):
        notebook.transition_to(status)
        notebook.save()
    services.notebook_require_parsed(notebook=notebook)  # no error: its sources are still there


def test_replace_content_goes_back_to_uploaded(user, settings, django_capture_on_commit_callbacks):
    notebook = services.notebook_upload(
        owner=user, uploaded_file=SimpleUploadedFile("a.ipynb", fixture_bytes("flask_app.ipynb"))
    )
    old_file = Path(settings.MEDIA_ROOT) / notebook.file.name
    notebook = services.notebook_parse(notebook=notebook)
    with django_capture_on_commit_callbacks(execute=True):
        notebook = services.notebook_replace_content(
            notebook=notebook, content=fixture_bytes("sales_analysis.ipynb"), filename="sub/dir/report.ipynb"
        )
    assert notebook.status == "uploaded"
    assert (notebook.filename, notebook.name) == ("report.ipynb", "report")
    assert notebook.main_py == notebook.requirements_txt == notebook.app_kind == ""
    assert notebook.dependencies == [] and notebook.parsed_at is None
    assert not old_file.exists()
    assert services.notebook_parse(notebook=notebook).app_kind == "outputs"
    assert Activity.objects.filter(user=user, action="notebook_replaced").exists()


def test_replace_content_follows_the_state_machine_and_the_cap(user, settings):
    notebook = services.notebook_upload(
        owner=user, uploaded_file=SimpleUploadedFile("a.ipynb", fixture_bytes("flask_app.ipynb"))
    )
    Notebook.objects.filter(pk=notebook.pk).update(status="deploying")
    with pytest.raises(IllegalTransition):
        services.notebook_replace_content(notebook=notebook, content=b"{}")
    Notebook.objects.filter(pk=notebook.pk).update(status="deployed")
    set_notebook_cap(settings, "free", 5)
    with pytest.raises(services.HangarError) as caught:
        services.notebook_replace_content(notebook=notebook, content=b"x" * 6)
    assert caught.value.status_code == 413
    with pytest.raises(services.HangarError) as caught:
        services.notebook_replace_content(notebook=notebook, content=b"{}", filename="x.txt")
    assert caught.value.error_code == "INVALID_NOTEBOOK"


# --- tenancy --------------------------------------------------------------------------------------


def test_another_tenant_gets_404_on_every_route(user_client, other_client):
    notebook_id = upload_fixture(user_client, "flask_app.ipynb")
    assert user_client.post(f"/api/v1/notebooks/{notebook_id}/parse").status_code == 200
    base = f"/api/v1/notebooks/{notebook_id}"
    assert_error(other_client.get(base), 404, "NOT_FOUND")
    assert_error(other_client.post(f"{base}/parse"), 404, "NOT_FOUND")
    for filename in ("main.py", "requirements.txt", "Dockerfile"):
        assert_error(other_client.get(f"{base}/download/{filename}"), 404, "NOT_FOUND")
    assert_error(other_client.delete(base), 404, "NOT_FOUND")
    assert other_client.get("/api/v1/notebooks").json() == []
    # ...and nothing changed for the owner
    assert user_client.get(base).json()["status"] == "parsed"


def test_an_admin_sees_only_their_own_notebooks(user_client, superuser_client):
    notebook_id = upload_fixture(user_client, "flask_app.ipynb")
    assert_error(superuser_client.get(f"/api/v1/notebooks/{notebook_id}"), 404, "NOT_FOUND")
    assert superuser_client.get("/api/v1/notebooks").json() == []
