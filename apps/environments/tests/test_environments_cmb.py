"""001's environment routes over the same objects, in 001's envelope."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.environments.models import Environment
from apps.environments.tests.factories import EnvironmentFactory
from apps.environments.tests.test_environments_v1 import assert_error

pytestmark = pytest.mark.django_db

ENV_SHAPE = {"env_id", "pod_name", "status", "created_at", "url"}


def test_post_picks_the_template_by_image(user_client, user, templates, backend, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(
            "/environments",
            {"image": "node:18-slim", "application_id": "app-123", "config": {"name": "Research", "description": "d"}},
            format="json",
        )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "created"
    assert "timestamp" in body
    data = body["data"]
    assert set(data) >= ENV_SHAPE
    assert data["status"] == "creating"
    assert data["pod_name"] == f"user-{user.pk}-{data['env_id']}"
    environment = Environment.objects.get(pk=data["env_id"])
    assert environment.template == templates["nodejs-18"]
    assert environment.application_id == "app-123"
    assert environment.name == "Research" and environment.description == "d"
    # Once running, the published port is the url.
    listed = user_client.get("/environments/list").json()["data"]["environments"]
    assert listed[0]["url"] == f"http://127.0.0.1:{backend.host_port}"


def test_post_without_an_image_uses_the_python_template(user_client, templates):
    response = user_client.post("/environments", {}, format="json")
    assert response.status_code == 201
    assert Environment.objects.get(pk=response.json()["data"]["env_id"]).template == templates["python-3.11"]


def test_post_with_an_unknown_image_is_image_unavailable(user_client, templates):
    response = user_client.post("/environments", {"image": "borisbolliet/cmbagent-ui:latest"}, format="json")
    assert_error(response, 400, "IMAGE_UNAVAILABLE")
    assert Environment.objects.count() == 0


def test_post_with_an_image_the_host_lacks_is_image_unavailable(user_client, templates):
    assert_error(
        user_client.post("/environments", {"image": "golang:1.21-alpine"}, format="json"), 400, "IMAGE_UNAVAILABLE"
    )


def test_post_with_no_templates_at_all(user_client):
    assert_error(user_client.post("/environments", {}, format="json"), 400, "IMAGE_UNAVAILABLE")


@pytest.mark.parametrize("body", [{"image": 5 * "x" * 100}, {"config": "nope"}, {"config": {"name": "x" * 101}}])
def test_post_validates(user_client, templates, body):
    assert_error(user_client.post("/environments", body, format="json"), 400, "VALIDATION_ERROR")


def test_get_answers_the_active_environment(user_client, user, python_template):
    body = user_client.get("/environments").json()
    assert body["status"] == "success"
    assert body["data"] == {"active": False, "environment": None}
    EnvironmentFactory(owner=user, template=python_template, status="stopped")
    running = EnvironmentFactory(owner=user, template=python_template, status="running")
    data = user_client.get("/environments").json()["data"]
    assert data["active"] is True
    assert data["environment"]["env_id"] == running.id
    assert set(data["environment"]) >= ENV_SHAPE


def test_list(user_client, user, other_user, python_template):
    mine = EnvironmentFactory(owner=user, template=python_template, status="stopped")
    EnvironmentFactory(owner=other_user, template=python_template)
    environments = user_client.get("/environments/list").json()["data"]["environments"]
    assert [e["env_id"] for e in environments] == [mine.id]
    assert environments[0]["url"] is None


def test_info_reports_uptime_from_the_tier(user_client, user, python_template):
    environment = EnvironmentFactory(
        owner=user, template=python_template, status="running", started_at=timezone.now() - timedelta(minutes=45)
    )
    data = user_client.get(f"/environments/{environment.id}/info").json()["data"]
    assert data["uptime_minutes"] == 45
    assert data["max_uptime_minutes"] == 60
    assert data["auto_shutdown_enabled"] is True
    assert data["time_until_shutdown_minutes"] == 15
    assert data["subscription_tier"] == "free"
    assert data["environment"]["env_id"] == environment.id


def test_info_for_enterprise_has_no_shutdown(user_client, user, python_template):
    user.tier = "enterprise"
    user.save()
    environment = EnvironmentFactory(owner=user, template=python_template, status="running", started_at=timezone.now())
    data = user_client.get(f"/environments/{environment.id}/info").json()["data"]
    assert data["auto_shutdown_enabled"] is False
    assert data["time_until_shutdown_minutes"] is None


def test_info_bad_and_unknown_ids(user_client):
    assert_error(user_client.get("/environments/abc/info"), 400, "BAD_REQUEST")
    assert_error(user_client.get(f"/environments/env-{'0' * 32}/info"), 404, "NOT_FOUND")


def test_delete_by_id_and_latest(user_client, user, python_template, backend):
    older = EnvironmentFactory(owner=user, template=python_template)
    newer = EnvironmentFactory(owner=user, template=python_template)
    response = user_client.delete(f"/environments?env_id={older.id}")
    assert response.status_code == 200
    assert response.json()["status"] == "deleted"
    assert response.json()["message"] == "Environment deleted successfully"
    older.refresh_from_db()
    assert older.status == "terminated"
    assert user_client.delete("/environments").status_code == 200
    newer.refresh_from_db()
    assert newer.status == "terminated"
    assert_error(user_client.delete("/environments"), 404, "NOT_FOUND")
    assert_error(user_client.delete("/environments?env_id=bad"), 400, "BAD_REQUEST")


def test_heartbeat_updates_last_activity(user_client, user, python_template):
    past = timezone.now() - timedelta(hours=1)
    one = EnvironmentFactory(owner=user, template=python_template, status="running", last_activity=past)
    two = EnvironmentFactory(owner=user, template=python_template, status="running", last_activity=past)
    response = user_client.post("/environments/heartbeat", {"env_id": one.id}, format="json")
    assert response.status_code == 200
    assert response.json()["message"] == "Heartbeat received"
    one.refresh_from_db()
    two.refresh_from_db()
    assert one.last_activity > past and two.last_activity == past
    user_client.post("/environments/heartbeat")
    two.refresh_from_db()
    assert two.last_activity > past
    assert_error(user_client.post("/environments/heartbeat", {"env_id": "x"}, format="json"), 400)


def test_admin_environments(superuser_client, user_client, user, python_template):
    environment = EnvironmentFactory(owner=user, template=python_template, status="running")
    data = superuser_client.get("/admin/environments").json()["data"]["environments"]
    assert data[0]["env_id"] == environment.id
    assert data[0]["user_id"] == str(user.pk)
    assert {"env_id", "user_id", "pod_name", "status", "created_at"} <= set(data[0])
    assert_error(user_client.get("/admin/environments"), 403, "FORBIDDEN")


def test_admin_environments_beats_django_admin(superuser_client):
    response = superuser_client.get("/admin/environments")
    assert response["Content-Type"].startswith("application/json")
    assert response.status_code == 200


def test_cookie_auth_works_like_the_documented_curl(api_client, user, python_template, templates):
    from apps.accounts.tokens import tokens_for

    api_client.cookies["hangar_access"] = tokens_for(user).access
    assert api_client.get("/environments/list").status_code == 200
