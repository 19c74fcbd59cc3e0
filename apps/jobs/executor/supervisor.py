"""The supervisor: starts one training process, relays its events, and stops it on cancel or when
the time limit passes.

The training process runs in its own session, so its process id is also its process group, and one
``killpg`` takes down everything it started (joblib workers included). Killing checks the process's
command line first, so a recycled process id is never killed by mistake.
"""

import contextlib
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from django.conf import settings

from apps.jobs.executor import protocol

# How often the supervisor asks whether the job was cancelled (when no event arrives).
CANCEL_POLL_SECONDS = 0.5
_STDERR_TAIL_CHARS = 4000


@dataclass
class Outcome:
    """How the training process ended.

    ``kind``: ``result`` (done, ``payload`` holds the result event), ``error`` (it reported a
    failure), ``cancelled``, ``timeout`` or ``crashed`` (it died without saying why).
    """

    kind: str
    message: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    exit_code: int | None = None


def host_name() -> str:
    """This machine's name, recorded with the process id (a pid means nothing on another host)."""
    return socket.gethostname()


def kill_executor(*, job_id: str, pid: int, host: str = "") -> bool:
    """Kill the training process group of ``job_id`` if it runs on this host; True if it was found."""
    if host and host != host_name():
        return False
    try:
        process = psutil.Process(pid)
        if job_id not in process.cmdline():
            return False
        os.killpg(pid, signal.SIGKILL)
    except (psutil.Error, ProcessLookupError, PermissionError):
        return False
    return True


def _command(job_id: str, spec_path: Path) -> list[str]:
    return [sys.executable, "-m", "apps.jobs.executor.run", job_id, str(spec_path)]


class Supervisor:
    """Runs the training process of one job to its end.

    ``on_start(pid)`` is called once the process exists, ``on_event(event)`` for every event (plain
    output lines arrive as ``log`` events), and ``is_cancelled()`` is polled.
    """

    def __init__(
        self,
        *,
        job_id: str,
        spec_path: Path,
        time_limit: float,
        on_start: Callable[[int], None],
        on_event: Callable[[dict[str, Any]], None],
        is_cancelled: Callable[[], bool],
    ) -> None:
        self.job_id = job_id
        self.spec_path = spec_path
        self.time_limit = time_limit
        self.on_start = on_start
        self.on_event = on_event
        self.is_cancelled = is_cancelled
        self.stderr_path = spec_path.parent / "stderr.log"

    def run(self) -> Outcome:
        """Start the process, relay its events until it exits (or is stopped), and say how it ended."""
        with open(self.stderr_path, "wb") as stderr:
            process = subprocess.Popen(  # noqa: S603 - our own module, with our own interpreter
                _command(self.job_id, self.spec_path),
                cwd=settings.BASE_DIR,
                stdout=subprocess.PIPE,
                stderr=stderr,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                text=True,
                errors="replace",
            )
        try:
            self.on_start(process.pid)
            outcome = self._relay(process)
        finally:
            if process.poll() is None:
                self._kill(process)
            process.wait()
            if process.stdout:
                process.stdout.close()
        outcome.exit_code = process.returncode
        if outcome.kind == "crashed":
            outcome.message = self._crash_message(process.returncode)
        return outcome

    def _relay(self, process: subprocess.Popen) -> Outcome:
        lines: queue.Queue[str | None] = queue.Queue()
        reader = threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True)
        reader.start()
        deadline = time.monotonic() + self.time_limit
        next_poll = 0.0
        outcome: Outcome | None = None
        while True:
            try:
                line = lines.get(timeout=0.1)
            except queue.Empty:
                line = ""
            if line is None:
                break
            if line:
                outcome = self._handle(line) or outcome
            now = time.monotonic()
            if now > deadline:
                self._kill(process)
                return Outcome("timeout", f"Time limit of {int(self.time_limit)} s exceeded; training was stopped")
            if now >= next_poll:
                next_poll = now + CANCEL_POLL_SECONDS
                if self.is_cancelled():
                    self._kill(process)
                    return Outcome("cancelled", "Cancelled")
        process.wait()
        return outcome or Outcome("crashed")

    def _handle(self, line: str) -> Outcome | None:
        event = protocol.decode(line.rstrip("\n"))
        if event is None:
            text = line.rstrip()
            if text:
                self.on_event({"event": "log", "message": text[:2000], "node_id": None})
            return None
        if event["event"] == "result":
            return Outcome("result", payload=event)
        if event["event"] == "error":
            return Outcome("error", str(event.get("message") or "Training failed"))
        self.on_event(event)
        return None

    def _kill(self, process: subprocess.Popen) -> None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            process.kill()

    def _crash_message(self, code: int | None) -> str:
        tail = ""
        with contextlib.suppress(OSError):
            tail = self.stderr_path.read_text(errors="replace")[-_STDERR_TAIL_CHARS:].strip()
        if code is not None and code < 0:
            reason = f"The training process was killed by signal {-code}"
            if -code == signal.SIGKILL:
                reason += " (out of memory, or stopped from outside)"
        else:
            reason = f"The training process exited with status {code}"
        return f"{reason}: {tail}" if tail else reason


def _read_lines(stream: Any, lines: queue.Queue) -> None:
    try:
        for line in stream:
            lines.put(line)
    except (OSError, ValueError):
        pass
    finally:
        lines.put(None)
