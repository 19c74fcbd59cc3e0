"""What deployments need from the runtime: read-only mounts (the build's venv at /opt/venv) and
workloads that end with their command (as a container does). Real sandboxes where they run."""

import time
import uuid

import pytest

from apps.deployments.tests import support
from apps.runtime.backends import k8s_manifests, sandbox
from apps.runtime.images import ImageSource
from apps.runtime.spec import Phase, WorkloadSpec

runtime_root, backend = support.runtime_root, support.backend
real_sandbox = pytest.mark.skipif(not sandbox.bubblewrap_available(), reason="bubblewrap is not installed")


def spec_for(root, **fields) -> WorkloadSpec:
    workload_id = f"t-{uuid.uuid4().hex[:10]}"
    workspace = root / "ws" / workload_id
    workspace.mkdir(parents=True)
    return WorkloadSpec(
        id=workload_id, owner_id=1, kind="deployment", image="python:3.11", workspace=str(workspace), **fields
    )


def test_ro_mounts_become_read_only_binds(tmp_path):
    spec = WorkloadSpec(
        id="w",
        owner_id=1,
        kind="deployment",
        image="python:3.11",
        workspace=str(tmp_path),
        ro_mounts={"/opt/venv": "/srv/env"},
    )
    (tmp_path / "run").mkdir()
    argv = sandbox.bwrap_argv(spec, tmp_path / "run", ImageSource(image="python:3.11"))
    index = argv.index("/opt/venv")
    assert argv[index - 2 : index + 1] == ["--ro-bind", "/srv/env", "/opt/venv"]


def test_k8s_client_boundary_ro_mounts_are_read_only_host_paths(tmp_path):
    spec = WorkloadSpec(
        id="w",
        owner_id=1,
        kind="deployment",
        image="python:3.11",
        workspace=str(tmp_path),
        ro_mounts={"/opt/venv": "/srv/env"},
    )
    pod = k8s_manifests.pod_manifest(spec)
    assert {"name": "ro-0", "mountPath": "/opt/venv", "readOnly": True} in pod["spec"]["containers"][0]["volumeMounts"]
    assert {"name": "ro-0", "hostPath": {"path": "/srv/env", "type": "Directory"}} in pod["spec"]["volumes"]
    plain = k8s_manifests.pod_manifest(WorkloadSpec(id="w", owner_id=1, kind="x", image="python:3.11", workspace="/w"))
    assert [volume["name"] for volume in plain["spec"]["volumes"]] == ["workspace", "tmp"]


@real_sandbox
@pytest.mark.django_db
def test_a_read_only_mount_is_readable_not_writable(backend, runtime_root):
    shared = runtime_root / "env"
    shared.mkdir()
    (shared / "marker").write_text("from the build")
    spec = spec_for(runtime_root, ro_mounts={"/opt/venv": str(shared)})
    backend.start(spec)
    assert backend.exec(spec.id, ["cat", "/opt/venv/marker"], timeout=10) == (0, "from the build")
    code, output = backend.exec(spec.id, ["sh", "-c", "echo x > /opt/venv/marker"], timeout=10)
    assert code != 0 and "Read-only file system" in output
    assert (shared / "marker").read_text() == "from the build"


@real_sandbox
@pytest.mark.django_db
def test_a_workload_that_exits_with_its_command_ends_in_error(backend, runtime_root):
    spec = spec_for(runtime_root, command=("sh", "-c", "echo bye; sleep 2; exit 7"), exit_with_command=True)
    backend.start(spec)
    deadline = time.monotonic() + 10
    while backend.status(spec.id).phase == Phase.RUNNING and time.monotonic() < deadline:
        time.sleep(0.05)
    # The app's exit is an error with its code, however often it is observed afterwards.
    for _ in range(2):
        status = backend.status(spec.id)
        assert status.phase == Phase.ERROR and status.reason in ("Exited with code 7", "Vanished"), status
    assert spec.id not in backend.list_workloads()
    messages = [entry.message for entry in backend.logs(spec.id)]
    assert "bye" in messages and "Command exited with status 7" in messages


@real_sandbox
@pytest.mark.django_db
def test_without_exit_with_command_the_sandbox_stays_up(backend, runtime_root):
    spec = spec_for(runtime_root, command=("sh", "-c", "exit 0"))
    backend.start(spec)
    time.sleep(0.5)
    assert backend.status(spec.id).phase == Phase.RUNNING
