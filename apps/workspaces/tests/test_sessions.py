"""002's session routes: list, create and get, with the envelopes, the token and user_id rules."""

import uuid

import pytest

from apps.activity.models import Activity
from apps.workspaces.models import CodeSession
from apps.workspaces.services import WELCOME_CODE
from apps.workspaces.tests.factories import CodeSessionFactory

pytestmark = pytest.mark.django_db
SESSION_FIELDS = {"id", "user_id", "name", "code", "language", "is_active", "created_at", "updated_at"}


def assert_error(response, status: int, code: str | None = None) -> dict:
    """Hangar's error shape with the expected status."""
    assert response.status_code == status, response.content
    body = response.json()
    assert {"detail", "error_code", "timestamp"} <= set(body)
    if code:
        assert body["error_code"] == code
    return body


def test_create_session_answers_201_in_the_002_envelope_and_writes_script_py(user_client, user):
    response = user_client.post("/api/sessions/", {"name": "My Python Project"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True and body["message"] == "Session created successfully"
    data = body["data"]
    assert set(data) == SESSION_FIELDS
    assert data["user_id"] == user.pk and data["name"] == "My Python Project"
    assert data["code"] == "" and data["language"] == "python" and data["is_active"] is True
    session = CodeSession.objects.get(pk=data["id"])
    assert session.workload_id == f"ses-{session.id.hex}" and session.workload_state == "idle"
    assert (session.workspace_path / "script.py").read_text() == WELCOME_CODE
    assert Activity.objects.filter(user=user, action="session_created").count() == 1


def test_create_accepts_the_callers_own_user_id_and_the_path_without_slash(user_client, user):
    response = user_client.post("/api/sessions", {"user_id": user.pk, "name": "x"}, format="json")
    assert response.status_code == 201 and response.json()["data"]["user_id"] == user.pk


def test_create_for_someone_else_is_403(user_client, other_user):
    response = user_client.post("/api/sessions/", {"user_id": other_user.pk, "name": "x"}, format="json")
    assert_error(response, 403, "FORBIDDEN")
    assert not CodeSession.objects.exists()


def test_an_admin_may_create_for_another_user_and_an_unknown_user_is_404(superuser_client, user):
    response = superuser_client.post("/api/sessions/", {"user_id": user.pk, "name": "for you"}, format="json")
    assert response.status_code == 201 and response.json()["data"]["user_id"] == user.pk
    assert_error(superuser_client.post("/api/sessions/", {"user_id": 999999, "name": "x"}, format="json"), 404)


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": "x" * 201}, {"name": "x", "user_id": "abc"}, {"name": "x", "user_id": 0}],
)
def test_create_with_bad_input_is_400_with_field_errors(user_client, body):
    error = assert_error(user_client.post("/api/sessions/", body, format="json"), 400, "VALIDATION_ERROR")
    assert "errors" in error


def test_create_with_malformed_json_is_400(user_client):
    response = user_client.post("/api/sessions/", "{nope", content_type="application/json")
    assert_error(response, 400, "MALFORMED_JSON")


def test_list_returns_the_callers_sessions_with_count(user_client, user, other_user):
    mine = [CodeSessionFactory(owner=user, name=f"mine {n}") for n in range(3)]
    CodeSessionFactory(owner=other_user)
    body = user_client.get("/api/sessions/").json()
    assert body["success"] is True and body["count"] == 3
    assert body["message"] == "Retrieved 3 sessions"
    assert {s["id"] for s in body["data"]} == {str(s.id) for s in mine}
    assert all(set(s) == SESSION_FIELDS for s in body["data"])


def test_list_paginates_with_skip_and_limit(user_client, user):
    for n in range(5):
        CodeSessionFactory(owner=user, name=f"s{n}")
    body = user_client.get("/api/sessions/?skip=1&limit=2").json()
    assert len(body["data"]) == 2 and body["count"] == 5
    assert body["message"] == "Retrieved 2 sessions"


@pytest.mark.parametrize("query", ["skip=-1", "limit=0", "limit=abc", "limit=100000"])
def test_list_with_bad_pagination_is_400(user_client, query):
    assert_error(user_client.get(f"/api/sessions/?{query}"), 400, "VALIDATION_ERROR")


def test_list_user_id_filter_must_be_the_caller(user_client, user, other_user):
    CodeSessionFactory(owner=user)
    assert user_client.get(f"/api/sessions/?user_id={user.pk}").json()["count"] == 1
    assert_error(user_client.get(f"/api/sessions/?user_id={other_user.pk}"), 403, "FORBIDDEN")
    assert_error(user_client.get("/api/sessions/?user_id=abc"), 400)


def test_an_admin_may_filter_by_any_user(superuser_client, user):
    CodeSessionFactory(owner=user)
    body = superuser_client.get(f"/api/sessions/?user_id={user.pk}").json()
    assert body["count"] == 1 and body["data"][0]["user_id"] == user.pk
    # Without user_id an admin sees its own sessions, like everyone else.
    assert superuser_client.get("/api/sessions/").json()["count"] == 0


def test_get_session(user_client, session, user):
    response = user_client.get(f"/api/sessions/{session.id}?user_id={user.pk}")
    body = response.json()
    assert response.status_code == 200 and body["success"] is True
    assert body["message"] == "Session retrieved successfully"
    assert body["data"]["id"] == str(session.id) and set(body["data"]) == SESSION_FIELDS


def test_get_another_users_or_an_unknown_session_is_404(user_client, other_session, user):
    assert_error(user_client.get(f"/api/sessions/{other_session.id}"), 404, "NOT_FOUND")
    assert_error(user_client.get(f"/api/sessions/{other_session.id}?user_id={user.pk}"), 404, "NOT_FOUND")
    assert_error(user_client.get(f"/api/sessions/{uuid.uuid4()}"), 404, "NOT_FOUND")
    assert_error(user_client.get("/api/sessions/not-a-uuid"), 404)


def test_get_with_someone_elses_user_id_is_403(user_client, session, other_user):
    assert_error(user_client.get(f"/api/sessions/{session.id}?user_id={other_user.pk}"), 403, "FORBIDDEN")


def test_an_admin_reaches_a_users_session_only_by_naming_the_user(superuser_client, session, user):
    assert_error(superuser_client.get(f"/api/sessions/{session.id}"), 404)
    assert superuser_client.get(f"/api/sessions/{session.id}?user_id={user.pk}").status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/sessions/"),
        ("post", "/api/sessions/"),
        ("get", "/api/sessions/{id}"),
        ("get", "/api/workspace/{id}/files"),
        ("get", "/api/workspace/{id}/file/script.py"),
        ("post", "/api/workspace/{id}/file/script.py"),
        ("delete", "/api/workspace/{id}/file/script.py"),
        ("get", "/api/workspace/{id}/status"),
        ("post", "/api/workspace/{id}/ensure-default"),
        ("post", "/workspace/{id}/shutdown"),
    ],
)
def test_every_route_needs_a_token(api_client, session, method, path):
    response = getattr(api_client, method)(path.format(id=session.id), {"content": "x"}, format="json")
    assert_error(response, 401, "UNAUTHORIZED")
    assert (session.workspace_path / "script.py").read_text() == WELCOME_CODE


def test_a_user_id_query_parameter_is_not_authentication(api_client, session, user):
    assert_error(api_client.get(f"/api/sessions/?user_id={user.pk}"), 401)
