"""An in-memory runtime backend for API tests: the real one is exercised in test_real_backend.py."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from apps.runtime.base import RuntimeBackend
from apps.runtime.errors import ImageUnavailable, RuntimeBackendError, WorkloadNotFound
from apps.runtime.spec import LogEntry, Metrics, Phase, WorkloadSpec, WorkloadStatus


class FakePty:
    """Echoes input back as output; the backend keeps each session's output so a reopen replays it."""

    def __init__(self, backend: "FakeBackend", key: tuple[str, str]) -> None:
        self.backend = backend
        self.key = key
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        for chunk in backend.sessions.setdefault(key, []):
            self.queue.put_nowait(chunk)
        self.closed = False
        self.sizes: list[tuple[int, int]] = []
        self.exit_status = None

    async def read(self) -> bytes | None:
        return await self.queue.get()

    async def write(self, data: bytes) -> None:
        if data == b"exit\n":
            self.exit_status = 0
            await self.queue.put(None)
            return
        output = b"echo:" + data
        self.backend.sessions[self.key].append(output)
        await self.queue.put(output)

    async def resize(self, cols: int, rows: int) -> None:
        self.sizes.append((cols, rows))
        await self.queue.put(f"[resized {cols}x{rows}]".encode())

    async def close(self) -> None:
        self.closed = True
        self.backend.closed_ptys.append(self.key)


class FakeBackend(RuntimeBackend):
    """Workloads are dict entries; ``golang:*`` images are refused like a host without Go."""

    name = "fake"

    def __init__(self) -> None:
        self.workloads: dict[str, dict] = {}
        self.unavailable_prefixes = ("golang:",)
        self.exec_results: dict[str, tuple[int, str]] = {}
        self.exec_calls: list[tuple[str, list[str]]] = []
        self.started: list[WorkloadSpec] = []
        self.stopped: list[str] = []
        self.sessions: dict[tuple[str, str], list[bytes]] = {}
        self.closed_ptys: list[tuple[str, str]] = []
        self.ptys: list[FakePty] = []
        self.host_port = 41234
        self.fail_start: str | None = None

    # --- helpers for tests ----------------------------------------------------------------------

    def kill(self, workload_id: str, reason: str = "OOMKilled") -> None:
        self.workloads[workload_id].update(phase=Phase.ERROR, reason=reason)

    def vanish(self, workload_id: str) -> None:
        self.workloads.pop(workload_id, None)

    def running(self) -> list[str]:
        return [wid for wid, w in self.workloads.items() if w["phase"] == Phase.RUNNING]

    def add_log(self, workload_id: str, message: str, when: datetime | None = None) -> None:
        self.workloads[workload_id]["logs"].append(LogEntry(timestamp=when or datetime.now(UTC), message=message))

    # --- the interface --------------------------------------------------------------------------

    def check_image(self, image: str) -> None:
        if image.startswith(self.unavailable_prefixes):
            raise ImageUnavailable(image, "the host has no toolchain for it")

    def start(self, spec: WorkloadSpec) -> dict:
        self.check_image(spec.image)
        if self.fail_start:
            raise RuntimeBackendError(self.fail_start)
        self.started.append(spec)
        now = datetime.now(UTC)
        self.workloads[spec.id] = {
            "spec": spec,
            "phase": Phase.RUNNING,
            "reason": "",
            "logs": [LogEntry(timestamp=now, message="sandbox started", source="platform")],
            "started_at": now,
        }
        return {"backend": "fake", "id": spec.id}

    def stop(self, workload_id: str) -> None:
        self.stopped.append(workload_id)
        if workload_id in self.workloads and self.workloads[workload_id]["phase"] == Phase.RUNNING:
            self.workloads[workload_id].update(phase=Phase.STOPPED, reason="Stopped")

    def status(self, workload_id: str) -> WorkloadStatus:
        workload = self.workloads.get(workload_id)
        if workload is None:
            return WorkloadStatus(phase=Phase.STOPPED, reason="NotFound")
        port = self.host_port if workload["spec"].port and workload["phase"] == Phase.RUNNING else None
        return WorkloadStatus(
            phase=workload["phase"], reason=workload["reason"], started_at=workload["started_at"], host_port=port
        )

    def logs(self, workload_id: str, *, tail: int = 100, since: datetime | None = None) -> list[LogEntry]:
        workload = self.workloads.get(workload_id)
        if workload is None:
            return []
        entries = [e for e in workload["logs"] if since is None or e.timestamp > since]
        return entries[-tail:]

    async def follow_logs(self, workload_id: str) -> AsyncIterator[LogEntry]:
        for entry in list(self.workloads.get(workload_id, {}).get("logs", [])):
            yield entry

    def _require_running(self, workload_id: str) -> dict:
        workload = self.workloads.get(workload_id)
        if workload is None or workload["phase"] != Phase.RUNNING:
            raise RuntimeBackendError("The workload is not running", code="WORKLOAD_NOT_RUNNING")
        return workload

    async def open_pty(self, workload_id: str, *, session: str, cols: int = 80, rows: int = 24) -> FakePty:
        self._require_running(workload_id)
        pty = FakePty(self, (workload_id, session))
        self.ptys.append(pty)
        return pty

    def exec(self, workload_id: str, argv: list[str], *, timeout: float = 600) -> tuple[int, str]:
        self._require_running(workload_id)
        self.exec_calls.append((workload_id, list(argv)))
        command = argv[-1]
        return self.exec_results.get(command, (0, f"ok: {command}\n"))

    def metrics(self, workload_id: str) -> Metrics:
        workload = self.workloads.get(workload_id)
        if workload is None or workload["phase"] != Phase.RUNNING:
            raise WorkloadNotFound(workload_id)
        spec = workload["spec"]
        return Metrics(
            cpu_percent=12.5,
            memory_bytes=128 * 1024**2,
            memory_limit_bytes=spec.memory_bytes,
            storage_bytes=4096,
            storage_limit_bytes=spec.disk_bytes,
            pids=3,
        )

    def list_workloads(self) -> list[str]:
        return self.running()
