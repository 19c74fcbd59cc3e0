"""``/api/workflows/{job_id}/stream`` over real WebSockets (WebsocketCommunicator): the owner sees
node status, progress, log lines and the final results of a real run, then the socket closes;
anyone else is closed with 4404, anonymous sockets with 4401."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from apps.accounts.tokens import tokens_for
from apps.jobs.models import Job
from apps.jobs.services.execution import job_execute
from apps.jobs.services.jobs import job_cancel
from apps.jobs.tests.job_fixtures import graph, job_storage, make_dataset, plain_iris_frame
from config.asgi import application

__all__ = ["job_storage"]
BROWSER = [(b"host", b"localhost"), (b"origin", b"http://localhost")]
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio, pytest.mark.usefixtures("job_storage")]


@sync_to_async
def _submit(user) -> str:
    from conftest import bearer_client

    dataset = make_dataset(user, plain_iris_frame(), target="species", problem_type="classification", name="iris")
    body = graph(dataset, models=[("rf", "random_forest", {"n_estimators": 10})], plots=["confusion_matrix"])
    response = bearer_client(user).post("/api/workflows/execute", body, format="json")
    assert response.status_code == 202, response.json()
    return response.json()["job_id"]


async def _submit_held(user) -> str:
    """Submit without running: the queueing task is held back (not eager, and no worker consumes it)."""
    from config.celery import app

    app.conf.task_always_eager = False
    try:
        return await _submit(user)
    finally:
        app.conf.task_always_eager = True


async def _open(job_id: str, user=None) -> tuple[WebsocketCommunicator, bool]:
    query = f"?token={await sync_to_async(lambda: tokens_for(user).access)()}" if user is not None else ""
    socket = WebsocketCommunicator(application, f"/api/workflows/{job_id}/stream{query}", headers=BROWSER)
    connected, _ = await socket.connect()
    return socket, connected


async def _messages_until_finished(socket: WebsocketCommunicator, timeout: float = 120) -> list[dict]:
    seen = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        message = await socket.receive_json_from(timeout=max(deadline - loop.time(), 0.01))
        seen.append(message)
        if message["type"] == "job_finished":
            return seen


async def test_owner_follows_a_real_run_to_the_end(settings, user):
    settings.JOB_SUPERVISE_IN_THREAD = False
    job_id = await _submit(user)  # the eager task ran the job inline at commit: it is finished now
    socket, connected = await _open(job_id, user)
    assert connected
    state = await socket.receive_json_from(timeout=10)
    assert state["type"] == "job_finished" and state["status"] == "completed"
    assert state["results"]["leaderboard"][0]["node_id"] == "rf"
    assert (await socket.receive_output(timeout=5))["type"] == "websocket.close"


async def test_live_events_reach_the_owner_while_the_job_runs(user):
    job_id = await _submit_held(user)  # run below, once the socket is open
    socket, connected = await _open(job_id, user)
    assert connected
    first = await socket.receive_json_from(timeout=10)
    assert first["type"] == "job_status" and first["status"] == "queued"
    runner = asyncio.ensure_future(sync_to_async(job_execute, thread_sensitive=False)(job_id=job_id))
    messages = await _messages_until_finished(socket)
    assert await runner == "completed"
    types = {message["type"] for message in messages}
    assert {"job_status", "node_status", "progress", "log", "job_finished"} <= types
    running = [m for m in messages if m["type"] == "job_status"]
    assert running and running[0]["status"] == "running"
    node_updates = [(m["node_id"], m["status"]) for m in messages if m["type"] == "node_status"]
    assert ("rf", "running") in node_updates and ("rf", "completed") in node_updates
    assert node_updates.index(("rf", "running")) < node_updates.index(("rf", "completed"))
    assert any("Test metrics" in m["message"] for m in messages if m["type"] == "log")
    final = messages[-1]
    assert final["status"] == "completed" and final["results"]["models"][0]["metrics"]["accuracy"] > 0.8
    assert (await socket.receive_output(timeout=5))["type"] == "websocket.close"


async def test_cancel_is_streamed_and_closes_the_socket(user):
    job_id = await _submit_held(user)
    socket, connected = await _open(job_id, user)
    assert connected
    assert (await socket.receive_json_from(timeout=10))["status"] == "queued"
    job = await sync_to_async(Job.objects.get)(pk=job_id)
    await sync_to_async(job_cancel)(job=job)
    final = await socket.receive_json_from(timeout=10)
    assert final["type"] == "job_finished" and final["status"] == "cancelled"
    assert (await socket.receive_output(timeout=5))["type"] == "websocket.close"


async def test_other_users_and_anonymous_sockets_are_refused(user, other_user):
    job_id = await _submit_held(user)
    for who, code in ((other_user, 4404), (None, 4401)):
        socket, connected = await _open(job_id, who)
        if connected:
            message = await socket.receive_output(timeout=5)
            assert message["type"] == "websocket.close" and message["code"] == code
    socket, connected = await _open("not-a-job", user)
    assert (await socket.receive_output(timeout=5))["code"] == 4404
