"""Environments on the real local backend: bubblewrap sandboxes, a real shell over the WebSocket,
real installation output, metrics, reconciliation and OOM. No fakes in this module."""

import asyncio
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts.tests.factories import UserFactory
from apps.accounts.tokens import tokens_for
from apps.environments.models import Environment
from apps.environments.services import environments as services
from apps.environments.services.reconcile import environments_reconcile
from apps.environments.tests.factories import TemplateFactory
from apps.environments.tests.test_environments_v1 import assert_error
from apps.runtime import registry
from apps.runtime.backends import cgroups, sandbox
from apps.runtime.backends.local import LocalBackend
from apps.runtime.spec import Phase
from apps.runtime.workspaces import workspace_dir
from config.asgi import application

pytestmark = pytest.mark.skipif(not sandbox.bubblewrap_available(), reason="bubblewrap is not installed")
BROWSER = [(b"host", b"localhost"), (b"origin", b"http://localhost")]


@pytest.fixture(autouse=True)
def _runtime_root(settings):
    """A short root: the agent's unix socket path must fit in 108 bytes."""
    root = Path(tempfile.mkdtemp(prefix="hre-", dir="/tmp"))
    settings.RUNTIME_ROOT = str(root)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def backend(monkeypatch, _runtime_root):
    """The real local backend (overrides the fake one); every workload is stopped afterwards."""
    real = LocalBackend()
    monkeypatch.setattr(registry, "get_backend", lambda: real)
    yield real
    run_root = _runtime_root / "run"
    for run_dir in run_root.iterdir() if run_root.is_dir() else []:
        real.stop(run_dir.name)


def create_running(client, template) -> dict:
    response = client.post("/api/v1/environments", {"name": "real", "template_id": str(template.pk)}, format="json")
    assert response.status_code == 201, response.content
    body = client.get(f"/api/v1/environments/{response.json()['id']}").json()
    assert body["status"] == "running", body
    return body


async def read_terminal_until(socket: WebsocketCommunicator, needle: str, timeout: float = 10) -> str:
    output = ""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while needle not in output:
        message = await socket.receive_json_from(timeout=max(deadline - loop.time(), 0.01))
        assert message["type"] == "output", message
        output += message["data"]
    return output


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_create_then_terminal_shows_hello_42_and_reattaches(user, templates, backend):
    from rest_framework.test import APIClient

    token = await sync_to_async(lambda: tokens_for(user).access)()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    environment = await sync_to_async(create_running)(client, templates["python-3.11"])
    assert environment["installation_completed"] is True

    path = f"/api/v1/ws/terminal/{environment['id']}?token={token}&session=main"
    socket = WebsocketCommunicator(application, path, headers=BROWSER)
    connected, _ = await socket.connect()
    assert connected
    await socket.send_json_to({"type": "resize", "cols": 100, "rows": 30})
    await socket.send_json_to({"type": "input", "data": "echo hello-$((6*7))\n"})
    assert "hello-42" in await read_terminal_until(socket, "hello-42")
    await socket.send_json_to({"type": "input", "data": "export MARK=kept-$((2+3))\n"})
    await socket.disconnect()

    # The shell survived the dropped socket: same session, same shell variables, replayed output.
    again = WebsocketCommunicator(application, path, headers=BROWSER)
    assert (await again.connect())[0]
    replayed = await read_terminal_until(again, "hello-42")
    assert "hello-42" in replayed
    await again.send_json_to({"type": "input", "data": "echo $MARK\n"})
    assert "kept-5" in await read_terminal_until(again, "kept-5")
    await again.disconnect()

    # Another user cannot open it.
    other = await sync_to_async(UserFactory)()
    other_token = await sync_to_async(lambda: tokens_for(other).access)()
    stranger = WebsocketCommunicator(
        application, f"/api/v1/ws/terminal/{environment['id']}?token={other_token}", headers=BROWSER
    )
    await stranger.connect()
    assert (await stranger.receive_output(timeout=5)) == {"type": "websocket.close", "code": 4404}


@pytest.mark.django_db(transaction=True)
def test_installation_logs_metrics_stop_and_delete_for_real(user_client, templates, backend):
    environment = create_running(user_client, templates["python-3.11"])
    env_id = environment["id"]
    assert backend.status(env_id).phase == Phase.RUNNING
    assert env_id in backend.list_workloads()

    logs = user_client.get(f"/api/v1/environments/{env_id}/logs").json()
    messages = [entry["message"] for entry in logs["logs"]]
    assert "$ python3 --version" in messages
    assert any(message.startswith("Python 3.") for message in messages)

    metrics = user_client.get(f"/api/v1/environments/{env_id}/metrics").json()
    assert metrics["memory"]["limit_bytes"] == 1024**3
    assert metrics["memory"]["usage_bytes"] > 0
    assert metrics["processes"] >= 1

    began = time.monotonic()
    assert user_client.post(f"/api/v1/environments/{env_id}/stop").json()["status"] == "stopped"
    assert time.monotonic() - began < 2
    assert backend.status(env_id).phase == Phase.STOPPED
    assert env_id not in backend.list_workloads()
    assert cgroups.pids(env_id) == []
    assert_error(user_client.get(f"/api/v1/environments/{env_id}/metrics"), 409)

    assert user_client.post(f"/api/v1/environments/{env_id}/start").status_code == 200
    assert user_client.get(f"/api/v1/environments/{env_id}").json()["status"] == "running"
    workspace = workspace_dir("environment", env_id)
    assert user_client.delete(f"/api/v1/environments/{env_id}").status_code == 204
    assert env_id not in backend.list_workloads()
    assert not workspace.exists()


@pytest.mark.django_db(transaction=True)
def test_user_env_vars_and_files_reach_the_sandbox(user_client, user, templates, backend):
    user_client.post("/user-env-vars", {"key": "MY_SECRET", "value": "s3cr3t value"}, format="json")
    user_client.post("/user-files/upload", {"file": SimpleUploadedFile("data.csv", b"x,y\n1,2\n")}, format="multipart")
    environment = create_running(user_client, templates["python-3.11"])
    code, output = backend.exec(environment["id"], ["sh", "-c", 'echo "$MY_SECRET"; cat /workspace/files/data.csv'])
    assert code == 0
    assert output.splitlines() == ["s3cr3t value", "x,y", "1,2"]
    # A file written in the sandbox shows up in /user-files.
    backend.exec(environment["id"], ["sh", "-c", "echo made-inside > /workspace/files/inside.txt"])
    names = [f["filename"] for f in user_client.get("/user-files").json()["data"]["files"]]
    assert names == ["data.csv", "inside.txt"]


@pytest.mark.django_db
@pytest.mark.skipif(shutil.which("go") is not None, reason="this host has Go")
def test_a_template_the_host_cannot_provide_is_refused_at_create(user_client, templates, backend):
    response = user_client.post(
        "/api/v1/environments", {"name": "go", "template_id": str(templates["golang-1.21"].pk)}, format="json"
    )
    assert_error(response, 400, "IMAGE_UNAVAILABLE")
    assert Environment.objects.count() == 0
    assert backend.list_workloads() == []


@pytest.mark.django_db(transaction=True)
def test_reconcile_notices_a_vanished_workload_and_stops_orphans(user, templates, backend, make_running):
    vanished = make_running(user, templates["python-3.11"], name="vanished")
    orphaned = make_running(user, templates["python-3.11"], name="orphaned")
    # Behind the platform's back: one sandbox dies, the other's row says stopped while it runs.
    backend.stop(vanished.id)
    Environment.objects.filter(pk=orphaned.pk).update(status="stopped")
    report = environments_reconcile()
    vanished.refresh_from_db()
    assert vanished.status == "stopped" and vanished.stop_reason
    assert report.orphans_stopped == [orphaned.id]
    assert backend.list_workloads() == []
    assert cgroups.pids(orphaned.id) == []


@pytest.mark.django_db(transaction=True)
def test_reconcile_reports_oom_killed(user, backend, make_running):
    template = TemplateFactory(
        default_resources={"cpu": "500m", "memory": "64Mi", "storage": "1Gi"}, startup_commands=[]
    )
    environment = make_running(user, template)
    assert environment.status == "running"
    backend.exec(environment.id, ["python3", "-c", "x = bytearray(256 * 1024 * 1024)"], timeout=20)
    deadline = time.monotonic() + 10
    while True:
        environments_reconcile()
        environment.refresh_from_db()
        if environment.status != "running" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert environment.status == "error"
    assert environment.status_reason == "OOMKilled"
    assert backend.list_workloads() == []


@pytest.mark.django_db(transaction=True)
def test_max_uptime_stops_the_real_sandbox(user, templates, backend, make_running):
    from datetime import timedelta

    from django.utils import timezone

    environment = make_running(user, templates["python-3.11"])
    Environment.objects.filter(pk=environment.pk).update(started_at=timezone.now() - timedelta(hours=2))
    environments_reconcile()
    environment.refresh_from_db()
    assert (environment.status, environment.stop_reason) == ("stopped", "max_uptime_exceeded")
    assert backend.list_workloads() == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_logs_socket_replays_the_real_installation(user, templates, backend):
    environment = await sync_to_async(
        lambda: services.environment_create(owner=user, template=templates["python-3.11"], name="logs")
    )()
    refreshed = await sync_to_async(Environment.objects.get)(pk=environment.pk)
    assert refreshed.status == "running"
    token = await sync_to_async(lambda: tokens_for(user).access)()
    socket = WebsocketCommunicator(application, f"/api/v1/ws/logs/{environment.id}?token={token}", headers=BROWSER)
    assert (await socket.connect())[0]
    messages = []
    while not any(m["type"] == "installation_complete" for m in messages):
        messages.append(await socket.receive_json_from(timeout=5))
    assert messages[0]["type"] == "installation_status" and messages[0]["status"] == "running"
    assert any(m.get("message", "").startswith("Python 3.") for m in messages)
    await socket.disconnect()
