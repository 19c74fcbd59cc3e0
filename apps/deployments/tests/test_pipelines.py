"""The one-click pipeline's API: input checks, status, history, tenancy, reconciliation, idempotent
steps and the progress socket. The full run on real builds and sandboxes is in
test_pipelines_end_to_end.py."""

import copy
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.accounts.tokens import tokens_for
from apps.activity.models import Activity
from apps.deployments import tasks_pipelines
from apps.deployments.models import Pipeline
from apps.deployments.services.pipelines import pipeline_fail, pipeline_run_step, pipeline_start, pipelines_reconcile
from apps.deployments.tests.pipeline_support import (  # noqa: F401
    make_notebook,
    media_root,
    notebook_json,
)
from config.asgi import application

pytestmark = pytest.mark.django_db

STATUS_FIELDS = {
    "pipeline_id",
    "notebook_id",
    "build_id",
    "deployment_id",
    "current_step",
    "status",
    "steps_completed",
    "error_message",
    "notebook_status",
    "build_status",
    "deployment_status",
    "service_url",
}
BROWSER = [(b"host", b"localhost"), (b"origin", b"http://localhost")]
HISTORY_FIELDS = {
    "notebook_id",
    "notebook_name",
    "notebook_status",
    "build_id",
    "build_status",
    "deployment_id",
    "deployment_status",
    "service_url",
    "created_at",
}


def _upload(name: str = "app.ipynb", content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content if content is not None else notebook_json(), "application/x-ipynb+json")


def _started(owner, **kwargs) -> Pipeline:
    """A pipeline started through the service; its first step is queued but not run."""
    return pipeline_start(owner=owner, notebook=make_notebook(owner), **kwargs)


# --- POST /api/v1/pipeline/deploy ------------------------------------------------------------------


def test_deploy_answers_the_documented_body_and_queues_the_first_step(
    user_client, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = user_client.post("/api/v1/pipeline/deploy", {"file": _upload()}, format="multipart")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert set(body) == {"pipeline_id", "notebook_id", "status", "message"}
    assert body["status"] == "processing"
    assert body["pipeline_id"].startswith(f"pipeline-{body['notebook_id']}-")
    assert body["message"] == "Pipeline started. Use /pipeline/status/{pipeline_id} to track progress."
    pipeline = Pipeline.objects.get(pipeline_id=body["pipeline_id"])
    assert pipeline.owner == user and pipeline.trigger == "upload"
    assert pipeline.options == {"cpu": "1", "memory": "512Mi", "min_instances": 0, "max_instances": 10}
    assert any(True for _ in callbacks)
    assert Activity.objects.filter(user=user, action="pipeline_started").exists()


def test_deploy_keeps_the_given_options(user_client, django_capture_on_commit_callbacks):
    form = {"file": _upload(), "cpu": "2", "memory": "1Gi", "min_instances": "1", "max_instances": "3"}
    with django_capture_on_commit_callbacks(execute=False):
        response = user_client.post("/api/v1/pipeline/deploy", form, format="multipart")
    assert response.status_code == 202
    options = Pipeline.objects.get().options
    assert options == {"cpu": "2", "memory": "1Gi", "min_instances": 1, "max_instances": 3}


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({}, "file"),
        ({"cpu": "lots"}, "cpu"),
        ({"cpu": "64"}, "cpu"),
        ({"memory": "a lot"}, "memory"),
        ({"min_instances": "5", "max_instances": "2"}, "min_instances"),
        ({"max_instances": "0"}, "max_instances"),
        ({"max_instances": "ten"}, "max_instances"),
    ],
)
def test_bad_deploy_input_is_400_before_anything_starts(user_client, form, field):
    if field != "file":
        form = {"file": _upload(), **form}
    response = user_client.post("/api/v1/pipeline/deploy", form, format="multipart")
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["error_code"] == "VALIDATION_ERROR"
    assert field in body["detail"] or field in body.get("errors", {})
    assert not Pipeline.objects.exists()


def test_a_file_that_is_not_a_notebook_is_refused_before_any_pipeline(user_client):
    response = user_client.post("/api/v1/pipeline/deploy", {"file": _upload("app.py", b"print(1)")}, format="multipart")
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_NOTEBOOK"
    assert not Pipeline.objects.exists()


def test_a_notebook_over_the_tiers_cap_is_413_before_any_pipeline(user_client, settings):
    tiers = copy.deepcopy(settings.HANGAR_TIERS)
    for limits in tiers.values():
        limits["max_notebook_bytes"] = 100
    settings.HANGAR_TIERS = tiers
    response = user_client.post("/api/v1/pipeline/deploy", {"file": _upload()}, format="multipart")
    assert response.status_code == 413
    assert response.json()["error_code"] == "PAYLOAD_TOO_LARGE"
    assert not Pipeline.objects.exists()


def test_deploy_refuses_json_and_anonymous(user_client, api_client):
    assert user_client.post("/api/v1/pipeline/deploy", {"cpu": "1"}, format="json").status_code == 415
    assert api_client.post("/api/v1/pipeline/deploy", {"file": _upload()}, format="multipart").status_code == 401


def test_an_unparseable_notebook_fails_the_pipeline_at_parse(user_client, django_capture_on_commit_callbacks):
    """The steps run (Celery is eager and the commit callbacks execute): parsing fails and says so."""
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(
            "/api/v1/pipeline/deploy", {"file": _upload(content=b"{ not a notebook")}, format="multipart"
        )
    assert response.status_code == 202
    status = user_client.get(f"/api/v1/pipeline/status/{response.json()['pipeline_id']}").json()
    assert status["status"] == "failed"
    assert status["current_step"] == "parse"
    assert status["steps_completed"] == []
    assert status["error_message"].startswith("parse failed: ")
    assert status["notebook_status"] == "failed"
    assert status["build_id"] is None and status["build_status"] is None
    pipeline = Pipeline.objects.get()
    assert pipeline.finished_at is not None
    assert Activity.objects.filter(action="pipeline_failed", status=Activity.Status.FAILURE).exists()


# --- Status and history ---------------------------------------------------------------------------


def test_status_has_every_documented_field(user_client, user):
    pipeline = _started(user)
    response = user_client.get(f"/api/v1/pipeline/status/{pipeline.pipeline_id}")
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= STATUS_FIELDS
    assert body["status"] == "processing" and body["current_step"] == "parse"
    assert body["error_message"] is None and body["service_url"] is None
    assert body["notebook_status"] == "uploaded"


def test_status_of_another_users_or_an_unknown_pipeline_is_404(other_client, user_client, user):
    pipeline = _started(user)
    for client, pipeline_id in ((other_client, pipeline.pipeline_id), (user_client, "pipeline-0-0")):
        response = client.get(f"/api/v1/pipeline/status/{pipeline_id}")
        assert response.status_code == 404
        assert response.json()["error_code"] == "NOT_FOUND"


def test_history_pages_the_callers_pipelines_newest_first(user_client, other_client, user, other_user):
    mine = [_started(user) for _ in range(3)]
    _started(other_user)
    body = user_client.get("/api/v1/pipeline/history?skip=0&limit=2").json()
    assert body["total"] == 3
    assert [item["pipeline_id"] for item in body["pipelines"]] == [mine[2].pipeline_id, mine[1].pipeline_id]
    assert set(body["pipelines"][0]) >= HISTORY_FIELDS
    assert body["pipelines"][0]["notebook_name"] == "app"
    rest = user_client.get("/api/v1/pipeline/history", {"skip": 2}).json()
    assert [item["pipeline_id"] for item in rest["pipelines"]] == [mine[0].pipeline_id]
    theirs = other_client.get("/api/v1/pipeline/history").json()
    assert theirs["total"] == 1
    assert all(item["pipeline_id"] not in {p.pipeline_id for p in mine} for item in theirs["pipelines"])


@pytest.mark.parametrize("query", ["skip=-1", "skip=x", "limit=0", "limit=101", "limit=abc"])
def test_history_bad_paging_is_400(user_client, query):
    response = user_client.get(f"/api/v1/pipeline/history?{query}")
    assert response.status_code == 400
    assert response.json()["error_code"] == "VALIDATION_ERROR"


def test_history_and_status_need_a_token(api_client):
    assert api_client.get("/api/v1/pipeline/history").status_code == 401
    assert api_client.get("/api/v1/pipeline/status/pipeline-1-1").status_code == 401


# --- Steps, supersession and reconciliation -------------------------------------------------------


def test_a_step_out_of_turn_or_delivered_again_does_nothing(user):
    pipeline = _started(user)
    assert pipeline_run_step(pipeline_pk=pipeline.pk, step="build") is None
    Pipeline.objects.filter(pk=pipeline.pk).update(steps_completed=["parse"], current_step="dependencies")
    assert pipeline_run_step(pipeline_pk=pipeline.pk, step="parse") is None
    pipeline.refresh_from_db()
    assert pipeline.steps_completed == ["parse"] and pipeline.status == "processing"


def test_a_new_pipeline_of_the_same_notebook_supersedes_the_running_one(user):
    first = _started(user)
    second = pipeline_start(owner=user, notebook=first.notebook, trigger="webhook")
    first.refresh_from_db()
    assert first.status == "failed" and "superseded" in first.error_message
    assert second.status == "processing"
    assert second.pipeline_id != first.pipeline_id
    assert second.pipeline_id.startswith(f"pipeline-{first.notebook_id}-")
    # The superseded pipeline's queued step finds it failed and does nothing.
    assert pipeline_run_step(pipeline_pk=first.pk, step="parse") is None


def test_reconcile_fails_a_pipeline_stuck_past_its_steps_timeout(user, settings):
    settings.PIPELINE_STEP_TIMEOUTS = {**settings.PIPELINE_STEP_TIMEOUTS, "build": 100}
    settings.PIPELINE_RECONCILE_GRACE_SECONDS = 10
    stuck, fresh, done = _started(user), _started(user), _started(user)
    long_ago = timezone.now() - timedelta(seconds=200)
    Pipeline.objects.filter(pk=stuck.pk).update(current_step="build", step_started_at=long_ago)
    Pipeline.objects.filter(pk=fresh.pk).update(current_step="build", step_started_at=timezone.now())
    Pipeline.objects.filter(pk=done.pk).update(status="deployed", current_step="deploy", step_started_at=long_ago)
    assert tasks_pipelines.reconcile_pipelines.delay().get() == [stuck.pipeline_id]
    stuck.refresh_from_db()
    assert stuck.status == "failed"
    assert stuck.error_message == "build failed: timed out (no progress for 100 s)"
    fresh.refresh_from_db()
    done.refresh_from_db()
    assert fresh.status == "processing" and done.status == "deployed"
    assert Activity.objects.filter(user=user, action="pipeline_failed").count() == 1
    assert pipelines_reconcile() == []


def test_the_reconcile_task_is_scheduled_by_beat(settings):
    entries = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    assert "apps.deployments.tasks_pipelines.reconcile_pipelines" in entries


def test_each_step_is_queued_with_its_own_time_limits(user, monkeypatch, django_capture_on_commit_callbacks):
    queued = []
    monkeypatch.setattr(
        tasks_pipelines.run_pipeline_step, "apply_async", lambda **kwargs: queued.append(kwargs)
    )  # the broker boundary: record what would be sent instead of running it
    with django_capture_on_commit_callbacks(execute=True):
        _started(user)
    assert queued[0]["args"][1] == "parse"
    assert queued[0]["soft_time_limit"] == 120 and queued[0]["time_limit"] == 150


# --- The progress socket --------------------------------------------------------------------------


async def _connect(token: str, pipeline_id: str) -> tuple[WebsocketCommunicator, bool]:
    communicator = WebsocketCommunicator(
        application, f"/api/v1/ws/pipelines/{pipeline_id}?token={token}", headers=BROWSER
    )
    connected, _ = await communicator.connect()
    return communicator, connected


@pytest.mark.django_db(transaction=True)
def test_the_owner_watches_progress_and_others_are_refused(user, other_user):
    # Made directly: here commits are real, and a started pipeline would run its steps.
    notebook = make_notebook(user)
    pipeline = Pipeline.objects.create(
        pipeline_id=f"pipeline-{notebook.pk}-1", owner=user, notebook=notebook, step_started_at=timezone.now()
    )

    mine_token, their_token = tokens_for(user).access, tokens_for(other_user).access

    async def scenario():
        mine, _ = await _connect(mine_token, pipeline.pipeline_id)
        first = await mine.receive_json_from(timeout=5)
        await async_to_sync_fail(pipeline.pk)
        update = await mine.receive_json_from(timeout=5)
        await mine.disconnect()
        theirs, _ = await _connect(their_token, pipeline.pipeline_id)
        refused = await theirs.receive_output(timeout=5)
        anonymous, _ = await _connect("", pipeline.pipeline_id)
        unauthenticated = await anonymous.receive_output(timeout=5)
        return first, update, refused, unauthenticated

    first, update, refused, unauthenticated = async_to_sync(scenario)()
    assert first["type"] == "pipeline_update"
    assert set(first) >= STATUS_FIELDS and first["status"] == "processing"
    assert update["status"] == "failed" and update["error_message"] == "deploy failed: stopped by the test"
    assert refused == {"type": "websocket.close", "code": 4404}
    assert unauthenticated == {"type": "websocket.close", "code": 4401}


async def async_to_sync_fail(pipeline_pk: int) -> None:
    from channels.db import database_sync_to_async

    await database_sync_to_async(pipeline_fail)(pipeline_pk=pipeline_pk, reason="deploy failed: stopped by the test")
