"""/api/v1/metrics/*: numbers computed by the database over builds and deployments made directly."""

from datetime import timedelta
from itertools import count

import pytest
from django.utils import timezone

from apps.builds.models import Build
from apps.deployments.models import Deployment
from apps.deployments.tests.pipeline_support import make_notebook, media_root  # noqa: F401

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    "/api/v1/metrics/builds",
    "/api/v1/metrics/deployments",
    "/api/v1/metrics/activity",
    "/api/v1/metrics/timeseries/builds",
    "/api/v1/metrics/timeseries/deployments",
]
_ids = count(1)


def _build(notebook, status, *, seconds=None, age_days=0):
    now = timezone.now()
    build = Build.objects.create(
        owner=notebook.owner,
        notebook=notebook,
        build_id=f"build-{notebook.pk}-{next(_ids)}",
        status=status,
        started_at=now - timedelta(seconds=seconds) if seconds is not None else None,
        finished_at=now if seconds is not None else None,
    )
    if age_days:
        Build.objects.filter(pk=build.pk).update(created_at=now - timedelta(days=age_days))
    return build


def _deployment(build, status, *, served=False, age_days=0):
    now = timezone.now()
    deployment = Deployment.objects.create(
        owner=build.owner,
        notebook=build.notebook,
        build=build,
        service_name=f"notebook-{build.notebook_id}",
        revision=next(_ids),
        status=status,
        deployed_at=now if served else None,
        service_url=f"http://testserver/apps/notebook-{build.notebook_id}/" if served else "",
    )
    if age_days:
        Deployment.objects.filter(pk=deployment.pk).update(created_at=now - timedelta(days=age_days))
    return deployment


@pytest.fixture
def history(user, other_user):
    """For ``user``: 4 builds and 4 deployments this month, one build 40 days old; 2 builds of
    ``other_user``."""
    notebook = make_notebook(user)
    good = _build(notebook, Build.Status.SUCCESS, seconds=10)
    _build(notebook, Build.Status.SUCCESS, seconds=20)
    _build(notebook, Build.Status.FAILED, seconds=30)
    _build(notebook, Build.Status.QUEUED)
    _build(notebook, Build.Status.SUCCESS, seconds=500, age_days=40)
    _deployment(good, Deployment.Status.DEPLOYED, served=True)
    _deployment(good, Deployment.Status.STOPPED, served=True)
    _deployment(good, Deployment.Status.FAILED)
    _deployment(good, Deployment.Status.DEPLOYING)
    theirs = make_notebook(other_user, name="theirs")
    _build(theirs, Build.Status.FAILED, seconds=100)
    _build(theirs, Build.Status.FAILED, seconds=100)
    return notebook


def test_build_metrics(user_client, history):
    body = user_client.get("/api/v1/metrics/builds?days=30").json()
    assert body == {
        "total_builds": 4,
        "successful_builds": 2,
        "failed_builds": 1,
        "success_rate": 50.0,
        "average_build_time_seconds": 20.0,
        "builds_by_status": {"success": 2, "failed": 1, "queued": 1},
    }
    wider = user_client.get("/api/v1/metrics/builds?days=60").json()
    assert wider["total_builds"] == 5
    assert wider["average_build_time_seconds"] == 140.0  # (10 + 20 + 30 + 500) / 4


def test_deployment_metrics(user_client, history):
    body = user_client.get("/api/v1/metrics/deployments").json()
    assert body == {
        "total_deployments": 4,
        "successful_deployments": 2,
        "failed_deployments": 1,
        "active_deployments": 1,
        "success_rate": 50.0,
        "deployments_by_status": {"deployed": 1, "stopped": 1, "failed": 1, "deploying": 1},
    }


def test_activity_metrics(user_client, history):
    body = user_client.get("/api/v1/metrics/activity").json()
    assert body["total_notebooks"] == 1
    assert body["total_builds"] == 4
    assert body["total_deployments"] == 4
    recent = body["recent_activity"]
    assert len(recent) == 9
    assert {item["type"] for item in recent} == {"notebook", "build", "deployment"}
    stamps = [item["created_at"] for item in recent]
    assert stamps == sorted(stamps, reverse=True)
    deployed = next(item for item in recent if item["type"] == "deployment" and item["status"] == "deployed")
    assert deployed["notebook_id"] == history.pk
    assert deployed["service_url"].endswith(f"/apps/notebook-{history.pk}/")
    assert set(deployed) == {"type", "id", "status", "notebook_id", "service_url", "created_at"}


def test_timeseries(user_client, history):
    builds = user_client.get("/api/v1/metrics/timeseries/builds?days=7").json()
    assert builds["period_days"] == 7
    assert len(builds["data"]) == 7
    today = builds["data"][-1]
    assert today == {
        "date": timezone.localdate().isoformat(),
        "total": 4,
        "successful": 2,
        "failed": 1,
        "success_rate": 50.0,
    }
    assert all(day["total"] == 0 for day in builds["data"][:-1])
    wide = user_client.get("/api/v1/metrics/timeseries/builds?days=45").json()
    old_day = (timezone.localdate() - timedelta(days=40)).isoformat()
    assert next(day for day in wide["data"] if day["date"] == old_day)["successful"] == 1
    deployments = user_client.get("/api/v1/metrics/timeseries/deployments").json()
    assert len(deployments["data"]) == 30
    assert deployments["data"][-1]["total"] == 4
    assert deployments["data"][-1]["successful"] == 2
    assert deployments["data"][-1]["success_rate"] == 50.0


def test_empty_metrics_have_zero_rates(user_client):
    assert user_client.get("/api/v1/metrics/builds").json()["success_rate"] == 0.0
    assert user_client.get("/api/v1/metrics/builds").json()["average_build_time_seconds"] == 0.0
    assert user_client.get("/api/v1/metrics/deployments").json()["total_deployments"] == 0


def test_another_user_sees_only_their_own(other_client, history):
    builds = other_client.get("/api/v1/metrics/builds").json()
    assert builds["total_builds"] == 2 and builds["failed_builds"] == 2
    assert other_client.get("/api/v1/metrics/deployments").json()["total_deployments"] == 0
    activity = other_client.get("/api/v1/metrics/activity").json()
    assert all(item["notebook_id"] != history.pk for item in activity["recent_activity"])
    series = other_client.get("/api/v1/metrics/timeseries/deployments").json()
    assert sum(day["total"] for day in series["data"]) == 0


def test_admins_see_everyone(superuser_client, history):
    assert superuser_client.get("/api/v1/metrics/builds").json()["total_builds"] == 6
    assert superuser_client.get("/api/v1/metrics/activity").json()["total_notebooks"] == 2


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("days", ["0", "366", "-1", "abc", "1.5", "٣"])
def test_bad_days_is_400(user_client, endpoint, days):
    response = user_client.get(endpoint, {"days": days})
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "VALIDATION_ERROR"
    assert "days" in body["errors"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_anonymous_is_401(api_client, endpoint):
    assert api_client.get(endpoint).status_code == 401
