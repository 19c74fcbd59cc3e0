"""Run a real Hangar (``manage.py serve``: daphne plus the embedded worker) in a subprocess."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Variables of the test run that must not leak into the served Hangar's settings.
_INHERITED = ("DATABASE_URL", "REDIS_URL", "ENVIRONMENT", "PYTEST_XDIST_WORKER", "DJANGO_SETTINGS_MODULE")


@dataclass
class ServedHangar:
    """A running server: its base URL and the file its output goes to."""

    url: str
    log_path: Path

    def log(self) -> str:
        """Everything the server printed so far."""
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout: float = 10) -> bool:
        """True once ``text`` appears in the output (the worker runs tasks asynchronously)."""
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _manage(*args: str, env: dict, log) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "manage.py", *args], cwd=ROOT, env=env, stdout=log, stderr=log)


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited before it answered")
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"no answer from {url}/health within {timeout} s")


@contextmanager
def served_hangar(workdir: Path, **extra_env: str) -> Iterator[ServedHangar]:
    """Migrate a fresh SQLite database in ``workdir`` and serve the embedded default on it."""
    env = {key: value for key, value in os.environ.items() if key not in _INHERITED}
    # Unbuffered, so the console email backend's output is in the log as soon as it is sent.
    env.update(DATABASE_URL=f"sqlite:///{workdir / 'hangar.sqlite3'}", PYTHONUNBUFFERED="1", **extra_env)
    log_path = workdir / "serve.log"
    with log_path.open("w") as log:
        if _manage("migrate", "--noinput", env=env, log=log).wait(timeout=120) != 0:
            raise RuntimeError(f"migrate failed:\n{log_path.read_text()}")
        port = _free_port()
        process = _manage("serve", "--port", str(port), env=env, log=log)
        served = ServedHangar(url=f"http://127.0.0.1:{port}", log_path=log_path)
        try:
            _wait_healthy(served.url, process, timeout=30)
            yield served
        except Exception as exc:
            raise AssertionError(f"{exc}\n--- server output ---\n{served.log()}") from exc
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
