"""The local backend: each workload is a bubblewrap sandbox on this host, run for real.

The host keeps only JSON state per workload (the sandbox's PID, cgroups, socket and port) in its
run folder, so any Hangar process can reattach after a restart. Terminals and commands go through
the in-sandbox agent's unix socket; logs are the agent's JSON-lines file in the same folder.
"""

import asyncio
import contextlib
import json
import os
import shutil
import signal
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from apps.runtime import images
from apps.runtime.agent_client import AgentPty, call
from apps.runtime.backends import cgroups, sandbox
from apps.runtime.base import RuntimeBackend
from apps.runtime.errors import RuntimeBackendError, WorkloadNotFound
from apps.runtime.spec import LogEntry, Metrics, Phase, WorkloadSpec, WorkloadStatus
from apps.runtime.workspaces import storage_bytes

# Generous: under parallel load (CI runs two test workers and browsers) python can start slowly.
AGENT_START_TIMEOUT = 30.0
OOM_REASON = "OOMKilled"


def isolation() -> dict:
    """How workloads are isolated on this host, for /health: never silently unisolated."""
    return {
        "backend": "local",
        "sandbox": "bubblewrap" if sandbox.bubblewrap_available() else "unavailable",
        "limits": {"v1": "cgroup-v1", "v2": "cgroup-v2"}.get(cgroups.mode(), "rlimits"),
        "network": "slirp4netns" if shutil.which("slirp4netns") else "none-only",
    }


class LocalBackend(RuntimeBackend):
    """Bubblewrap sandboxes with cgroup limits, slirp4netns egress and an agent inside."""

    name = "local"

    # --- where things live -----------------------------------------------------------------------

    def _run_dir(self, workload_id: str) -> Path:
        if not workload_id.replace("-", "").replace("_", "").isalnum():
            raise WorkloadNotFound(workload_id)
        return Path(settings.RUNTIME_ROOT) / "run" / workload_id

    def _state(self, workload_id: str) -> dict | None:
        try:
            return json.loads((self._run_dir(workload_id) / "state.json").read_text())
        except (OSError, ValueError):
            return None

    def _save_state(self, workload_id: str, state: dict) -> None:
        path = self._run_dir(workload_id) / "state.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(path)

    def _socket(self, workload_id: str) -> str:
        return str(self._run_dir(workload_id) / "agent.sock")

    # --- lifecycle -------------------------------------------------------------------------------

    def describe(self) -> dict:
        """Sandbox, limits and network as available on this host."""
        return isolation()

    def check_image(self, image: str) -> None:
        """Raise ImageUnavailable unless the host (or a registered rootfs) can provide ``image``."""
        images.resolve(image)

    def start(self, spec: WorkloadSpec) -> dict:
        """Start the sandbox, its network and its agent; returns the state saved on disk."""
        source = images.resolve(spec.image)
        if not sandbox.bubblewrap_available():
            raise RuntimeBackendError("bubblewrap is not installed; the local runtime cannot isolate workloads")
        current = self._state(spec.id)
        if current and not current.get("stopped") and self._alive(current):
            return current
        run_dir = self._prepare_run_dir(spec)
        procs = cgroups.create(spec.id, memory_bytes=spec.memory_bytes, pids=spec.pids, cpu=spec.cpu)
        try:
            state = self._launch(spec, source, run_dir, procs)
        except Exception:
            self._teardown(spec.id)
            raise
        self._save_state(spec.id, state)
        return state

    def _prepare_run_dir(self, spec: WorkloadSpec) -> Path:
        run_dir = self._run_dir(spec.id)
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir(parents=True, mode=0o700)
        Path(spec.workspace).mkdir(parents=True, exist_ok=True)
        config = {
            "command": list(spec.command),
            "env": spec.env,
            "output_rate": spec.output_rate,
            "exit_with_command": spec.exit_with_command,
        }
        (run_dir / "config.json").write_text(json.dumps(config))
        return run_dir

    def _launch(self, spec: WorkloadSpec, source: images.ImageSource, run_dir: Path, procs: list[str]) -> dict:
        log = run_dir / "launch.log"
        info_r, info_w = os.pipe()
        status_fd = os.open(run_dir / "exit.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        argv = [*sandbox.network_prefix(spec), *sandbox.bwrap_argv(spec, run_dir, source)]
        argv += ["--info-fd", str(info_w), "--json-status-fd", str(status_fd)]
        argv += ["/usr/bin/python3", "-I", "-S", sandbox.SANDBOX_AGENT, "--run-dir", sandbox.SANDBOX_RUN_DIR]
        try:
            sandbox.launch_detached(
                argv, cgroup_procs=procs, log=log, pass_fds=(info_w, status_fd), pidfile=run_dir / "outer.pid"
            )
            os.close(info_w)
            info_w = -1
            child_pid = int(sandbox.read_json_fd(info_r, timeout=AGENT_START_TIMEOUT)["child-pid"])
        finally:
            os.close(info_r)
            os.close(status_fd)
            if info_w >= 0:
                os.close(info_w)
        # The agent answering means bwrap has finished building the namespaces slirp4netns joins.
        self._wait_for_agent(spec.id, run_dir)
        host_port = None
        if sandbox.needs_network(spec):
            outer_pid = int((run_dir / "outer.pid").read_text())
            api = sandbox.start_network(outer_pid, run_dir=run_dir, cgroup_procs=procs, log=log)
            if spec.port:
                host_port = sandbox.publish_port(api, spec.port)
        return {
            "backend": self.name,
            "spec": spec.as_dict(),
            "child_pid": child_pid,
            "host_port": host_port,
            "cgroups": cgroups.mode(),
            "oom_baseline": cgroups.oom_kills(spec.id),
            "started_at": datetime.now(UTC).isoformat(),
            "stopped": False,
        }

    def _wait_for_agent(self, workload_id: str, run_dir: Path) -> None:
        deadline = time.monotonic() + AGENT_START_TIMEOUT
        while time.monotonic() < deadline:
            if (run_dir / "agent.sock").exists():
                with contextlib.suppress(RuntimeBackendError):
                    call(self._socket(workload_id), {"op": "ping"}, timeout=2)
                    return
            if b"exit-code" in _read_bytes(run_dir / "exit.json"):
                # The sandbox already ended (a workload that exits with its command): no point waiting.
                raise RuntimeBackendError(
                    "The sandbox exited while it was starting", detail=self._exit_reason(workload_id)
                )
            time.sleep(0.005)
        raise RuntimeBackendError(
            "The sandbox started but its agent did not answer",
            detail=(run_dir / "launch.log").read_text(errors="replace")[-2000:],
        )

    def stop(self, workload_id: str) -> None:
        """Kill the sandbox's PID-namespace init, then anything left in its cgroups."""
        state = self._state(workload_id)
        if state is None:
            return
        self._teardown(workload_id, state)
        if not state.get("stopped"):
            state.update(stopped=True, reason=state.get("reason") or "Stopped")
            self._save_state(workload_id, state)

    def _teardown(self, workload_id: str, state: dict | None = None) -> None:
        if state and state.get("child_pid") and self._alive(state):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(state["child_pid"]), signal.SIGKILL)
        cgroups.kill_all(workload_id)
        self._kill_strays(workload_id)
        cgroups.remove(workload_id)
        with contextlib.suppress(FileNotFoundError, WorkloadNotFound):
            (self._run_dir(workload_id) / "agent.sock").unlink()

    def _kill_strays(self, workload_id: str) -> None:
        """Without cgroups, find the launcher's processes by the run folder on their command line."""
        marker = str(self._run_dir(workload_id)).encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                if marker in (entry / "cmdline").read_bytes():
                    os.kill(int(entry.name), signal.SIGKILL)

    @staticmethod
    def _alive(state: dict) -> bool:
        """True while the sandbox's init (bwrap's child in our PID namespace) still exists."""
        try:
            cmdline = Path(f"/proc/{int(state['child_pid'])}/cmdline").read_bytes()
        except (OSError, KeyError, ValueError):
            return False
        return cmdline.startswith(b"bwrap")

    # --- observation -----------------------------------------------------------------------------

    def status(self, workload_id: str) -> WorkloadStatus:
        """Running, or why not. A memory kill stops the whole workload: ``error`` / ``OOMKilled``."""
        state = self._state(workload_id)
        if state is None:
            return WorkloadStatus(phase=Phase.STOPPED, reason="NotFound")
        started = datetime.fromisoformat(state["started_at"]) if state.get("started_at") else None
        if state.get("stopped"):
            phase = Phase.ERROR if state.get("reason") not in ("Stopped", None) else Phase.STOPPED
            return WorkloadStatus(phase=phase, reason=state.get("reason", ""), started_at=started)
        if cgroups.oom_kills(workload_id) > int(state.get("oom_baseline", 0)):
            return self._ended(workload_id, state, OOM_REASON, started)
        if not self._alive(state):
            return self._ended(workload_id, state, self._exit_reason(workload_id), started)
        return WorkloadStatus(phase=Phase.RUNNING, started_at=started, host_port=state.get("host_port"))

    def _ended(self, workload_id: str, state: dict, reason: str, started: datetime | None) -> WorkloadStatus:
        state.update(reason=reason)
        # Saved first: stop() reads the state back, and the reason must outlive this call.
        self._save_state(workload_id, state)
        self.stop(workload_id)
        return WorkloadStatus(phase=Phase.ERROR, reason=reason, started_at=started)

    def _exit_reason(self, workload_id: str) -> str:
        try:
            lines = (self._run_dir(workload_id) / "exit.json").read_text().splitlines()
            codes = [json.loads(line).get("exit-code") for line in lines if "exit-code" in line]
        except (OSError, ValueError):
            codes = []
        return f"Exited with code {codes[-1]}" if codes else "Vanished"

    def logs(self, workload_id: str, *, tail: int = 100, since: datetime | None = None) -> list[LogEntry]:
        """The last ``tail`` entries of the workload log, after ``since`` when given."""
        path = self._run_dir(workload_id) / "workload.log"
        try:
            lines = path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return []
        entries = [entry for entry in map(_parse_log_line, lines) if entry is not None]
        if since is not None:
            entries = [entry for entry in entries if entry.timestamp > since]
        return entries[-tail:] if tail else entries

    async def follow_logs(self, workload_id: str) -> AsyncIterator[LogEntry]:
        """New entries as the agent appends them, until the workload stops."""
        path = self._run_dir(workload_id) / "workload.log"
        position = path.stat().st_size if path.exists() else 0
        while True:
            with contextlib.suppress(FileNotFoundError), path.open("rb") as handle:
                handle.seek(position)
                for raw in handle:
                    if not raw.endswith(b"\n"):
                        break
                    position += len(raw)
                    entry = _parse_log_line(raw.decode(errors="replace"))
                    if entry is not None:
                        yield entry
            state = self._state(workload_id)
            if state is None or state.get("stopped"):
                return
            await asyncio.sleep(0.25)

    def append_log(self, workload_id: str, message: str, *, source: str = "platform", level: str = "INFO") -> None:
        """Write a line to the workload log from the host side (lifecycle events)."""
        line = {"timestamp": time.time(), "level": level, "source": source, "message": message}
        with (self._run_dir(workload_id) / "workload.log").open("a") as handle:
            handle.write(json.dumps(line) + "\n")

    def metrics(self, workload_id: str) -> Metrics:
        """CPU over a 100 ms sample, memory and processes from the cgroups, storage from disk."""
        state = self._require_running(workload_id)
        spec = state["spec"]
        first = cgroups.usage(workload_id)
        began = time.monotonic()
        time.sleep(0.1)
        second = cgroups.usage(workload_id)
        elapsed_ns = (time.monotonic() - began) * 1e9
        cpu_percent = max(second["cpu_ns"] - first["cpu_ns"], 0) / elapsed_ns * 100
        return Metrics(
            cpu_percent=round(cpu_percent, 2),
            memory_bytes=second["memory_bytes"],
            memory_limit_bytes=spec["memory_bytes"],
            storage_bytes=storage_bytes(Path(spec["workspace"])),
            storage_limit_bytes=spec["disk_bytes"],
            pids=second["pids"],
        )

    def list_workloads(self) -> list[str]:
        """Ids of every workload whose sandbox is alive on this host."""
        run_root = Path(settings.RUNTIME_ROOT) / "run"
        if not run_root.is_dir():
            return []
        alive = []
        for run_dir in sorted(run_root.iterdir()):
            state = self._state(run_dir.name)
            if state and not state.get("stopped") and self._alive(state):
                alive.append(run_dir.name)
        return alive

    def last_activity(self, workload_id: str) -> datetime | None:
        """When someone last typed in one of the workload's terminals."""
        with contextlib.suppress(OSError, WorkloadNotFound):
            return datetime.fromtimestamp((self._run_dir(workload_id) / "activity").stat().st_mtime, UTC)
        return None

    # --- interaction -----------------------------------------------------------------------------

    def _require_running(self, workload_id: str) -> dict:
        state = self._state(workload_id)
        if state is None or state.get("stopped") or not self._alive(state):
            raise RuntimeBackendError("The workload is not running", code="WORKLOAD_NOT_RUNNING")
        return state

    def exec(self, workload_id: str, argv: list[str], *, timeout: float = 600, log_source: str = "") -> tuple[int, str]:
        """Run ``argv`` in the sandbox through the agent; with ``log_source`` output is logged too."""
        self._require_running(workload_id)
        request = {"op": "exec", "argv": argv, "timeout": timeout, "log_source": log_source}
        answer = call(self._socket(workload_id), request, timeout=timeout + 5)
        return int(answer["exit_code"]), answer["output"]

    async def open_pty(self, workload_id: str, *, session: str, cols: int = 80, rows: int = 24) -> AgentPty:
        """Open or reattach the terminal ``session`` through the agent."""
        self._require_running(workload_id)
        return await AgentPty.open(self._socket(workload_id), session=session, cols=cols, rows=rows)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def _parse_log_line(line: str) -> LogEntry | None:
    try:
        data = json.loads(line)
        return LogEntry(
            timestamp=datetime.fromtimestamp(float(data["timestamp"]), UTC),
            message=str(data.get("message", "")),
            level=str(data.get("level", "INFO")),
            source=str(data.get("source", "container")),
        )
    except (ValueError, KeyError, TypeError):
        return None
