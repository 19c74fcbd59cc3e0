"""Shared fixtures and helpers of the deployment tests: real sandboxes, builds made here as the
builder would make them (sources plus a venv by /usr/bin/python3), and a minimal ASGI client."""

import asyncio
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from apps.builds.models import Build
from apps.deployments.proxy import routes
from apps.deployments.proxy.app import proxy_application
from apps.notebooks.models import Notebook
from apps.runtime import registry
from apps.runtime.backends.local import LocalBackend

APPS_DIR = Path(__file__).resolve().parent / "apps"


@pytest.fixture
def runtime_root(settings):
    """A short root (the agent's unix socket path must fit in 108 bytes) and fast deploy timings."""
    root = Path(tempfile.mkdtemp(prefix="hdp-", dir="/tmp"))
    settings.RUNTIME_ROOT = str(root)
    settings.MEDIA_ROOT = str(root / "media")
    settings.DEPLOY_HEALTH_TIMEOUT_SECONDS = 30
    settings.DEPLOY_DRAIN_SECONDS = 0.1
    settings.DEPLOY_ROUTE_CACHE_SECONDS = 2.0
    settings.DEPLOY_BACKEND = "local"
    routes._local.clear()
    routes._last_request.clear()
    routes._last_written.clear()
    yield root
    routes._local.clear()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def backend(monkeypatch, runtime_root):
    """The real local backend; every workload is stopped afterwards."""
    real = LocalBackend()
    monkeypatch.setattr(registry, "get_backend", lambda: real)
    yield real
    run_root = runtime_root / "run"
    for run_dir in run_root.iterdir() if run_root.is_dir() else []:
        real.stop(run_dir.name)


@pytest.fixture(scope="module")
def plain_venv():
    """A venv made by /usr/bin/python3 with nothing installed (the stdlib apps need nothing)."""
    root = Path(tempfile.mkdtemp(prefix="hdv-", dir="/tmp"))
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip", str(root / "venv")], check=True)
    yield root / "venv"
    shutil.rmtree(root, ignore_errors=True)


def make_build(owner, *, app: str, env_path: Path, root: Path, notebook: Notebook | None = None, **fields) -> Build:
    """A successful build of ``app`` (a file in tests/apps) as the local builder leaves it."""
    if notebook is None:
        notebook = Notebook.objects.create(
            owner=owner, name="app", filename="app.ipynb", file="notebooks/app.ipynb", status="built"
        )
    source = root / "builds" / f"{notebook.pk}-{Build.objects.count() + 1}"
    source.mkdir(parents=True)
    shutil.copy(APPS_DIR / app, source / "main.py")
    (source / "requirements.txt").write_text("")
    values = {"status": Build.Status.SUCCESS, "source_path": str(source), "env_path": str(env_path)}
    values.update(fields)
    count = Build.objects.count() + 1
    return Build.objects.create(owner=owner, notebook=notebook, build_id=f"build-{notebook.pk}-{count}", **values)


@dataclass
class Answer:
    """A response collected from an ASGI app."""

    status: int
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""
    chunks: int = 0

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.decode().lower() == name.lower():
                return value.decode()
        return None

    def headers_named(self, name: str) -> list[str]:
        return [value.decode() for key, value in self.headers if key.decode().lower() == name.lower()]

    def json(self):
        return json.loads(self.body)


async def asgi_http(
    app,
    method: str,
    path: str,
    *,
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    body_chunks: list[bytes] | None = None,
    query: str = "",
) -> Answer:
    """Send one HTTP request to an ASGI app, as daphne would, and collect the response."""
    raw_headers = [(k.lower().encode(), v.encode()) for k, v in headers or []]
    if not any(name == b"host" for name, _value in raw_headers):
        raw_headers.insert(0, (b"host", b"testserver"))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": raw_headers,
        "client": ("203.0.113.7", 50000),
        "server": ("testserver", 80),
    }
    pieces = body_chunks if body_chunks is not None else [body]
    messages = [
        {"type": "http.request", "body": piece, "more_body": index < len(pieces) - 1}
        for index, piece in enumerate(pieces)
    ]

    async def receive():
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    answer = Answer(status=0)

    async def send(message):
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            answer.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            answer.body += message.get("body", b"")
            answer.chunks += 1

    await app(scope, receive, send)
    return answer


async def close_proxy_sessions() -> None:
    """Close the proxy's client session of the running loop (each asyncio.run has its own)."""
    session = proxy_application._sessions.pop(asyncio.get_running_loop(), None)
    if session is not None:
        await session.close()


def run(coroutine_factory):
    """Run an async scenario on a fresh loop and close the proxy's session afterwards."""

    async def scenario():
        try:
            return await coroutine_factory()
        finally:
            await close_proxy_sessions()

    return asyncio.run(scenario())
