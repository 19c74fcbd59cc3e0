"""002's WebSocket /ws with the in-memory fake backend: the message flow and tenancy."""

import asyncio
import json
import uuid

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from apps.accounts.tokens import tokens_for
from apps.activity.models import Activity
from apps.runtime.errors import RuntimeBackendError
from apps.workspaces import presence
from apps.workspaces.models import CodeSession, WorkloadState
from apps.workspaces.tests.conftest import BROWSER
from config.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def open_socket(user, query: str = "") -> WebsocketCommunicator:
    """A connected /ws socket of ``user``, past its connection_established message."""
    token = await sync_to_async(lambda: tokens_for(user).access)()
    socket = WebsocketCommunicator(application, f"/ws?token={token}{query}", headers=BROWSER)
    connected, code = await socket.connect()
    assert connected, code
    hello = await socket.receive_json_from()
    assert hello["type"] == "connection_established"
    return socket


async def close_code(socket: WebsocketCommunicator) -> int | None:
    """The code the server closed the socket with (it accepts first, then closes)."""
    message = await socket.receive_output(timeout=5)
    return message.get("code") if message["type"] == "websocket.close" else None


async def receive_until(socket: WebsocketCommunicator, kind: str, timeout: float = 5) -> list[dict]:
    """Every message up to and including the first of type ``kind``."""
    messages = []
    while True:
        message = await socket.receive_json_from(timeout=timeout)
        messages.append(message)
        if message["type"] == kind:
            return messages


async def test_connect_sends_connection_established(user):
    token = await sync_to_async(lambda: tokens_for(user).access)()
    socket = WebsocketCommunicator(application, f"/ws?token={token}", headers=BROWSER)
    assert (await socket.connect())[0]
    hello = await socket.receive_json_from()
    assert set(hello) == {"type", "message", "timestamp"}
    assert hello["message"] == "WebSocket connected successfully"
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from() == {"type": "pong"}
    await socket.disconnect()


@pytest.mark.parametrize("query", ["", "?token=garbage"])
async def test_anonymous_sockets_are_refused(query):
    socket = WebsocketCommunicator(application, f"/ws{query}", headers=BROWSER)
    await socket.connect()
    assert await close_code(socket) == 4401


async def test_a_user_id_naming_someone_else_is_refused_unless_admin(user, other_user, superuser):
    token = await sync_to_async(lambda: tokens_for(user).access)()
    socket = WebsocketCommunicator(application, f"/ws?token={token}&user_id={other_user.pk}", headers=BROWSER)
    await socket.connect()
    assert await close_code(socket) == 4403
    socket = WebsocketCommunicator(application, f"/ws?token={token}&user_id=abc", headers=BROWSER)
    await socket.connect()
    assert await close_code(socket) == 4400
    mine = await open_socket(user, f"&user_id={user.pk}")
    await mine.disconnect()
    admin = await open_socket(superuser, f"&user_id={other_user.pk}")
    await admin.disconnect()


async def test_first_terminal_input_starts_the_sandbox_with_progress_then_streams(user, session, fake_backend):
    socket = await open_socket(user)
    sid = str(session.id)
    await socket.send_json_to({"type": "terminal_input", "sessionId": sid, "input": "ls -la\n"})
    messages = await receive_until(socket, "terminal_output")
    progress = messages[0]
    assert progress["type"] == "terminal_output" and progress["sessionId"] == sid
    assert progress["output"] == "⏳ Initializing environment... (0s)" and "timestamp" in progress
    messages = await receive_until(socket, "pod_ready")
    assert [m["type"] for m in messages][-2:] == ["terminal_clear_progress", "pod_ready"]
    assert all(m["sessionId"] == sid and "timestamp" in m for m in messages)
    output = await socket.receive_json_from(timeout=5)
    assert output == {
        "type": "terminal_output",
        "sessionId": sid,
        "output": "echo:ls -la\n",
        "timestamp": output["timestamp"],
    }
    (pty,) = fake_backend.ptys
    assert pty.session == sid and pty.workload_id == session.workload_id
    # Later input goes to the same terminal without starting anything.
    await socket.send_json_to({"type": "terminal_input", "sessionId": sid, "input": "pwd\n"})
    assert (await socket.receive_json_from(timeout=5))["output"] == "echo:pwd\n"
    assert len(fake_backend.starts) == 1 and len(fake_backend.ptys) == 1
    session_row = await CodeSession.objects.aget(pk=session.pk)
    assert session_row.workload_state == WorkloadState.READY and session_row.last_activity_at is not None
    assert await Activity.objects.filter(action="session_started", user=user).acount() == 1
    assert await sync_to_async(presence.attached_sockets)(session.id) == 1
    await socket.disconnect()
    # Disconnecting detaches: the terminal is closed on our side, the sandbox keeps running.
    assert pty.closed and fake_backend.stops == []
    assert await sync_to_async(presence.attached_sockets)(session.id) == 0


async def test_slow_starts_report_progress_every_second(user, session, fake_backend):
    fake_backend.start_delay = 1.3
    socket = await open_socket(user)
    await socket.send_json_to({"type": "terminal_input", "sessionId": str(session.id), "input": "x"})
    messages = await receive_until(socket, "pod_ready")
    outputs = [m["output"] for m in messages if m["type"] == "terminal_output"]
    assert outputs[:2] == ["⏳ Initializing environment... (0s)", "⏳ Initializing environment... (1s)"]
    await socket.disconnect()


async def test_a_reconnect_reopens_the_same_named_terminal(user, session, fake_backend):
    first = await open_socket(user)
    sid = str(session.id)
    await first.send_json_to({"type": "terminal_input", "sessionId": sid, "input": "a"})
    await receive_until(first, "pod_ready")
    await first.disconnect()
    second = await open_socket(user)
    await second.send_json_to({"type": "terminal_input", "sessionId": sid, "input": "b"})
    message = await second.receive_json_from(timeout=5)
    assert message == {**message, "type": "terminal_output", "output": "echo:b"}
    assert [p.session for p in fake_backend.ptys] == [sid, sid] and len(fake_backend.starts) == 1
    await second.disconnect()


async def test_a_shell_that_exits_is_reopened_on_the_next_input(user, session, fake_backend):
    socket = await open_socket(user)
    sid = str(session.id)
    await socket.send_json_to({"type": "terminal_input", "sessionId": sid, "input": "a"})
    await receive_until(socket, "pod_ready")
    await socket.receive_json_from(timeout=5)
    fake_backend.ptys[0].exit()
    notice = await socket.receive_json_from(timeout=5)
    assert notice["type"] == "terminal_output" and "exited" in notice["output"]
    await socket.send_json_to({"type": "terminal_input", "sessionId": sid, "input": "b"})
    assert (await socket.receive_json_from(timeout=5))["output"] == "echo:b"
    assert len(fake_backend.ptys) == 2
    await socket.disconnect()


async def test_two_sessions_on_one_socket_have_their_own_terminals(user, fake_backend):
    from apps.workspaces import services

    one = await sync_to_async(services.session_create)(owner=user, name="one")
    two = await sync_to_async(services.session_create)(owner=user, name="two")
    socket = await open_socket(user)
    for session in (one, two):
        await socket.send_json_to({"type": "terminal_input", "sessionId": str(session.id), "input": session.name})
        await receive_until(socket, "pod_ready")
        output = await socket.receive_json_from(timeout=5)
        assert output["sessionId"] == str(session.id) and output["output"] == f"echo:{session.name}"
    assert {p.workload_id for p in fake_backend.ptys} == {one.workload_id, two.workload_id}
    await socket.disconnect()


async def test_a_failed_start_answers_an_error_with_the_users_message(user, session, fake_backend):
    fake_backend.fail_start = RuntimeBackendError("No room for another sandbox", detail="secret host detail")
    socket = await open_socket(user)
    await socket.send_json_to({"type": "terminal_input", "sessionId": str(session.id), "input": "x"})
    messages = await receive_until(socket, "error")
    assert [m["type"] for m in messages][-2:] == ["terminal_clear_progress", "error"]
    assert messages[-1]["detail"] == "No room for another sandbox"
    assert "secret" not in json.dumps(messages)
    await socket.disconnect()


async def test_terminal_resize_applies_to_the_open_terminal(user, session, fake_backend):
    socket = await open_socket(user)
    sid = str(session.id)
    await socket.send_json_to({"type": "terminal_resize", "sessionId": sid, "cols": 120, "rows": 40})
    await socket.send_json_to({"type": "terminal_input", "sessionId": sid, "input": "a"})
    await receive_until(socket, "pod_ready")
    assert fake_backend.ptys[0].size == (120, 40)
    await socket.send_json_to({"type": "terminal_resize", "sessionId": sid, "cols": 100, "rows": 30})
    await socket.send_json_to({"type": "terminal_resize", "sessionId": sid, "cols": 0, "rows": "x"})
    messages = await receive_until(socket, "error")
    assert messages[-1]["error_code"] == "BAD_REQUEST"
    assert fake_backend.ptys[0].size == (100, 30)
    await socket.disconnect()


async def test_touch_rm_and_sync_files(user, session):
    socket = await open_socket(user)
    sid = str(session.id)
    root = session.workspace_path
    await socket.send_json_to({"type": "touch", "sessionId": sid, "filename": "pkg/test.py"})
    assert await socket.receive_json_from() == {
        "type": "touch_response",
        "sessionId": sid,
        "success": True,
        "filename": "pkg/test.py",
        "message": "File 'pkg/test.py' created successfully",
    }
    assert (root / "pkg" / "test.py").read_text() == ""
    await socket.send_json_to({"type": "rm", "sessionId": sid, "filename": "pkg/test.py"})
    assert await socket.receive_json_from() == {
        "type": "rm_response",
        "sessionId": sid,
        "success": True,
        "filename": "pkg/test.py",
        "message": "File 'pkg/test.py' removed successfully",
    }
    assert not (root / "pkg" / "test.py").exists()
    await socket.send_json_to({"type": "rm", "sessionId": sid, "filename": "pkg/test.py"})
    failed = await socket.receive_json_from()
    assert failed["type"] == "rm_response" and failed["success"] is False and "not found" in failed["message"]
    await socket.send_json_to({"type": "sync_files", "sessionId": sid})
    synced = await socket.receive_json_from()
    assert synced["type"] == "sync_response" and synced["success"] is True and synced["sessionId"] == sid
    assert "mounted" in synced["message"]
    await socket.disconnect()


@pytest.mark.parametrize("kind", ["touch", "rm"])
@pytest.mark.parametrize("filename", ["../escape.py", "/etc/passwd", "", None, 7])
async def test_file_messages_refuse_escapes_and_bad_names(user, session, runtime_root, kind, filename):
    socket = await open_socket(user)
    await socket.send_json_to({"type": kind, "sessionId": str(session.id), "filename": filename})
    reply = await socket.receive_json_from()
    assert reply["type"] == f"{kind}_response" and reply["success"] is False and reply["message"]
    assert not (runtime_root / "workspaces" / "session" / "escape.py").exists()
    await socket.disconnect()


@pytest.mark.parametrize(
    "message",
    [
        {"type": "terminal_input", "input": "id\n"},
        {"type": "touch", "filename": "pwned.py"},
        {"type": "rm", "filename": "script.py"},
        {"type": "sync_files"},
        {"type": "terminal_resize", "cols": 80, "rows": 24},
    ],
)
async def test_another_users_or_an_unknown_session_gets_one_error_and_nothing_else(
    user, other_session, fake_backend, message
):
    socket = await open_socket(user)
    answers = []
    for session_id in (str(other_session.id), str(uuid.uuid4()), "not-a-uuid", None):
        await socket.send_json_to({**message, "sessionId": session_id})
        answer = await socket.receive_json_from()
        assert await socket.receive_nothing(timeout=0.2)
        assert answer["type"] == "error" and answer["error_code"] == "NOT_FOUND"
        answers.append({k: v for k, v in answer.items() if k != "sessionId"})
    # A foreign session is answered exactly like one that does not exist.
    assert answers[0] == answers[1] == answers[2] == answers[3]
    assert fake_backend.starts == [] and fake_backend.ptys == []
    assert sorted(p.name for p in other_session.workspace_path.iterdir()) == ["script.py"]
    await socket.disconnect()


async def test_bad_frames_and_unknown_types_answer_errors_and_keep_the_socket(user, session):
    socket = await open_socket(user)
    await socket.send_to(text_data="{not json")
    assert (await socket.receive_json_from())["error_code"] == "MALFORMED_JSON"
    await socket.send_to(bytes_data=b"\x00\x01")
    assert (await socket.receive_json_from())["type"] == "error"
    await socket.send_json_to(["a", "list"])
    assert (await socket.receive_json_from())["type"] == "error"
    await socket.send_json_to({"type": ["terminal_input"], "sessionId": str(session.id)})
    assert (await socket.receive_json_from())["type"] == "error"
    await socket.send_json_to({"type": "launch_missiles", "sessionId": str(session.id)})
    unknown = await socket.receive_json_from()
    assert unknown["type"] == "error" and unknown["error_code"] == "BAD_REQUEST"
    await socket.send_json_to({"type": "terminal_input", "sessionId": str(session.id), "input": 5})
    assert (await socket.receive_json_from())["type"] == "error"
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from() == {"type": "pong"}
    await socket.disconnect()


async def test_an_admin_naming_the_owner_may_use_their_session(superuser, user, session, fake_backend):
    socket = await open_socket(superuser, f"&user_id={user.pk}")
    await socket.send_json_to({"type": "sync_files", "sessionId": str(session.id)})
    assert (await socket.receive_json_from())["type"] == "sync_response"
    await socket.disconnect()


async def test_shutdown_ends_the_attached_terminal(user, session, fake_backend, user_client):
    socket = await open_socket(user)
    sid = str(session.id)
    await socket.send_json_to({"type": "terminal_input", "sessionId": sid, "input": "a"})
    await receive_until(socket, "pod_ready")
    await socket.receive_json_from(timeout=5)
    response = await sync_to_async(user_client.post)(f"/workspace/{sid}/shutdown")
    body = response.json()
    assert body["message"] == f"Workspace {sid} shutdown completed" and body["container_cleaned"] is True
    assert isinstance(body["active_connections"], int)
    notice = await socket.receive_json_from(timeout=5)
    assert "exited" in notice["output"]
    await asyncio.sleep(0.05)
    assert await sync_to_async(presence.attached_sockets)(session.id) == 0
    # Typing again starts a fresh sandbox.
    await socket.send_json_to({"type": "terminal_input", "sessionId": sid, "input": "b"})
    await receive_until(socket, "pod_ready")
    assert len(fake_backend.starts) == 2
    await socket.disconnect()
