"""Fixtures of the code-session tests: a runtime root per test and an in-memory fake backend.

The fake stands in for the runtime in the API and socket tests that are about Hangar's own logic
(tests that use it say ``fake_backend`` in their names or fixtures); ``test_real_sandbox.py``
runs the same flows on the real local backend.
"""

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime

import pytest
from django.urls import get_resolver

from apps.runtime import registry
from apps.runtime.base import RuntimeBackend
from apps.runtime.errors import ImageUnavailable, RuntimeBackendError, WorkloadNotFound
from apps.runtime.spec import LogEntry, Metrics, Phase, WorkloadSpec, WorkloadStatus
from apps.workspaces import services

BROWSER = [(b"host", b"localhost"), (b"origin", b"http://localhost")]


class FakePty:
    """A terminal that echoes what is written, like a shell with echo on and nothing else."""

    def __init__(self, backend: "FakeBackend", workload_id: str, session: str) -> None:
        self.backend = backend
        self.workload_id = workload_id
        self.session = session
        self.output: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.size = (80, 24)
        self.closed = False
        self.loop = asyncio.get_running_loop()

    async def read(self) -> bytes | None:
        return await self.output.get()

    async def write(self, data: bytes) -> None:
        self.backend.inputs.append((self.session, data))
        await self.output.put(b"echo:" + data)

    async def resize(self, cols: int, rows: int) -> None:
        self.size = (cols, rows)

    async def close(self) -> None:
        self.closed = True

    def exit(self) -> None:
        """Simulate the shell exiting (callable from any thread, like a real process ending)."""
        self.loop.call_soon_threadsafe(self.output.put_nowait, None)


class FakeBackend(RuntimeBackend):
    """Keeps workloads in memory and records every call."""

    name = "fake"

    def __init__(self) -> None:
        self.running: dict[str, WorkloadSpec] = {}
        self.starts: list[WorkloadSpec] = []
        self.stops: list[str] = []
        self.ptys: list[FakePty] = []
        self.inputs: list[tuple[str, bytes]] = []
        self.fail_start: RuntimeBackendError | None = None
        # Workload id -> reason, for sandboxes that ended on their own (e.g. OOMKilled).
        self.failed: dict[str, str] = {}
        self.start_delay = 0.0

    def check_image(self, image: str) -> None:
        if not image.startswith("python:"):
            raise ImageUnavailable(image, "fake backend")

    def start(self, spec: WorkloadSpec) -> dict:
        if self.start_delay:
            import time

            time.sleep(self.start_delay)
        if self.fail_start is not None:
            raise self.fail_start
        self.starts.append(spec)
        self.running[spec.id] = spec
        return {"backend": "fake", "id": spec.id}

    def stop(self, workload_id: str) -> None:
        self.stops.append(workload_id)
        self.running.pop(workload_id, None)
        for pty in self.ptys:
            if pty.workload_id == workload_id and not pty.closed:
                pty.exit()

    def status(self, workload_id: str) -> WorkloadStatus:
        if workload_id in self.failed:
            return WorkloadStatus(phase=Phase.ERROR, reason=self.failed[workload_id])
        phase = Phase.RUNNING if workload_id in self.running else Phase.STOPPED
        return WorkloadStatus(phase=phase)

    def logs(self, workload_id: str, *, tail: int = 100, since: datetime | None = None) -> list[LogEntry]:
        return []

    async def follow_logs(self, workload_id: str) -> AsyncIterator[LogEntry]:
        if False:
            yield

    async def open_pty(self, workload_id: str, *, session: str, cols: int = 80, rows: int = 24) -> FakePty:
        if workload_id not in self.running:
            raise WorkloadNotFound(workload_id)
        pty = FakePty(self, workload_id, session)
        pty.size = (cols, rows)
        self.ptys.append(pty)
        return pty

    def exec(self, workload_id: str, argv: list[str], *, timeout: float = 600) -> tuple[int, str]:
        return 0, ""

    def metrics(self, workload_id: str) -> Metrics:
        return Metrics(0, 0, 0, 0, 0, 0)

    def list_workloads(self) -> list[str]:
        return list(self.running)


@pytest.fixture(autouse=True)
def runtime_root(settings, tmp_path):
    """Workspaces of each test live under its own tmp_path."""
    settings.RUNTIME_ROOT = str(tmp_path / "runtime")
    return tmp_path / "runtime"


@pytest.fixture
def fake_backend(monkeypatch) -> FakeBackend:
    """The in-memory backend, installed as the configured one."""
    # Load every view module first: one that binds ``get_backend`` at import time (rather than
    # calling ``registry.get_backend()``) must bind the real one, not this test's fake, or the
    # fake would outlive the test in this worker process.
    get_resolver().url_patterns
    backend = FakeBackend()
    monkeypatch.setattr(registry, "get_backend", lambda: backend)
    return backend


@pytest.fixture
def session(user):
    """A session of ``user`` created through the service, so its workspace holds script.py."""
    return services.session_create(owner=user, name="My Python Project")


@pytest.fixture
def other_session(other_user):
    """A session of ``other_user``."""
    return services.session_create(owner=other_user, name="Not yours")
