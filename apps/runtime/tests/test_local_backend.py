"""The local backend, on real bubblewrap sandboxes: lifecycle, terminals, logs, metrics, images."""

import asyncio
import time

import pytest

from apps.runtime.backends import cgroups
from apps.runtime.backends.local import LocalBackend, isolation
from apps.runtime.base import RuntimeBackend
from apps.runtime.errors import ImageUnavailable, RuntimeBackendError
from apps.runtime.models import LocalImage
from apps.runtime.spec import NetworkPolicy, Phase


async def read_until(pty, needle: bytes, timeout: float = 5) -> bytes:
    """Terminal output up to and including ``needle``."""
    output = b""
    deadline = time.monotonic() + timeout
    while needle not in output:
        chunk = await asyncio.wait_for(pty.read(), max(deadline - time.monotonic(), 0.01))
        if chunk is None:
            break
        output += chunk
    return output


def test_a_backend_must_implement_every_required_method():
    with pytest.raises(TypeError, match="must implement"):

        class Incomplete(RuntimeBackend):
            def start(self, spec):
                return {}


def test_start_runs_the_agent_as_an_unprivileged_user_in_its_own_namespaces(backend, start):
    spec = start()
    assert backend.status(spec.id).phase == Phase.RUNNING
    code, output = backend.exec(spec.id, ["sh", "-c", "id -u; hostname; echo $$; ls /"])
    uid, hostname, pid, listing = output.split("\n", 3)
    assert code == 0 and uid == "1000" and hostname == spec.id
    assert int(pid) < 100  # its own PID namespace
    assert "workspace" in listing and "home" not in listing


def test_the_system_is_read_only_and_the_workspace_and_tmp_are_writable(backend, start):
    spec = start()
    assert backend.exec(spec.id, ["sh", "-c", "touch /usr/x"])[0] != 0
    assert backend.exec(spec.id, ["sh", "-c", "echo hi > /workspace/a && echo hi > /tmp/b"])[0] == 0
    assert (backend._run_dir(spec.id).parent.parent / "ws" / spec.id / "a").read_text() == "hi\n"


def test_terminal_runs_commands_and_reattaches_with_replay(backend, start):
    spec = start()

    async def scenario():
        first = await backend.open_pty(spec.id, session="main")
        assert first.created
        await first.write(b"echo hello-$((6*7))\n")
        assert b"hello-42" in await read_until(first, b"hello-42")
        await first.close()
        again = await backend.open_pty(spec.id, session="main")
        assert not again.created
        assert b"hello-42" in await read_until(again, b"hello-42")  # replayed
        await again.write(b"exit\n")
        while await again.read() is not None:
            pass
        assert again.exit_status == 0

    asyncio.run(scenario())


def test_terminal_resize_reaches_the_shell(backend, start):
    spec = start()

    async def scenario():
        pty = await backend.open_pty(spec.id, session="sized", cols=80, rows=24)
        await pty.resize(132, 40)
        await pty.write(b"stty size\n")
        assert b"40 132" in await read_until(pty, b"40 132")
        await pty.close()

    asyncio.run(scenario())


def test_output_rate_is_capped(backend, start):
    spec = start(output_rate=20_000)

    async def scenario() -> float:
        pty = await backend.open_pty(spec.id, session="flood")
        began = time.monotonic()
        await pty.write(b"head -c 60000 /dev/zero | tr '\\0' x; echo; echo done-$((1+1))\n")
        await read_until(pty, b"done-2", timeout=15)
        await pty.close()
        return time.monotonic() - began

    assert asyncio.run(scenario()) >= 2.0  # 60 kB at 20 kB/s


def test_main_command_output_goes_to_the_logs(backend, start):
    spec = start(command=("python3", "-c", "print('from-main', flush=True)"))
    deadline = time.monotonic() + 5
    while not any(entry.message == "from-main" for entry in backend.logs(spec.id)):
        assert time.monotonic() < deadline, backend.logs(spec.id)
        time.sleep(0.05)
    entries = backend.logs(spec.id, tail=1000)
    assert backend.logs(spec.id, tail=1)[-1] == entries[-1]
    assert backend.logs(spec.id, since=entries[-1].timestamp) == []


def test_exec_with_a_log_source_writes_the_logs(backend, start):
    spec = start()
    backend.exec(spec.id, ["sh", "-c", "echo installing"], log_source="installation")
    assert any(e.source == "installation" and e.message == "installing" for e in backend.logs(spec.id))


def test_metrics_are_measured(backend, start):
    spec = start(memory_bytes=256 * 1024**2)
    backend.exec(spec.id, ["sh", "-c", "head -c 5000 /dev/zero > /workspace/blob"])
    metrics = backend.metrics(spec.id)
    assert metrics.memory_bytes > 1024**2 and metrics.memory_limit_bytes == 256 * 1024**2
    assert metrics.storage_bytes >= 5000 and metrics.pids >= 2


def test_egress_publishes_the_declared_port(backend, start):
    import urllib.request

    spec = start(network=NetworkPolicy.EGRESS, port=8080, command=("python3", "-m", "http.server", "8080"))
    port = backend.status(spec.id).host_port
    assert port
    deadline = time.monotonic() + 5
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:
                assert response.status == 200
                break
        except OSError:
            assert time.monotonic() < deadline
            time.sleep(0.1)


def test_a_new_backend_instance_reattaches_after_a_restart(start):
    spec = start()
    fresh = LocalBackend()  # as after a server restart: only the state on disk is known
    assert spec.id in fresh.list_workloads()
    assert fresh.status(spec.id).phase == Phase.RUNNING
    assert fresh.exec(spec.id, ["true"])[0] == 0


def test_stop_is_idempotent_and_status_reports_it(backend, start):
    spec = start()
    backend.stop(spec.id)
    backend.stop(spec.id)
    status = backend.status(spec.id)
    assert (status.phase, status.reason) == (Phase.STOPPED, "Stopped")
    assert spec.id not in backend.list_workloads()
    with pytest.raises(RuntimeBackendError):
        backend.exec(spec.id, ["true"])


def test_unknown_workloads_are_reported_stopped(backend):
    assert backend.status("nothing-here").phase == Phase.STOPPED


def test_images_the_host_cannot_provide_are_refused(backend):
    backend.check_image("python:3.11-slim")
    with pytest.raises(ImageUnavailable) as refused:
        backend.check_image("golang:1.21-alpine")  # no go toolchain on this host
    assert refused.value.code == "IMAGE_UNAVAILABLE"
    with pytest.raises(ImageUnavailable):
        backend.check_image("someone/arbitrary-image:latest")


def test_a_registered_rootfs_needs_python(backend, tmp_path):
    LocalImage.objects.create(name="empty-rootfs:1", rootfs=str(tmp_path))
    with pytest.raises(ImageUnavailable, match="python3"):
        backend.check_image("empty-rootfs:1")


def test_without_bubblewrap_the_backend_refuses_clearly(backend, start, monkeypatch):
    monkeypatch.setattr("apps.runtime.backends.sandbox.bubblewrap_available", lambda: False)
    with pytest.raises(RuntimeBackendError, match="bubblewrap"):
        start()
    assert isolation()["sandbox"] == "unavailable"


def test_isolation_report():
    report = isolation()
    assert report["sandbox"] == "bubblewrap"
    assert report["limits"] == {"v1": "cgroup-v1", "v2": "cgroup-v2"}.get(cgroups.mode(), "rlimits")
