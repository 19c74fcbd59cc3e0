"""The one-click pipeline and the push webhook for real: H1's parser, the local builder (a venv
made in a bubblewrap sandbox), the local deployer (a sandbox behind Hangar's /apps/ proxy), Celery
eager with real commits, and a local bare git repository. No fakes in this module."""

import json
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.activity.models import Activity
from apps.core.tests import test_celery_modes as celery_modes
from apps.deployments.models import Deployment, Pipeline
from apps.deployments.tests import support
from apps.deployments.tests.pipeline_support import (
    BareRepo,
    github_signature,
    notebook_json,
)
from apps.deployments.tests.support import asgi_http, run
from apps.runtime.backends import sandbox
from config.asgi import application

# The deployment tests' fixtures (a short runtime root and the real local backend) and the Celery
# tests' embedded worker on the in-memory broker.
runtime_root, backend = support.runtime_root, support.backend
embedded, memory_broker = celery_modes.embedded, celery_modes.memory_broker

pytestmark = [
    pytest.mark.skipif(not sandbox.bubblewrap_available(), reason="bubblewrap is not installed"),
    pytest.mark.django_db(transaction=True),
]

SECRET = "e2e-webhook-secret"
PATH = "apps/report.ipynb"


@pytest.fixture(autouse=True)
def _build_roots(settings, runtime_root):
    settings.BUILDS_ROOT = runtime_root / "builds"
    settings.BUILD_CACHE_ROOT = runtime_root / "build-cache"
    settings.BUILD_BACKEND = "local"
    settings.MEDIA_ROOT = runtime_root / "media"


def _status(client, pipeline_id: str) -> dict:
    response = client.get(f"/api/v1/pipeline/status/{pipeline_id}")
    assert response.status_code == 200
    return response.json()


def _page(service_url: str) -> tuple[int, bytes]:
    path = "/" + service_url.split("/", 3)[3]
    answer = run(lambda: asgi_http(application, "GET", path))
    return answer.status, answer.body


def test_upload_deploys_then_a_push_redeploys_the_new_revision(user_client, user, backend, tmp_path):
    upload = SimpleUploadedFile("report.ipynb", notebook_json("print('first revision says hi')"))
    form = {"file": upload, "cpu": "0.5", "memory": "256Mi"}
    # Celery is eager and commits are real: the steps run before the response returns.
    response = user_client.post("/api/v1/pipeline/deploy", form, format="multipart")
    assert response.status_code == 202, response.json()
    started = response.json()
    status = _status(user_client, started["pipeline_id"])
    assert status["status"] == "deployed", status
    assert status["steps_completed"] == ["parse", "dependencies", "upload", "build", "deploy"]
    assert status["current_step"] == "deploy"
    assert status["error_message"] is None
    assert (status["notebook_status"], status["build_status"], status["deployment_status"]) == (
        "deployed",
        "success",
        "deployed",
    )
    deployment = Deployment.objects.get(pk=status["deployment_id"])
    assert (deployment.cpu, deployment.memory) == ("0.5", "256Mi")
    code, body = _page(status["service_url"])
    assert code == 200 and b"first revision says hi" in body
    actions = set(Activity.objects.filter(user=user).values_list("action", flat=True))
    assert {"pipeline_started", "pipeline_step_started", "pipeline_deployed"} <= actions

    # Link the notebook to a repository, push a new revision, and let GitHub's webhook redeploy it.
    repo = BareRepo(tmp_path / "git")
    repo.commit({PATH: notebook_json("print('first revision says hi')")})
    notebook_id = started["notebook_id"]
    link = {"repo_url": repo.url, "branch": "main", "path": PATH, "secret": SECRET}
    assert user_client.post(f"/api/v1/notebooks/{notebook_id}/repository", link, format="json").status_code == 201
    commit = repo.commit({PATH: notebook_json("print('second revision from git')")}, message="v2")
    payload = json.dumps(
        {"ref": "refs/heads/main", "after": commit, "repository": {"clone_url": repo.url, "html_url": repo.url}}
    ).encode()
    hook = user_client.generic(
        "POST",
        "/api/v1/webhooks/github",
        payload,
        content_type="application/json",
        HTTP_X_GITHUB_EVENT="push",
        HTTP_X_GITHUB_DELIVERY=str(uuid.uuid4()),
        HTTP_X_HUB_SIGNATURE_256=github_signature(SECRET, payload),
    )
    assert hook.status_code == 202, hook.json()
    redeploy = Pipeline.objects.filter(notebook_id=notebook_id, trigger="webhook").get()
    status = _status(user_client, redeploy.pipeline_id)
    assert status["status"] == "deployed", status
    assert status["deployment_id"] != deployment.pk
    code, body = _page(status["service_url"])
    assert code == 200 and b"second revision from git" in body
    history = user_client.get("/api/v1/pipeline/history").json()
    assert history["total"] == 2
    assert [item["pipeline_id"] for item in history["pipelines"]] == [redeploy.pipeline_id, started["pipeline_id"]]


def test_a_failing_build_names_the_build_step(user_client):
    source = "%pip install hangar-no-such-package-xyz==0.0.1\nprint('never')"
    upload = SimpleUploadedFile("broken.ipynb", notebook_json(source))
    response = user_client.post("/api/v1/pipeline/deploy", {"file": upload}, format="multipart")
    assert response.status_code == 202
    status = _status(user_client, response.json()["pipeline_id"])
    assert status["status"] == "failed", status
    assert status["current_step"] == "build"
    assert status["steps_completed"] == ["parse", "dependencies", "upload"]
    assert status["build_status"] == "failed"
    assert status["error_message"].startswith("build failed: ")
    assert "hangar-no-such-package-xyz" in status["error_message"]
    assert status["deployment_id"] is None and status["service_url"] is None


def test_the_steps_chain_through_a_real_worker(embedded, user_client):
    """Not eager: each step is a message on the embedded broker, run by the worker thread, and each
    queues the next one."""
    source = "%pip install hangar-no-such-package-xyz==0.0.1\nprint('never')"
    upload = SimpleUploadedFile("queued.ipynb", notebook_json(source))
    response = user_client.post("/api/v1/pipeline/deploy", {"file": upload}, format="multipart")
    assert response.status_code == 202
    pipeline_id = response.json()["pipeline_id"]

    def finished() -> bool:
        return Pipeline.objects.get(pipeline_id=pipeline_id).status != "processing"

    celery_modes.wait_until(finished, 240, "the pipeline to finish on the worker")
    status = _status(user_client, pipeline_id)
    assert status["status"] == "failed"
    assert status["steps_completed"] == ["parse", "dependencies", "upload"]
    assert status["error_message"].startswith("build failed: ")
