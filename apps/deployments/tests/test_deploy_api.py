"""/api/v1/deployments: bad input and tenant isolation. Nothing here starts a sandbox: every
request is refused before a deployment would run, or touches a deployment that is not running."""

import pytest

from apps.builds.models import Build
from apps.deployments.models import Deployment
from apps.deployments.tests import support
from apps.deployments.tests.support import make_build
from apps.notebooks.models import Notebook

runtime_root, plain_venv = support.runtime_root, support.plain_venv
pytestmark = pytest.mark.django_db


@pytest.fixture
def build(user, runtime_root, plain_venv):
    return make_build(user, app="stdlib_app.py", env_path=plain_venv, root=runtime_root)


@pytest.fixture
def stopped(user, build) -> Deployment:
    """A deployment of ``user`` that is not running (so no test here needs a sandbox)."""
    return Deployment.objects.create(
        owner=user,
        notebook=build.notebook,
        build=build,
        service_name=f"notebook-{build.notebook_id}-{user.pk}",
        status=Deployment.Status.STOPPED,
    )


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error_code"] == code, body
    assert body["detail"] and body["timestamp"]
    return body


def body_for(build, **overrides) -> dict:
    return {"notebook_id": build.notebook_id, "build_id": build.pk, **overrides}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cpu", "0.1"),
        ("cpu", "5"),
        ("cpu", "lots"),
        ("cpu", "-1"),
        ("memory", "64Mi"),
        ("memory", "8Gi"),
        ("memory", "512 MB"),
        ("memory", "1Xi"),
        ("min_instances", -1),
        ("max_instances", 0),
        ("max_instances", 101),
        ("max_instances", "many"),
    ],
)
def test_bad_resources_are_400_naming_the_field(user_client, build, field, value):
    response = user_client.post("/api/v1/deployments", body_for(build, **{field: value}), format="json")
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert field in body["errors"]
    assert not Deployment.objects.exists()


def test_min_above_max_is_400(user_client, build):
    response = user_client.post("/api/v1/deployments", body_for(build, min_instances=5, max_instances=2), format="json")
    assert "min_instances" in assert_error(response, 400, "VALIDATION_ERROR")["errors"]


def test_missing_fields_and_not_json(user_client, build):
    assert_error(user_client.post("/api/v1/deployments", {}, format="json"), 400, "VALIDATION_ERROR")
    response = user_client.post("/api/v1/deployments", "{not json", content_type="application/json")
    assert_error(response, 400, "MALFORMED_JSON")
    response = user_client.post("/api/v1/deployments", "notebook_id=1", content_type="text/csv")
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize("status", [Build.Status.QUEUED, Build.Status.BUILDING, Build.Status.FAILED])
def test_a_build_that_did_not_succeed_is_build_not_ready(user_client, build, status):
    Build.objects.filter(pk=build.pk).update(status=status)
    response = user_client.post("/api/v1/deployments", body_for(build), format="json")
    assert status in assert_error(response, 400, "BUILD_NOT_READY")["detail"]


def test_a_build_of_another_notebook_is_400(user_client, user, build):
    other_notebook = Notebook.objects.create(owner=user, name="o", filename="o.ipynb", file="notebooks/o.ipynb")
    response = user_client.post(
        "/api/v1/deployments", {"notebook_id": other_notebook.pk, "build_id": build.build_id}, format="json"
    )
    assert_error(response, 400, "BAD_REQUEST")


def test_other_tenants_notebook_build_and_deployment_are_404(other_client, build, stopped):
    assert_error(other_client.post("/api/v1/deployments", body_for(build), format="json"), 404, "NOT_FOUND")
    mine = other_client.post("/api/v1/deployments", {"notebook_id": 999999, "build_id": build.pk}, format="json")
    assert_error(mine, 404, "NOT_FOUND")
    for path in ("", "/logs"):
        assert_error(other_client.get(f"/api/v1/deployments/{stopped.pk}{path}"), 404, "NOT_FOUND")
    for action in ("stop", "redeploy"):
        assert_error(other_client.post(f"/api/v1/deployments/{stopped.pk}/{action}"), 404, "NOT_FOUND")
    assert other_client.get("/api/v1/deployments").json()["total"] == 0
    assert Deployment.objects.count() == 1


def test_unknown_and_malformed_ids_are_404(user_client):
    for deployment_id in ("999999", "abc", "1.5", "%E2%91%A0"):
        assert_error(user_client.get(f"/api/v1/deployments/{deployment_id}"), 404, "NOT_FOUND")


def test_anonymous_is_401(api_client, stopped):
    assert_error(api_client.get("/api/v1/deployments"), 401, "UNAUTHORIZED")
    assert_error(api_client.get(f"/api/v1/deployments/{stopped.pk}"), 401, "UNAUTHORIZED")


def test_list_pages_and_filters_by_status(user_client, stopped, build, user):
    Deployment.objects.create(
        owner=user,
        notebook=build.notebook,
        build=build,
        service_name=stopped.service_name,
        revision=2,
        status=Deployment.Status.FAILED,
        error_message="boom",
    )
    listed = user_client.get("/api/v1/deployments").json()
    assert listed["total"] == 2 and [d["revision"] for d in listed["deployments"]] == [2, 1]
    assert listed["deployments"][0]["error_message"] == "boom"
    assert listed["deployments"][0]["service_url"] is None
    failed = user_client.get("/api/v1/deployments?status=failed").json()
    assert failed["total"] == 1 and failed["deployments"][0]["status"] == "failed"
    page = user_client.get("/api/v1/deployments?skip=1&limit=1").json()
    assert page["skip"] == 1 and [d["revision"] for d in page["deployments"]] == [1]
    assert_error(user_client.get("/api/v1/deployments?status=sleeping"), 400, "VALIDATION_ERROR")
    assert_error(user_client.get("/api/v1/deployments?limit=0"), 400, "VALIDATION_ERROR")


def test_detail_shape(user_client, stopped):
    body = user_client.get(f"/api/v1/deployments/{stopped.pk}").json()
    assert set(body) >= {
        "id",
        "notebook_id",
        "build_id",
        "service_name",
        "revision",
        "status",
        "service_url",
        "deployed_at",
        "error_message",
        "cpu",
        "memory",
        "min_instances",
        "max_instances",
        "instances",
    }


def test_stopping_a_failed_deployment_is_409(user_client, stopped):
    Deployment.objects.filter(pk=stopped.pk).update(status=Deployment.Status.FAILED)
    assert_error(user_client.post(f"/api/v1/deployments/{stopped.pk}/stop"), 409, "CONFLICT")


def test_logs_query_is_validated(user_client, stopped):
    assert_error(user_client.get(f"/api/v1/deployments/{stopped.pk}/logs?lines=0"), 400, "VALIDATION_ERROR")
    body = user_client.get(f"/api/v1/deployments/{stopped.pk}/logs?lines=5").json()
    assert body["deployment_id"] == stopped.pk and body["logs"] == []


@pytest.mark.django_db(transaction=True)
def test_apps_on_their_own_origin(settings, user, build):
    from apps.deployments.services import deployments as services
    from apps.deployments.tests.support import asgi_http, run
    from config.asgi import application

    settings.APPS_PUBLIC_URL = "https://apps.example.com"
    deployment = services.deployment_create(owner=user, notebook=build.notebook, build=build)
    assert deployment.service_url == f"https://apps.example.com/apps/{deployment.service_name}/"

    async def scenario():
        beside_hangar = await asgi_http(application, "GET", "/apps/notebook-9-9/page", query="a=1")
        on_apps_host = await asgi_http(
            application, "GET", "/apps/notebook-9-9/page", headers=[("Host", "apps.example.com")]
        )
        return beside_hangar, on_apps_host

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "apps.example.com"]
    beside_hangar, on_apps_host = run(scenario)
    assert beside_hangar.status == 308
    assert beside_hangar.header("location") == "https://apps.example.com/apps/notebook-9-9/page?a=1"
    assert on_apps_host.status == 404 and on_apps_host.json()["error_code"] == "NOT_FOUND"
