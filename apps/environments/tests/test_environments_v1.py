"""004's /api/v1/environments routes, against the in-memory backend."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.activity.models import Activity
from apps.environments.models import Environment, InstallationLogLine
from apps.environments.tests.factories import EnvironmentFactory, TemplateFactory
from apps.runtime.workspaces import workspace_dir

pytestmark = pytest.mark.django_db

ENV_FIELDS = {
    "id",
    "name",
    "description",
    "template_id",
    "template_name",
    "status",
    "docker_image",
    "port",
    "resources",
    "environment_variables",
    "installation_completed",
    "created_at",
    "updated_at",
    "last_activity",
}


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert {"detail", "error_code", "timestamp"} <= set(body)
    if code:
        assert body["error_code"] == code
    return body


def create(client, template, **extra):
    return client.post(
        "/api/v1/environments", {"name": "dev box", "template_id": str(template.pk), **extra}, format="json"
    )


def test_create_answers_201_with_the_environment_object(
    user_client, python_template, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = create(user_client, python_template, description="mine", environment_variables={"A": "1"})
    assert response.status_code == 201
    body = response.json()
    assert set(body) >= ENV_FIELDS
    assert body["status"] == "creating"
    assert body["id"].startswith("env-")
    assert body["template_id"] == str(python_template.pk)
    assert body["template_name"] == "python-3.11"
    assert body["docker_image"] == "python:3.11-slim"
    assert body["port"] == 8080
    assert body["resources"] == {"cpu": "500m", "memory": "1Gi", "storage": "10Gi"}
    assert body["environment_variables"] == {"A": "1"}
    later = user_client.get(f"/api/v1/environments/{body['id']}").json()
    assert later["status"] == "running"
    assert later["installation_completed"] is True
    python_template.refresh_from_db()
    assert python_template.usage_count == 1


def test_create_refuses_an_image_the_host_cannot_provide_before_creating_anything(user_client, templates, backend):
    response = create(user_client, templates["golang-1.21"])
    assert_error(response, 400, "IMAGE_UNAVAILABLE")
    assert Environment.objects.count() == 0
    assert backend.started == []


def test_create_refuses_a_template_not_offered_by_this_runtime(user_client, settings):
    template = TemplateFactory(runtimes=["kubernetes"])
    assert_error(create(user_client, template), 400, "IMAGE_UNAVAILABLE")


def test_create_refuses_a_deprecated_template(user_client):
    template = TemplateFactory(status="deprecated")
    assert_error(create(user_client, template), 400, "BAD_REQUEST")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": "x"},
        {"name": "", "template_id": "TEMPLATE"},
        {"name": "x" * 101, "template_id": "TEMPLATE"},
        {"name": "bad\x07name", "template_id": "TEMPLATE"},
        {"name": "x", "template_id": "not-a-uuid"},
        {"name": "x", "template_id": "TEMPLATE", "environment_variables": {"1BAD": "v"}},
        {"name": "x", "template_id": "TEMPLATE", "environment_variables": {"OK": {"nested": 1}}},
        {"name": "x", "template_id": "TEMPLATE", "environment_variables": ["A=1"]},
    ],
)
def test_create_validates_its_body(user_client, python_template, body):
    body = {k: (str(python_template.pk) if v == "TEMPLATE" else v) for k, v in body.items()}
    assert_error(user_client.post("/api/v1/environments", body, format="json"), 400, "VALIDATION_ERROR")


def test_create_with_an_unknown_template_is_404(user_client):
    response = user_client.post(
        "/api/v1/environments",
        {"name": "x", "template_id": "00000000-0000-0000-0000-000000000000"},
        format="json",
    )
    assert_error(response, 404, "NOT_FOUND")


def test_malformed_json_is_400(user_client):
    response = user_client.post("/api/v1/environments", "{nope", content_type="application/json")
    assert_error(response, 400, "MALFORMED_JSON")


def test_the_tier_limits_how_many_environments_exist(user_client, user, python_template, settings):
    settings.HANGAR_TIERS = {**settings.HANGAR_TIERS, "free": {**settings.HANGAR_TIERS["free"], "max_environments": 2}}
    assert create(user_client, python_template).status_code == 201
    assert create(user_client, python_template).status_code == 201
    assert_error(create(user_client, python_template), 403, "ENVIRONMENT_LIMIT_REACHED")
    # Deleted environments do not count.
    first = Environment.objects.filter(owner=user).first()
    first.transition_to("terminated")
    first.save()
    assert create(user_client, python_template).status_code == 201


def test_default_tier_limits():
    from django.conf import settings

    assert [settings.HANGAR_TIERS[t]["max_environments"] for t in ("free", "pro", "enterprise")] == [3, 10, 50]


def test_list_shows_only_the_callers_environments_with_filters(
    user_client, user, other_user, python_template, templates
):
    mine_running = EnvironmentFactory(owner=user, template=python_template, status="running")
    mine_stopped = EnvironmentFactory(owner=user, template=templates["nodejs-18"], status="stopped")
    EnvironmentFactory(owner=user, template=python_template, status="terminated")
    EnvironmentFactory(owner=other_user, template=python_template, status="running")
    ids = {e["id"] for e in user_client.get("/api/v1/environments").json()}
    assert ids == {mine_running.id, mine_stopped.id}
    running = user_client.get("/api/v1/environments?status=running").json()
    assert [e["id"] for e in running] == [mine_running.id]
    by_template = user_client.get(f"/api/v1/environments?template_id={templates['nodejs-18'].pk}").json()
    assert [e["id"] for e in by_template] == [mine_stopped.id]
    terminated = user_client.get("/api/v1/environments?status=terminated").json()
    assert len(terminated) == 1


@pytest.mark.parametrize("query", ["status=sleeping", "template_id=nope", "status="])
def test_list_rejects_bad_filters(user_client, query):
    assert_error(user_client.get(f"/api/v1/environments?{query}"), 400, "VALIDATION_ERROR")


def test_routes_need_authentication(api_client):
    assert_error(api_client.get("/api/v1/environments"), 401, "UNAUTHORIZED")
    assert_error(api_client.post("/api/v1/environments", {}, format="json"), 401)


def test_get_unknown_and_deleted_are_404(user_client, user, python_template):
    assert_error(user_client.get("/api/v1/environments/env-" + "0" * 32), 404, "NOT_FOUND")
    assert_error(user_client.get("/api/v1/environments/whatever"), 404, "NOT_FOUND")
    gone = EnvironmentFactory(owner=user, template=python_template, status="terminated")
    assert_error(user_client.get(f"/api/v1/environments/{gone.id}"), 404)


def test_update_changes_name_description_and_variables(user_client, user, python_template):
    environment = EnvironmentFactory(owner=user, template=python_template)
    response = user_client.put(
        f"/api/v1/environments/{environment.id}",
        {"name": "renamed", "description": "new", "environment_variables": {"X": 1, "FLAG": True}},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "renamed" and body["description"] == "new"
    assert body["environment_variables"] == {"X": "1", "FLAG": "true"}
    assert Activity.objects.filter(user=user, action="environment_updated").exists()


@pytest.mark.parametrize(
    "body", [{}, {"name": ""}, {"environment_variables": {"A-B": "x"}}, {"description": "x" * 1001}]
)
def test_update_validates(user_client, user, python_template, body):
    environment = EnvironmentFactory(owner=user, template=python_template)
    assert_error(user_client.put(f"/api/v1/environments/{environment.id}", body, format="json"), 400)


def test_delete_stops_the_workload_and_removes_the_workspace(user_client, running_env, backend):
    workspace = workspace_dir("environment", running_env.id)
    (workspace / "notes.txt").write_text("hi")
    response = user_client.delete(f"/api/v1/environments/{running_env.id}")
    assert response.status_code == 204
    assert running_env.id in backend.stopped
    assert not workspace.exists()
    running_env.refresh_from_db()
    assert running_env.status == "terminated"
    assert_error(user_client.get(f"/api/v1/environments/{running_env.id}"), 404)
    assert_error(user_client.delete(f"/api/v1/environments/{running_env.id}"), 404)


def test_stop_then_start_then_restart(user_client, running_env, backend, django_capture_on_commit_callbacks):
    url = f"/api/v1/environments/{running_env.id}"
    response = user_client.post(f"{url}/stop")
    assert response.status_code == 200
    assert response.json()["status"] == "stopped"
    assert backend.running() == []
    assert_error(user_client.post(f"{url}/stop"), 409, "CONFLICT")
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(f"{url}/start")
    assert response.status_code == 200
    assert response.json()["status"] == "creating"
    assert user_client.get(url).json()["status"] == "running"
    assert_error(user_client.post(f"{url}/start"), 409, "CONFLICT")
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(f"{url}/restart")
    assert response.status_code == 200
    assert user_client.get(url).json()["status"] == "running"
    assert len(backend.started) == 3


@pytest.mark.parametrize("status", ["creating", "installing"])
def test_lifecycle_actions_from_a_transitional_state_are_409(user_client, user, python_template, status):
    environment = EnvironmentFactory(owner=user, template=python_template, status=status)
    for action in ("start", "stop", "restart"):
        assert_error(user_client.post(f"/api/v1/environments/{environment.id}/{action}"), 409, "CONFLICT")


def test_restart_from_error(user_client, user, python_template, backend, django_capture_on_commit_callbacks):
    environment = EnvironmentFactory(owner=user, template=python_template, status="error")
    assert_error(user_client.post(f"/api/v1/environments/{environment.id}/start"), 409)
    with django_capture_on_commit_callbacks(execute=True):
        assert user_client.post(f"/api/v1/environments/{environment.id}/restart").status_code == 200
    environment.refresh_from_db()
    assert environment.status == "running"


def test_metrics_of_a_running_environment(user_client, running_env):
    body = user_client.get(f"/api/v1/environments/{running_env.id}/metrics").json()
    assert body["environment_id"] == running_env.id
    assert body["cpu"]["usage_percent"] == 12.5
    assert body["memory"]["usage_bytes"] == 128 * 1024**2
    assert body["memory"]["limit_bytes"] == 1024**3
    assert body["storage"]["limit_bytes"] == 10 * 1024**3
    assert body["processes"] == 3


def test_metrics_of_a_stopped_environment_is_409(user_client, user, python_template):
    environment = EnvironmentFactory(owner=user, template=python_template, status="stopped")
    assert_error(user_client.get(f"/api/v1/environments/{environment.id}/metrics"), 409, "CONFLICT")


def test_logs_merge_installation_and_runtime_entries(user_client, running_env, backend):
    backend.add_log(running_env.id, "app says hi")
    body = user_client.get(f"/api/v1/environments/{running_env.id}/logs").json()
    assert set(body) == {"environment_id", "environment_name", "logs", "total_lines", "has_more"}
    assert body["environment_id"] == running_env.id
    assert body["environment_name"] == running_env.name
    messages = [entry["message"] for entry in body["logs"]]
    assert "$ python3 --version" in messages and "app says hi" in messages
    assert set(body["logs"][0]) == {"timestamp", "level", "message", "source"}
    assert body["total_lines"] == len(body["logs"])
    assert body["has_more"] is False


def test_logs_lines_and_since(user_client, running_env, backend):
    old = timezone.now() - timedelta(hours=2)
    InstallationLogLine.objects.filter(environment=running_env).update(timestamp=old)
    backend.workloads[running_env.id]["logs"] = []
    for n in range(5):
        backend.add_log(running_env.id, f"line {n}")
    body = user_client.get(f"/api/v1/environments/{running_env.id}/logs?lines=2").json()
    assert [e["message"] for e in body["logs"]] == ["line 3", "line 4"]
    assert body["has_more"] is True
    since = (timezone.now() - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    body = user_client.get(f"/api/v1/environments/{running_env.id}/logs", {"since": since}).json()
    assert [e["message"] for e in body["logs"]] == [f"line {n}" for n in range(5)]


@pytest.mark.parametrize(
    "query", ["lines=0", "lines=1001", "lines=abc", "since=yesterday", "since=2024-13-01T00:00:00Z"]
)
def test_logs_reject_bad_parameters(user_client, running_env, query):
    assert_error(user_client.get(f"/api/v1/environments/{running_env.id}/logs?{query}"), 400, "VALIDATION_ERROR")
