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
# Variables of the test run that pick a mode; a subprocess must start from the embedded default.
_MODE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "EMAIL_URL", "ENVIRONMENT", "PYTEST_XDIST_WORKER")


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


def clean_env(**overrides: str) -> dict[str, str]:
    """This process's environment without the variables that pick a mode, plus ``overrides``.

    Unbuffered, so what a subprocess prints (the console email backend) reaches its log at once.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _MODE_VARIABLES and not key.startswith("CELERY_") and key != "DJANGO_SETTINGS_MODULE"
    }
    env.update(PYTHONUNBUFFERED="1", **overrides)
    return env


def free_port() -> int:
    """A TCP port nobody listens on right now."""
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
def served_hangar(workdir: Path, *, database: Path | None = None, **extra_env: str) -> Iterator[ServedHangar]:
    """Serve the embedded default on ``database`` (a migrated SQLite file), or on a fresh one
    migrated in ``workdir``."""
    env = clean_env(DATABASE_URL=f"sqlite:///{database or workdir / 'hangar.sqlite3'}", **extra_env)
    log_path = workdir / "serve.log"
    with log_path.open("w") as log:
        if database is None and _manage("migrate", "--noinput", env=env, log=log).wait(timeout=120) != 0:
            raise RuntimeError(f"migrate failed:\n{log_path.read_text()}")
        port = free_port()
        process = _manage("serve", "--port", str(port), env=env, log=log)
        served = ServedHangar(url=f"http://127.0.0.1:{port}", log_path=log_path)
        try:
            _wait_healthy(served.url, process, timeout=90)
            yield served
        except Exception as exc:
            raise AssertionError(f"{exc}\n--- server output ---\n{served.log()}") from exc
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
