"""The local builder for real: pip runs inside a bubblewrap sandbox with egress, the venv is used
from another sandbox, the cache is reused, pip's errors and a timeout fail the build. No fakes.

One module-scoped cache holds the six environment, so the module pip-installs it once.
"""

import asyncio
import shutil
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection

from apps.accounts.tokens import tokens_for
from apps.builds import logs, services
from apps.builds.builders import cache
from apps.builds.builders.local import LocalBuilder
from apps.builds.models import Build
from apps.builds.notebooks import write_sources
from apps.builds.tests.conftest import make_notebook
from apps.runtime import registry
from apps.runtime.backends import sandbox
from apps.runtime.backends.local import LocalBackend
from apps.runtime.spec import NetworkPolicy, WorkloadSpec
from config.asgi import application

pytestmark = pytest.mark.skipif(not sandbox.bubblewrap_available(), reason="bubblewrap is not installed")

SIX = ("six==1.16.0",)
MISSING = ("hangar-no-such-package-xyz==0.0.1",)
BROWSER = [(b"host", b"localhost"), (b"origin", b"http://localhost")]


@pytest.fixture(scope="module")
def module_cache():
    """One environment cache for the whole module (pip runs once per requirement set)."""
    path = Path(tempfile.mkdtemp(prefix="hbc-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(autouse=True)
def _shared_cache(settings, module_cache):
    settings.BUILD_CACHE_ROOT = module_cache


@pytest.fixture
def backend(monkeypatch, _runtime_root):
    """The real local backend; every workload is stopped afterwards."""
    real = LocalBackend()
    monkeypatch.setattr(registry, "get_backend", lambda: real)
    yield real
    run_root = _runtime_root / "run"
    for run_dir in run_root.iterdir() if run_root.is_dir() else []:
        real.stop(run_dir.name)


def run_build(owner, packages: tuple[str, ...], name: str = "app"):
    notebook = make_notebook(owner, packages=packages, name=name)
    build = services.build_create(owner=owner, notebook=notebook)
    started = time.monotonic()
    build = services.build_execute(build=build)
    return build, time.monotonic() - started


@pytest.fixture
def six_build(user, user_client, backend):
    """A build of six triggered over HTTP (a cache miss the first time in this module). Celery runs
    eagerly here, so the build has ended when the trigger answers."""
    notebook = make_notebook(user, packages=SIX)
    triggered = user_client.post(f"/api/v1/builds/trigger/{notebook.pk}")
    assert triggered.status_code == 201 and triggered.json()["status"] == "queued"
    body = user_client.get(f"/api/v1/builds/{triggered.json()['build_id']}").json()
    assert body["status"] == "success", body
    assert body["started_at"] and body["finished_at"] and body["error_message"] is None
    log = user_client.get(body["log_url"]).json()
    assert log["complete"] is True and log["lines"]
    return Build.objects.get(pk=body["id"])


def import_in_sandbox(backend, env_path: str, code: str) -> tuple[int, str]:
    """Run ``code`` with the built venv's python in a fresh sandbox (no network), as a deployment would."""
    workload = f"t-{uuid.uuid4().hex[:10]}"
    workspace = Path(tempfile.mkdtemp(prefix="hbw-"))
    spec = WorkloadSpec(
        id=workload,
        owner_id=1,
        kind="test",
        image="python:3.11-slim",
        workspace=str(workspace),
        mounts={"/opt/venv": env_path},
        network=NetworkPolicy.NONE,
    )
    backend.start(spec)
    try:
        return backend.exec(workload, ["/opt/venv/bin/python", "-c", code], timeout=60)
    finally:
        backend.stop(workload)
        shutil.rmtree(workspace, ignore_errors=True)


@pytest.mark.django_db(transaction=True)
def test_six_builds_a_real_venv_that_imports_in_a_sandbox(user, backend, six_build):
    build = six_build
    assert build.cache_key == cache.cache_key("six==1.16.0\n")
    assert Path(build.env_path, cache.COMPLETE_MARKER).is_file()
    assert Path(build.env_path, "pyvenv.cfg").read_text().count("/usr/bin") >= 1
    # Built from a copy of the base environment (a bare venv with pip), itself a cache entry.
    assert cache.is_complete(cache.cache_key("")) and Path(build.env_path, "bin", "pip").exists()
    lines = logs.read_lines(build.build_id)
    assert any("six" in line for line in lines), lines
    if not build.cache_hit:
        # The pip run itself was logged line by line.
        assert any("Successfully installed six-1.16.0" in line for line in lines), lines

    exit_code, output = import_in_sandbox(
        backend, build.env_path, "import six, sys; print(six.__version__, sys.prefix)"
    )
    assert exit_code == 0, output
    assert output.split() == ["1.16.0", "/opt/venv"]
    # The build workload itself is gone.
    assert build.build_id not in backend.list_workloads()
    assert not list(Path(cache.root()).glob(".tmp-*"))


@pytest.mark.django_db(transaction=True)
def test_second_build_with_the_same_requirements_is_a_fast_cache_hit(user, backend, six_build):
    # Another notebook with the same requirements (its generated requirements.txt differs in its
    # header comment, which does not change the key).
    second, elapsed = run_build(user, SIX, name="another")
    assert second.status == "success", second.error_message
    assert second.cache_hit is True
    assert second.cache_key == six_build.cache_key and second.env_path == six_build.env_path
    assert elapsed < 3, elapsed
    assert any("Cache hit" in line for line in logs.read_lines(second.build_id))


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_unknown_package_fails_with_pips_error_streamed_over_the_socket(user, backend):
    notebook = await sync_to_async(make_notebook)(user, packages=MISSING)
    build = await sync_to_async(services.build_create)(owner=user, notebook=notebook)
    token = await sync_to_async(lambda: tokens_for(user).access)()
    socket = WebsocketCommunicator(application, f"/api/v1/ws/builds/{build.pk}/logs?token={token}", headers=BROWSER)
    connected, _ = await socket.connect()
    assert connected
    assert (await socket.receive_json_from(timeout=5))["status"] == "queued"

    running = asyncio.ensure_future(sync_to_async(services.build_execute, thread_sensitive=False)(build=build))
    messages = []
    while not messages or messages[-1]["type"] != "complete":
        messages.append(await socket.receive_json_from(timeout=120))
    result = await running
    assert (await socket.receive_output(timeout=5))["type"] == "websocket.close"

    assert result.status == "failed"
    assert "No matching distribution found for hangar-no-such-package-xyz" in result.error_message
    assert result.error_message.startswith("pip install failed (exit code 1)")
    streamed = [m["line"] for m in messages if m["type"] == "log"]
    assert any("No matching distribution found" in line for line in streamed), streamed
    numbers = [m["n"] for m in messages if m["type"] == "log"]
    assert numbers == list(range(len(numbers)))  # every line once, in order
    assert messages[-1]["status"] == "failed" and "No matching distribution" in messages[-1]["error_message"]
    assert "building" in [m.get("status") for m in messages if m["type"] == "status"]

    log_file = await sync_to_async(logs.read_lines)(build.build_id)
    assert log_file == streamed
    assert not await sync_to_async(cache.is_complete)(result.cache_key)
    assert build.build_id not in backend.list_workloads()


@pytest.mark.django_db(transaction=True)
def test_a_build_past_its_time_limit_is_killed_and_fails(settings, user, backend):
    settings.BUILD_TIMEOUT_SECONDS = 1
    # A requirement set of its own (a large wheel), so nothing can make it finish within 1 s.
    build, elapsed = run_build(user, ("numpy==1.26.4",))
    assert build.status == "failed"
    assert build.error_message == "Build timed out after 1 s"
    assert elapsed < 30
    assert build.build_id not in backend.list_workloads()
    assert not cache.is_complete(build.cache_key)
    assert not list(Path(cache.root()).glob(f".tmp-*-{build.build_id}"))


def test_requirements_are_normalised_for_the_cache_key():
    messy = "# header\n\nSix==1.16.0   # pinned\nrequests>=2  \nsix==1.16.0\n"
    assert cache.normalise_requirements(messy) == "requests>=2\nSix==1.16.0\nsix==1.16.0\n"
    assert cache.cache_key("six==1.16.0\n") == cache.cache_key("# generated\nsix==1.16.0 # pin\n\n")
    assert cache.cache_key("six==1.16.0\n") != cache.cache_key("six==1.15.0\n")
    assert len(cache.cache_key("")) == 64


@pytest.mark.django_db(transaction=True)
def test_two_builds_of_the_same_new_requirements_run_pip_once(user, backend):
    """The builder itself, twice at once (the service's status writes are tested elsewhere; SQLite's
    shared in-memory test database cannot take concurrent writers)."""
    builds = []
    for n in range(2):
        build = services.build_create(owner=user, notebook=make_notebook(user, packages=("six==1.15.0",), name=f"t{n}"))
        source = logs.build_dir(build.build_id) / "src"
        write_sources(notebook=build.notebook, dest=source)
        build.source_path = str(source)
        builds.append(build)

    def run(build):
        try:
            return LocalBuilder().build(build, logs.BuildLog(build_pk=build.pk, build_id=build.build_id))
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.map(run, builds)

    assert first.ok and second.ok, (first.error_message, second.error_message)
    assert first.env_path == second.env_path
    # One ran pip; the other waited on the key's lock and then reused the result.
    assert sorted([first.cache_hit, second.cache_hit]) == [False, True]
    installed = ["Successfully installed six-1.15.0" in logs.read_lines(b.build_id) for b in builds]
    assert sorted(installed) == [False, True]
