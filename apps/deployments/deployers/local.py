"""The local deployer: each revision is a sandbox of the runtime, published on a host port.

The sandbox gets a fresh copy of the build's sources as ``/workspace`` and the build's Python
environment read-only at ``/opt/venv``, runs ``/opt/venv/bin/python main.py`` with ``$PORT`` and
``$HANGAR_BASE_PATH``, and ends when the app exits (as a container does). Hangar's proxy forwards
``/apps/<service_name>/`` to the published port.
"""

import contextlib
import http.client
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

from apps.deployments.deployers.base import APP_PORT, Deployer, DeployFailed, Revision, app_env
from apps.deployments.quantities import parse_cpu, parse_memory
from apps.runtime import registry
from apps.runtime.errors import RuntimeBackendError, WorkloadNotFound
from apps.runtime.spec import LogEntry, NetworkPolicy, Phase, WorkloadSpec
from apps.runtime.workspaces import remove_workspace, workspace_dir

if TYPE_CHECKING:
    from apps.deployments.models import Deployment

VENV_PATH = "/opt/venv"
WORKLOAD_PREFIX = "dep-"
HEALTH_POLL_SECONDS = 0.05
# Threads count against the pids limit, and app servers (Streamlit, gunicorn) start many.
APP_PIDS = 512
LOG_TAIL_ON_FAILURE = 60
# What the in-sandbox agent logs when the app's process ends.
EXITED_MARKER = "Command exited with status"


def workload_id(deployment: "Deployment") -> str:
    """The runtime workload of one revision (``dep-<deployment id>``)."""
    return f"{WORKLOAD_PREFIX}{deployment.pk}"


def probe(port: int, *, timeout: float = 2.0) -> int | None:
    """The status of ``GET /`` on 127.0.0.1:``port``, or None when nothing answers."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", "/", headers={"User-Agent": "hangar-health"})
        return connection.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


class LocalDeployer(Deployer):
    """Revisions as runtime workloads (bubblewrap sandboxes on this host)."""

    name = "local"

    def spec(self, deployment: "Deployment", workspace: Path) -> WorkloadSpec:
        """The workload of ``deployment``: its limits, the venv read-only, the app as the command."""
        build = deployment.build
        if not build.env_path or not Path(build.env_path).is_dir():
            raise DeployFailed(f"Build {build.build_id} has no Python environment on this host")
        return WorkloadSpec(
            id=workload_id(deployment),
            owner_id=deployment.owner_id,
            kind="deployment",
            image=settings.DEPLOY_IMAGE,
            workspace=str(workspace),
            command=(f"{VENV_PATH}/bin/python", "main.py"),
            env=app_env(deployment),
            ro_mounts={VENV_PATH: str(build.env_path)},
            cpu=parse_cpu(deployment.cpu),
            memory_bytes=parse_memory(deployment.memory),
            pids=APP_PIDS,
            # egress is what gets the sandbox a network namespace whose port can be published.
            network=NetworkPolicy.EGRESS,
            port=APP_PORT,
            exit_with_command=True,
        )

    def _fresh_workspace(self, deployment: "Deployment") -> Path:
        """A new copy of the build's sources: every start begins from the build, like an image."""
        source = Path(deployment.build.source_path or "")
        if not (source / "main.py").is_file():
            raise DeployFailed(f"Build {deployment.build.build_id} has no main.py on this host")
        key = str(deployment.pk)
        remove_workspace("deployment", key)
        workspace = workspace_dir("deployment", key)
        shutil.copytree(source, workspace, dirs_exist_ok=True, symlinks=True)
        return workspace

    def start(self, deployment: "Deployment") -> Revision:
        """Start the sandbox and wait until ``GET /`` answers (bounded by the health timeout)."""
        backend = registry.get_backend()
        wid = workload_id(deployment)
        self._stop_quietly(wid)
        try:
            spec = self.spec(deployment, self._fresh_workspace(deployment))
            state = backend.start(spec)
        except RuntimeBackendError as exc:
            log = self._log_text(wid)
            self._stop_quietly(wid)
            if EXITED_MARKER in log:
                # The app exited so fast that the sandbox ended while its network was being set up.
                raise DeployFailed("The app stopped before it answered", log) from exc
            raise DeployFailed(f"The app could not be started: {exc.user_message}", log or exc.detail) from exc
        port = state.get("host_port")
        if not port:
            self._stop_quietly(wid)
            raise DeployFailed("The runtime did not publish the app's port")
        self._wait_healthy(wid, int(port))
        return Revision(
            target=f"http://127.0.0.1:{port}",
            state={"deployer": self.name, "workload_id": wid, "host_port": int(port)},
        )

    def _wait_healthy(self, wid: str, port: int) -> None:
        backend = registry.get_backend()
        timeout = settings.DEPLOY_HEALTH_TIMEOUT_SECONDS
        deadline = time.monotonic() + timeout
        while True:
            observed = backend.status(wid)
            if observed.phase != Phase.RUNNING:
                self._fail(wid, f"The app stopped before it answered ({observed.reason or observed.phase})")
            status = probe(port)
            if status is not None and status < 500:
                return
            if time.monotonic() > deadline:
                self._fail(wid, f"The app did not answer GET / on port {APP_PORT} within {timeout} s")
            time.sleep(HEALTH_POLL_SECONDS)

    def _fail(self, wid: str, message: str) -> None:
        log = self._log_text(wid)
        self._stop_quietly(wid)
        raise DeployFailed(message, log)

    def _log_text(self, wid: str) -> str:
        try:
            entries = registry.get_backend().logs(wid, tail=LOG_TAIL_ON_FAILURE)
        except RuntimeBackendError:
            return ""
        return "\n".join(entry.message for entry in entries if entry.message != "Agent ready")

    @staticmethod
    def _stop_quietly(wid: str) -> None:
        with contextlib.suppress(WorkloadNotFound, RuntimeBackendError):
            registry.get_backend().stop(wid)

    def stop(self, deployment: "Deployment") -> None:
        """Stop the sandbox; none of the app's processes remain."""
        try:
            registry.get_backend().stop(workload_id(deployment))
        except WorkloadNotFound:
            return

    def is_running(self, deployment: "Deployment") -> tuple[bool, str]:
        """Running while the sandbox (and so the app, which it ends with) is alive."""
        observed = registry.get_backend().status(workload_id(deployment))
        return observed.phase == Phase.RUNNING, observed.reason or str(observed.phase)

    def logs(self, deployment: "Deployment", *, tail: int = 100) -> list[LogEntry]:
        """The sandbox's log: the app's output and the agent's start and exit lines."""
        try:
            return registry.get_backend().logs(workload_id(deployment), tail=tail)
        except WorkloadNotFound:
            return []
