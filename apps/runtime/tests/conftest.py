"""Real sandboxes for runtime tests: a short runtime root, and workloads that are always stopped."""

import shutil
import tempfile
import uuid
from pathlib import Path

import pytest

from apps.runtime.backends.local import LocalBackend
from apps.runtime.spec import NetworkPolicy, WorkloadSpec


@pytest.fixture
def runtime_root(settings):
    """A short folder (unix socket paths are limited to 108 bytes) removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="hrt-", dir="/tmp"))
    settings.RUNTIME_ROOT = str(root)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def backend(runtime_root, db) -> LocalBackend:
    """The local backend, on the test's runtime root."""
    return LocalBackend()


@pytest.fixture
def start(backend, runtime_root):
    """Start a workload from keyword overrides; every workload is stopped at teardown."""
    started: list[str] = []

    def _start(**overrides) -> WorkloadSpec:
        workload_id = overrides.pop("id", f"t-{uuid.uuid4().hex[:12]}")
        workspace = runtime_root / "ws" / workload_id
        workspace.mkdir(parents=True, exist_ok=True)
        fields = {"owner_id": 1, "kind": "test", "image": "python:3.11-slim", "network": NetworkPolicy.NONE}
        spec = WorkloadSpec(id=workload_id, workspace=str(workspace), **{**fields, **overrides})
        backend.start(spec)
        started.append(workload_id)
        return spec

    yield _start
    for workload_id in started:
        backend.stop(workload_id)
