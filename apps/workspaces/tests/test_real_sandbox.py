"""The /ws terminal and the workspace routes on the real local backend: bubblewrap sandboxes."""

import shutil
import tempfile
import time
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async

from apps.runtime.backends.local import LocalBackend
from apps.runtime.spec import Phase
from apps.workspaces import services
from apps.workspaces.tests.test_socket import open_socket, receive_until

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio,
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="the local backend needs bubblewrap"),
]


@pytest.fixture
def runtime_root(settings):
    """A short runtime root: the agent's unix socket path must stay under 108 bytes."""
    root = Path(tempfile.mkdtemp(prefix="hws-", dir="/tmp"))
    settings.RUNTIME_ROOT = str(root)
    settings.RUNTIME_BACKEND = "local"
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def real_session(user, runtime_root):
    """A session whose sandbox is always stopped at teardown."""
    session = services.session_create(owner=user, name="real")
    yield session
    LocalBackend().stop(session.workload_id)


async def run(socket, session, command: str, needle: str, timeout: float = 10) -> str:
    """Type ``command`` and collect terminal output until ``needle`` shows up."""
    await socket.send_json_to({"type": "terminal_input", "sessionId": str(session.id), "input": command})
    output = ""
    deadline = time.monotonic() + timeout
    while needle not in output:
        message = await socket.receive_json_from(timeout=max(deadline - time.monotonic(), 0.1))
        if message["type"] == "terminal_output":
            output += message["output"]
        assert message["type"] != "error", message
    return output


async def test_terminal_runs_a_command_in_a_real_sandbox(user, real_session):
    socket = await open_socket(user)
    await socket.send_json_to({"type": "terminal_input", "sessionId": str(real_session.id), "input": ""})
    messages = await receive_until(socket, "pod_ready", timeout=15)
    assert messages[0]["output"].startswith("⏳ Initializing environment...")
    assert [m["type"] for m in messages][-2:] == ["terminal_clear_progress", "pod_ready"]
    output = await run(socket, real_session, "echo hello-$((6*7))\n", "hello-42")
    assert "hello-42" in output
    status = await sync_to_async(LocalBackend().status)(real_session.workload_id)
    assert status.phase == Phase.RUNNING
    await socket.disconnect()


async def test_the_sandbox_has_no_network(user, real_session):
    socket = await open_socket(user)
    # The marker is computed by the shell, so the echoed command line cannot match it.
    command = "python3 -c \"import socket; socket.create_connection(('1.1.1.1',53),2)\"; echo net-exit-$((100+$?))\n"
    output = await run(socket, real_session, command, "net-exit-1", timeout=15)
    assert "net-exit-101" in output and "OSError" in output
    await socket.disconnect()


async def test_files_are_shared_both_ways_through_the_mount(user, user_client, real_session):
    route = f"/api/workspace/{real_session.id}/file/pkg/hello.py"
    await sync_to_async(user_client.post)(route, {"content": "print('from-api', 6 * 7)\n"}, format="json")
    socket = await open_socket(user)
    output = await run(socket, real_session, "python3 pkg/hello.py; echo made > made.txt\n", "from-api 42")
    assert "from-api 42" in output
    await run(socket, real_session, "echo done-$((1+1))\n", "done-2")
    listing = (await sync_to_async(user_client.get)(f"/api/workspace/{real_session.id}/files")).json()
    assert {"name": "made.txt", "type": "file", "path": "made.txt"} in listing
    await socket.send_json_to({"type": "sync_files", "sessionId": str(real_session.id)})
    assert (await receive_until(socket, "sync_response"))[-1]["success"] is True
    await socket.disconnect()


async def test_a_reconnect_reattaches_to_the_same_shell_and_replays(user, real_session):
    first = await open_socket(user)
    await run(first, real_session, "MARK=kept-$((20+22)); echo before-$((1+1))\n", "before-2")
    await first.disconnect()
    second = await open_socket(user)
    output = await run(second, real_session, "echo $MARK\n", "kept-42")
    assert "before-2" in output  # the replayed output of the first socket
    await second.disconnect()


async def test_shutdown_leaves_no_sandbox_and_the_files_stay(user, user_client, real_session):
    socket = await open_socket(user)
    await run(socket, real_session, "echo up-$((2+3))\n", "up-5")
    response = await sync_to_async(user_client.post)(f"/workspace/{real_session.id}/shutdown")
    assert response.json()["container_cleaned"] is True
    backend = LocalBackend()
    assert real_session.workload_id not in await sync_to_async(backend.list_workloads)()
    assert (await sync_to_async(backend.status)(real_session.workload_id)).phase != Phase.RUNNING
    assert (real_session.workspace_path / "script.py").exists()
    status = (await sync_to_async(user_client.get)(f"/api/workspace/{real_session.id}/status")).json()
    assert status["container_ready"] is False
    await socket.disconnect()
