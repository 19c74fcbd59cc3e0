"""The terminal and logs sockets over real WebSockets (WebsocketCommunicator), with the in-memory
backend; test_real_backend.py drives a real shell."""

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from apps.accounts.tokens import tokens_for
from apps.environments import tasks
from apps.environments.models import Environment
from apps.environments.tests.factories import EnvironmentFactory
from config.asgi import application

BROWSER = [(b"host", b"localhost"), (b"origin", b"http://localhost")]
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def token_for(user) -> str:
    return await sync_to_async(lambda: tokens_for(user).access)()


async def open_socket(path: str, user=None, query: str = "") -> tuple[WebsocketCommunicator, bool, int | None]:
    params = [f"token={await token_for(user)}"] if user is not None else []
    if query:
        params.append(query)
    socket = WebsocketCommunicator(application, f"{path}?{'&'.join(params)}", headers=BROWSER)
    connected, code = await socket.connect()
    return socket, connected, code


async def close_code(path: str, user=None, query: str = "") -> int | None:
    """The code a refused socket is closed with (the server accepts first, then closes)."""
    socket, connected, code = await open_socket(path, user, query)
    if not connected:
        return code
    message = await socket.receive_output(timeout=5)
    # Nothing about the environment is sent before the close.
    assert message["type"] == "websocket.close", message
    return message.get("code")


async def receive_until(socket: WebsocketCommunicator, predicate, timeout: float = 5) -> list[dict]:
    """Messages up to and including the first that satisfies ``predicate``."""
    seen = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        message = await socket.receive_json_from(timeout=max(deadline - loop.time(), 0.01))
        seen.append(message)
        if predicate(message):
            return seen


async def test_terminal_input_output_resize_and_errors(user, running_env, backend):
    socket, connected, _ = await open_socket(f"/api/v1/ws/terminal/{running_env.id}", user)
    assert connected
    await socket.send_json_to({"type": "input", "data": "ls\n"})
    assert await socket.receive_json_from(timeout=5) == {"type": "output", "data": "echo:ls\n"}
    await socket.send_json_to({"type": "resize", "cols": 120, "rows": 40})
    assert (await socket.receive_json_from(timeout=5))["data"] == "[resized 120x40]"
    assert backend.ptys[-1].sizes == [(120, 40)]
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from() == {"type": "pong"}
    for bad in (
        {"type": "launch"},
        {"type": "input", "data": 5},
        {"type": "resize", "cols": 0, "rows": 10},
        {"type": "resize", "cols": "80", "rows": 10},
        {"no": "type"},
    ):
        await socket.send_json_to(bad)
        reply = await socket.receive_json_from()
        assert reply["type"] == "error" and reply["error_code"] == "BAD_REQUEST"
    await socket.send_to(text_data="{not json")
    assert (await socket.receive_json_from())["error_code"] == "MALFORMED_JSON"
    await socket.send_to(text_data="[1, 2]")
    assert (await socket.receive_json_from())["type"] == "error"
    await socket.send_to(bytes_data=b"\x00")
    assert (await socket.receive_json_from())["type"] == "error"
    # Still alive after all that.
    await socket.send_json_to({"type": "input", "data": "pwd\n"})
    assert (await socket.receive_json_from(timeout=5))["data"] == "echo:pwd\n"
    await socket.disconnect()
    assert backend.closed_ptys == [(running_env.id, "main")]


async def test_terminal_reconnect_replays_the_session(user, running_env, backend):
    socket, _, _ = await open_socket(f"/api/v1/ws/terminal/{running_env.id}", user, "session=work")
    await socket.send_json_to({"type": "input", "data": "remember me\n"})
    assert (await socket.receive_json_from(timeout=5))["data"] == "echo:remember me\n"
    await socket.disconnect()
    again, connected, _ = await open_socket(f"/api/v1/ws/terminal/{running_env.id}", user, "session=work")
    assert connected
    assert (await again.receive_json_from(timeout=5))["data"] == "echo:remember me\n"
    await again.disconnect()


async def test_terminal_exit_closes_the_socket(user, running_env):
    socket, _, _ = await open_socket(f"/api/v1/ws/terminal/{running_env.id}", user)
    await socket.send_json_to({"type": "input", "data": "exit\n"})
    assert (await socket.receive_json_from(timeout=5)) == {"type": "exit", "exit_status": 0}
    assert (await socket.receive_output(timeout=5))["type"] == "websocket.close"


async def test_terminal_input_counts_as_activity(user, running_env):
    past = timezone.now() - timedelta(hours=1)
    await sync_to_async(Environment.objects.filter(pk=running_env.pk).update)(last_activity=past)
    socket, _, _ = await open_socket(f"/api/v1/ws/terminal/{running_env.id}", user)
    await socket.send_json_to({"type": "input", "data": "x"})
    await socket.receive_json_from(timeout=5)
    await socket.disconnect()
    refreshed = await sync_to_async(Environment.objects.get)(pk=running_env.pk)
    assert refreshed.last_activity > past


@pytest.mark.parametrize("path", ["terminal", "logs"])
async def test_sockets_refuse_other_users_unknown_ids_and_anonymous(user, other_user, running_env, path):
    for who, environment_id, expected in [
        (other_user, running_env.id, 4404),
        (user, "env-" + "0" * 32, 4404),
        (user, "nonsense", 4404),
        (None, running_env.id, 4401),
    ]:
        assert await close_code(f"/api/v1/ws/{path}/{environment_id}", who) == expected, (who, environment_id)


async def test_terminal_needs_a_running_environment_and_a_sane_session(user, python_template):
    stopped = await sync_to_async(EnvironmentFactory)(owner=user, template=python_template, status="stopped")
    assert await close_code(f"/api/v1/ws/terminal/{stopped.id}", user) == 4409


async def test_terminal_rejects_a_bad_session_name(user, running_env):
    assert await close_code(f"/api/v1/ws/terminal/{running_env.id}", user, "session=../x") == 4400


async def test_logs_replay_the_installation_then_follow(user, running_env):
    socket, connected, _ = await open_socket(f"/api/v1/ws/logs/{running_env.id}", user)
    assert connected
    messages = await receive_until(socket, lambda m: m["type"] == "log")
    assert messages[0]["type"] == "installation_status"
    assert messages[0]["status"] == "running"
    assert messages[0]["installation_completed"] is True
    logs = [m["message"] for m in messages if m["type"] == "installation_log"]
    assert logs == ["$ python3 --version", "ok: python3 --version", "Installation completed"]
    assert any(m["type"] == "installation_complete" for m in messages)
    assert messages[-1]["message"] == "sandbox started"
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from() == {"type": "pong"}
    await socket.send_json_to({"type": "subscribe"})
    assert (await socket.receive_json_from())["type"] == "error"
    await socket.send_to(text_data="nope")
    assert (await socket.receive_json_from())["error_code"] == "MALFORMED_JSON"
    await socket.disconnect()


async def test_logs_stream_a_live_installation(user, python_template):
    environment = await sync_to_async(EnvironmentFactory)(owner=user, template=python_template, status="creating")
    socket, connected, _ = await open_socket(f"/api/v1/ws/logs/{environment.id}", user)
    assert connected
    first = await socket.receive_json_from(timeout=5)
    assert first["type"] == "installation_status" and first["status"] == "creating"
    await sync_to_async(tasks.provision_environment)(environment.id)
    messages = await receive_until(socket, lambda m: m["type"] == "log")
    types = [m["type"] for m in messages]
    assert {"installation_status", "installation_log", "installation_complete"} <= set(types)
    assert types.index("installation_complete") < types.index("log")
    statuses = [m.get("status") for m in messages if m["type"] == "installation_status"]
    assert statuses[0] == "installing" and statuses[-1] == "running"
    await socket.disconnect()


async def test_logs_report_an_installation_error(user, python_template, backend):
    backend.exec_results["python3 --version"] = (1, "boom\n")
    environment = await sync_to_async(EnvironmentFactory)(owner=user, template=python_template, status="creating")
    socket, _, _ = await open_socket(f"/api/v1/ws/logs/{environment.id}", user)
    await socket.receive_json_from(timeout=5)
    await sync_to_async(tasks.provision_environment)(environment.id)
    messages = await receive_until(socket, lambda m: m["type"] == "installation_error")
    assert "exited with 1" in messages[-1]["message"]
    assert "boom" in [m.get("message") for m in messages]
    await socket.disconnect()
    # A later connection replays the error.
    again, _, _ = await open_socket(f"/api/v1/ws/logs/{environment.id}", user)
    replay = await receive_until(again, lambda m: m["type"] == "installation_error")
    assert replay[0]["status"] == "error"
    await again.disconnect()
