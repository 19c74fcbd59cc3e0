"""The Kubernetes runtime backend: each workload is a Pod, a workspace PVC, a Service and a NetworkPolicy.

It talks to a cluster only through the official ``kubernetes`` client, and only when a method is
called: importing or constructing it never opens a connection, so a registered cluster with a
broken kubeconfig cannot stop the platform from starting. The manifests come from
:mod:`apps.runtime.backends.k8s_manifests`; this module sends them and reads state back.

There is no in-pod agent here: terminals and commands go through the API server's exec stream.
"""

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cached_property
from math import ceil
from typing import Any

import kubernetes.stream
import yaml
from django.conf import settings
from kubernetes import client, config
from kubernetes.client import ApiException
from kubernetes.config import ConfigException
from kubernetes.utils import parse_quantity
from urllib3.exceptions import HTTPError
from websocket import WebSocketException

from apps.runtime.backends import k8s_manifests as manifests
from apps.runtime.base import RuntimeBackend
from apps.runtime.errors import ImageUnavailable, RuntimeBackendError, WorkloadNotFound
from apps.runtime.spec import LogEntry, Metrics, Phase, PtyStream, WorkloadSpec, WorkloadStatus

logger = logging.getLogger(__name__)

ERROR_CHANNEL = 3
RESIZE_CHANNEL = 4
# Every call but the streaming ones gets a deadline: a hung API server must fail a task, not
# hold it forever.
API_TIMEOUT = 30
# How long stop() waits for the pod to be gone before it gives up (its grace period is 5 s).
STOP_TIMEOUT = 30.0
STOP_POLL = 0.5
# A blocking PTY read wakes up this often to notice that the shell has exited.
PTY_POLL = 1.0

# distribution/reference's grammar: [domain[:port]/]path[/path...][:tag][@digest].
_DOMAIN = (
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:]+\])"
)
_PATH = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_REFERENCE = re.compile(
    rf"^(?:{_DOMAIN}(?::[0-9]+)?/)?{_PATH}(?:/{_PATH})*"
    r"(?::[\w][\w.-]{0,127})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$"
)
_MAX_IMAGE_NAME = 255

# Waiting reasons that never resolve on their own: reported as errors, so nothing stays pending.
_FATAL_WAITING = {
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
    "CreateContainerConfigError",
    "CreateContainerError",
}

# Prefer a detachable tmux session (so a dropped terminal can reattach), then bash, then sh. The
# session name arrives as "$1", never inside the script, so it cannot inject shell code.
_PTY_SCRIPT = (
    'if command -v tmux >/dev/null 2>&1; then exec tmux new-session -A -s "$1"; fi; '
    "if command -v bash >/dev/null 2>&1; then exec bash -l; fi; exec sh -l"
)
# Counts the container's processes (minus the probe's own sh, ls and wc) and the workspace's size.
_USAGE_PROBE = "du -sk /workspace 2>/dev/null | cut -f1; ls -d /proc/[0-9]* | wc -l"
_PROBE_PROCESSES = 3


# --- errors -----------------------------------------------------------------------------------


@contextmanager
def _cluster_errors(action: str, workload_id: str = "") -> Iterator[None]:
    """Turn every client failure into RuntimeBackendError; a 404 becomes WorkloadNotFound."""
    try:
        yield
    except ApiException as exc:
        if exc.status == 404 and workload_id:
            raise WorkloadNotFound(workload_id) from exc
        raise RuntimeBackendError(
            f"The Kubernetes cluster could not {action}.",
            detail=f"{action}: HTTP {exc.status} {exc.reason}: {exc.body}",
        ) from exc
    except (HTTPError, OSError, WebSocketException) as exc:
        raise RuntimeBackendError("The Kubernetes cluster could not be reached.", detail=f"{action}: {exc!r}") from exc


def _is_conflict(exc: ApiException) -> bool:
    return exc.status == 409


# --- pure helpers -----------------------------------------------------------------------------


def is_image_reference(image: str) -> bool:
    """Whether ``image`` parses as a Docker image reference (``registry:5000/team/app:1.2@sha256:…``)."""
    if not _IMAGE_REFERENCE.match(image):
        return False
    name = image.split("@", 1)[0]
    if ":" in name.rsplit("/", 1)[-1]:  # a tag, not a registry port
        name = name.rsplit(":", 1)[0]
    return len(name) <= _MAX_IMAGE_NAME


def _container_state(pod: Any) -> Any:
    statuses = (pod.status and pod.status.container_statuses) or []
    for status in statuses:
        if status.name == manifests.CONTAINER_NAME:
            return status.state
    return statuses[0].state if statuses else None


def pod_status(pod: Any) -> WorkloadStatus:
    """Map a V1Pod to a WorkloadStatus (``Failed`` carries the container's reason, e.g. ``OOMKilled``)."""
    status = pod.status
    phase = status.phase if status else None
    started_at = status.start_time if status else None
    state = _container_state(pod)
    if pod.metadata and pod.metadata.deletion_timestamp:
        return WorkloadStatus(Phase.STOPPED, reason="Stopping", started_at=started_at)
    if phase == "Running":
        return WorkloadStatus(Phase.RUNNING, started_at=started_at)
    if phase == "Succeeded":
        reason = (state and state.terminated and state.terminated.reason) or "Completed"
        return WorkloadStatus(Phase.STOPPED, reason=reason, started_at=started_at)
    if phase == "Failed":
        reason = (state and state.terminated and state.terminated.reason) or status.reason or "Error"
        return WorkloadStatus(Phase.ERROR, reason=reason, started_at=started_at)
    if phase == "Pending" or phase is None:
        waiting = state and state.waiting and state.waiting.reason
        if waiting in _FATAL_WAITING:
            return WorkloadStatus(Phase.ERROR, reason=waiting)
        return WorkloadStatus(Phase.PENDING, reason=waiting or "")
    # "Unknown": the node stopped reporting; the pod's processes may or may not still exist.
    return WorkloadStatus(Phase.ERROR, reason=status.reason or "Unknown", started_at=started_at)


_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_timestamp(text: str) -> datetime | None:
    """An RFC 3339 timestamp (nanoseconds allowed) as an aware datetime, or None."""
    try:
        parsed = datetime.fromisoformat(_FRACTION.sub(r"\1", text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_log_line(line: str) -> LogEntry:
    """A ``timestamps=True`` log line (``<RFC3339> <message>``) as a LogEntry."""
    stamp, _, message = line.partition(" ")
    timestamp = parse_timestamp(stamp)
    if timestamp is None:  # a line without a timestamp: keep all of it
        return LogEntry(timestamp=datetime.now(UTC), message=line)
    return LogEntry(timestamp=timestamp, message=message)


def parse_logs(text: str, since: datetime | None = None) -> list[LogEntry]:
    """Every line of a log read, dropping those not after ``since`` (since_seconds is coarser)."""
    entries = [parse_log_line(line) for line in text.splitlines() if line]
    if since is not None:
        since = since if since.tzinfo else since.replace(tzinfo=UTC)
        entries = [entry for entry in entries if entry.timestamp > since]
    return entries


def cpu_cores(quantity: str) -> float:
    """A CPU quantity (``"250m"``, ``"12345n"``, ``"2"``) in cores."""
    return float(parse_quantity(quantity))


def memory_bytes(quantity: str) -> int:
    """A memory quantity (``"64Mi"``, ``"123456Ki"``, ``"1G"``) in bytes."""
    return int(parse_quantity(quantity))


def exec_exit_code(status_text: str | bytes) -> tuple[int, str]:
    """The exit code from the exec error channel's Status, and a message to add to the output.

    ``{"status": "Success"}`` is 0; a ``NonZeroExitCode`` failure carries the code as an
    ``ExitCode`` cause. Any other failure (say the program does not exist) never ran the command.
    """
    if isinstance(status_text, bytes):
        status_text = status_text.decode("utf-8", "replace")
    try:
        status = json.loads(status_text) if status_text else {}
    except ValueError:
        status = {}
    if status.get("status") == "Success":
        return 0, ""
    for cause in (status.get("details") or {}).get("causes") or []:
        if cause.get("reason") == "ExitCode":
            return int(cause.get("message", 1)), ""
    message = status.get("message") or "the command ended without an exit status"
    return (127 if "not found" in message else 126), message


def _since_seconds(since: datetime | None) -> int | None:
    if since is None:
        return None
    since = since if since.tzinfo else since.replace(tzinfo=UTC)
    return max(1, ceil((datetime.now(UTC) - since).total_seconds()))


def _iter_lines(chunks: Iterator[bytes]) -> Iterator[str]:
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            yield line.decode("utf-8", "replace")
    if buffer:
        yield buffer.decode("utf-8", "replace")


# --- the PTY ----------------------------------------------------------------------------------


class KubernetesPty(PtyStream):
    """A terminal over an exec WebSocket (``WSClient``), made async by running its calls in threads."""

    def __init__(self, ws: Any) -> None:
        self._ws = ws

    def _read_blocking(self) -> bytes | None:
        while True:
            data = self._ws.read_stdout(timeout=PTY_POLL)
            if data:
                return data
            if not self._ws.is_open():
                return None

    async def read(self) -> bytes | None:
        """The next chunk of terminal output; None once the shell has exited."""
        with _cluster_errors("read from the terminal"):
            return await asyncio.to_thread(self._read_blocking)

    async def write(self, data: bytes) -> None:
        """Send keystrokes."""
        with _cluster_errors("write to the terminal"):
            await asyncio.to_thread(self._ws.write_stdin, data)

    async def resize(self, cols: int, rows: int) -> None:
        """Change the terminal size through the exec protocol's resize channel."""
        message = json.dumps({"Width": cols, "Height": rows})
        with _cluster_errors("resize the terminal"):
            await asyncio.to_thread(self._ws.write_channel, RESIZE_CHANNEL, message)

    async def close(self) -> None:
        """Close the stream. A tmux session survives it and the next open_pty reattaches."""
        await asyncio.to_thread(self._ws.close)


# --- the backend ------------------------------------------------------------------------------


class KubernetesBackend(RuntimeBackend):
    """Runs each workload as a Pod in one namespace of a cluster.

    ``kubeconfig`` (a dict, or its YAML text) selects the cluster; without it the backend uses the
    in-cluster service account, or else ``~/.kube/config``. Nothing is loaded until first use.
    """

    name = "kubernetes"

    def __init__(self, kubeconfig: dict | str | None = None, namespace: str | None = None) -> None:
        if isinstance(kubeconfig, str):
            try:
                kubeconfig = yaml.safe_load(kubeconfig)
            except yaml.YAMLError as exc:
                raise RuntimeBackendError("The cluster's kubeconfig is not valid YAML.", detail=str(exc)) from exc
            if not isinstance(kubeconfig, dict):
                raise RuntimeBackendError("The cluster's kubeconfig is not a kubeconfig document.")
        self._kubeconfig = kubeconfig
        self.namespace = namespace or getattr(settings, "KUBERNETES_NAMESPACE", "hangar-workloads")
        self.storage_class = getattr(settings, "KUBERNETES_STORAGE_CLASS", None)

    @classmethod
    def from_cluster_kubeconfig(cls, kubeconfig_text: str, namespace: str | None = None) -> "KubernetesBackend":
        """A backend for a registered cluster, from its (decrypted) kubeconfig text."""
        return cls(kubeconfig=kubeconfig_text, namespace=namespace)

    # The clients are built on first use, never in __init__: building reads files and may run a
    # kubeconfig's exec credential plugin.
    @cached_property
    def _api_client(self) -> client.ApiClient:
        try:
            if self._kubeconfig is not None:
                return config.new_client_from_config_dict(config_dict=self._kubeconfig, persist_config=False)
            configuration = client.Configuration()
            try:
                config.load_incluster_config(client_configuration=configuration)
            except ConfigException:
                config.load_kube_config(client_configuration=configuration, persist_config=False)
            return client.ApiClient(configuration)
        except (ConfigException, OSError, ValueError, TypeError, KeyError) as exc:
            raise RuntimeBackendError("The Kubernetes cluster is not configured correctly.", detail=repr(exc)) from exc

    @cached_property
    def _core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self._api_client)

    @cached_property
    def _networking(self) -> client.NetworkingV1Api:
        return client.NetworkingV1Api(self._api_client)

    @cached_property
    def _custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self._api_client)

    # --- lifecycle ----------------------------------------------------------------------------

    def check_image(self, image: str) -> None:
        """Accept any well-formed image reference: the cluster pulls images itself."""
        if not is_image_reference(image):
            raise ImageUnavailable(image, "it is not a valid container image reference")

    def start(self, spec: WorkloadSpec) -> dict:
        """Create the workspace PVC, NetworkPolicy, Service and Pod; return the JSON state."""
        pvc = manifests.pvc_manifest(spec, self.storage_class)
        self._create("workspace volume", self._core.create_namespaced_persistent_volume_claim, pvc)
        # The policy exists before the pod does, so the pod never runs with an open network.
        self._apply_network_policy(manifests.network_policy_manifest(spec))
        service = manifests.service_manifest(spec)
        if service is not None:
            self._create("service", self._core.create_namespaced_service, service)
        self._create("pod", self._core.create_namespaced_pod, manifests.pod_manifest(spec))
        return {
            "backend": self.name,
            "namespace": self.namespace,
            "pod": manifests.object_name(spec.id),
            "pvc": manifests.pvc_name(spec.id),
            "service": service["metadata"]["name"] if service else None,
        }

    def _create(self, what: str, create: Any, body: dict) -> None:
        with _cluster_errors(f"create the workload's {what}"):
            try:
                create(namespace=self.namespace, body=body, _request_timeout=API_TIMEOUT)
            except ApiException as exc:
                if not _is_conflict(exc):
                    raise
                # Already there: start is safe to run twice (a retried task, a restart).

    def _apply_network_policy(self, body: dict) -> None:
        with _cluster_errors("create the workload's network policy"):
            try:
                self._networking.create_namespaced_network_policy(
                    namespace=self.namespace, body=body, _request_timeout=API_TIMEOUT
                )
            except ApiException as exc:
                if not _is_conflict(exc):
                    raise
                # Unlike the other objects, a stale policy is a security problem (the template's
                # network may have changed from egress to none), so an existing one is replaced.
                self._networking.replace_namespaced_network_policy(
                    name=body["metadata"]["name"], namespace=self.namespace, body=body, _request_timeout=API_TIMEOUT
                )

    def stop(self, workload_id: str) -> None:
        """Delete the pod, its Service and its NetworkPolicy; keep the workspace PVC."""
        name = manifests.object_name(workload_id)
        self._delete("pod", self._core.delete_namespaced_pod, name)
        self._delete("service", self._core.delete_namespaced_service, name)
        # The policy goes last, once the pod is gone: removing it while the pod is still
        # terminating would leave its processes unrestricted for the grace period.
        self._wait_gone(workload_id)
        self._delete("network policy", self._networking.delete_namespaced_network_policy, name)

    def _delete(self, what: str, delete: Any, name: str) -> None:
        try:
            with _cluster_errors(f"delete the workload's {what}", workload_id=name):
                delete(name=name, namespace=self.namespace, _request_timeout=API_TIMEOUT)
        except WorkloadNotFound:
            pass  # already gone: stopping twice is fine

    def _wait_gone(self, workload_id: str) -> None:
        deadline = time.monotonic() + STOP_TIMEOUT
        while True:
            try:
                self._read_pod(workload_id)
            except WorkloadNotFound:
                return
            if time.monotonic() >= deadline:
                raise RuntimeBackendError(
                    "The workload did not stop in time.", detail=f"pod for {workload_id} still exists"
                )
            time.sleep(STOP_POLL)

    def delete_workspace(self, workload_id: str) -> None:
        """Delete the workload's workspace PVC (and with it, usually, the volume's data)."""
        delete = self._core.delete_namespaced_persistent_volume_claim
        self._delete("workspace volume", delete, manifests.pvc_name(workload_id))

    def status(self, workload_id: str) -> WorkloadStatus:
        """The pod's phase as a Phase; a pod that no longer exists is stopped with ``Vanished``."""
        try:
            pod = self._read_pod(workload_id)
        except WorkloadNotFound:
            return WorkloadStatus(Phase.STOPPED, reason="Vanished")
        return pod_status(pod)

    def _read_pod(self, workload_id: str) -> Any:
        with _cluster_errors("read the workload", workload_id):
            return self._core.read_namespaced_pod(
                name=manifests.object_name(workload_id), namespace=self.namespace, _request_timeout=API_TIMEOUT
            )

    def list_workloads(self) -> list[str]:
        """Ids of every Hangar pod in the namespace that is not being deleted, stopped ones included."""
        with _cluster_errors("list workloads"):
            pods = self._core.list_namespaced_pod(
                namespace=self.namespace,
                label_selector=f"{manifests.MANAGED_BY_LABEL}={manifests.MANAGED_BY}",
                _request_timeout=API_TIMEOUT,
            )
        ids = []
        for pod in pods.items:
            if pod.metadata.deletion_timestamp:
                continue
            annotations = pod.metadata.annotations or {}
            labels = pod.metadata.labels or {}
            ids.append(annotations.get(manifests.WORKLOAD_ANNOTATION) or labels.get(manifests.WORKLOAD_LABEL))
        return [workload_id for workload_id in ids if workload_id]

    # --- logs ---------------------------------------------------------------------------------

    def logs(self, workload_id: str, *, tail: int = 100, since: datetime | None = None) -> list[LogEntry]:
        """The last ``tail`` lines of the container's log, each with its kubelet timestamp."""
        try:
            with _cluster_errors("read the workload's logs", workload_id):
                text = self._core.read_namespaced_pod_log(
                    name=manifests.object_name(workload_id),
                    namespace=self.namespace,
                    container=manifests.CONTAINER_NAME,
                    tail_lines=tail,
                    since_seconds=_since_seconds(since),
                    timestamps=True,
                    _request_timeout=API_TIMEOUT,
                )
        except RuntimeBackendError as exc:
            if "waiting to start" in exc.detail:  # 400 while the image is pulled: no logs yet
                return []
            raise
        return parse_logs(text, since)

    async def follow_logs(self, workload_id: str) -> AsyncIterator[LogEntry]:
        """New log lines as the kubelet writes them, until the container exits."""
        with _cluster_errors("follow the workload's logs", workload_id):
            response = await asyncio.to_thread(self._open_log_stream, workload_id)
        lines = _iter_lines(response.stream(decode_content=True))
        try:
            while True:
                with _cluster_errors("follow the workload's logs", workload_id):
                    line = await asyncio.to_thread(next, lines, None)
                if line is None:
                    return
                if line:
                    yield parse_log_line(line)
        finally:
            # Unblocks the reading thread when the consumer stops early (a closed socket).
            response.close()

    def _open_log_stream(self, workload_id: str) -> Any:
        return self._core.read_namespaced_pod_log(
            name=manifests.object_name(workload_id),
            namespace=self.namespace,
            container=manifests.CONTAINER_NAME,
            follow=True,
            timestamps=True,
            _preload_content=False,
        )

    # --- exec and terminals -------------------------------------------------------------------

    def _exec_stream(self, workload_id: str, command: list[str], *, tty: bool) -> Any:
        return kubernetes.stream.stream(
            self._core.connect_get_namespaced_pod_exec,
            manifests.object_name(workload_id),
            self.namespace,
            container=manifests.CONTAINER_NAME,
            command=command,
            stderr=True,
            stdin=tty,
            stdout=True,
            tty=tty,
            _preload_content=False,
            # A terminal gets raw bytes: decoding each frame alone would break multi-byte characters.
            binary=tty,
        )

    def exec(self, workload_id: str, argv: list[str], *, timeout: float = 600) -> tuple[int, str]:
        """Run ``argv`` in the pod; return its exit code and its stdout and stderr interleaved."""
        with _cluster_errors("run a command in the workload", workload_id):
            ws = self._exec_stream(workload_id, list(argv), tty=False)
            try:
                ws.run_forever(timeout=timeout)
                if ws.is_open():
                    raise RuntimeBackendError(
                        f"The command did not finish within {timeout:g} seconds.", code="EXEC_TIMEOUT"
                    )
                # The status must be read before read_all(), which empties every channel.
                status = ws.read_channel(ERROR_CHANNEL)
                output = ws.read_all()
            finally:
                ws.close()
        code, message = exec_exit_code(status)
        output = output.decode("utf-8", "replace") if isinstance(output, bytes) else output
        return code, f"{output}{message}\n" if message else output

    async def open_pty(self, workload_id: str, *, session: str, cols: int = 80, rows: int = 24) -> PtyStream:
        """Open a shell with a TTY in the pod (a tmux session named ``session`` where tmux exists)."""
        command = ["/bin/sh", "-c", _PTY_SCRIPT, "hangar-pty", session]
        with _cluster_errors("open a terminal in the workload", workload_id):
            ws = await asyncio.to_thread(self._exec_stream, workload_id, command, tty=True)
        pty = KubernetesPty(ws)
        await pty.resize(cols, rows)
        return pty

    # --- metrics ------------------------------------------------------------------------------

    def metrics(self, workload_id: str) -> Metrics:
        """CPU and memory from metrics.k8s.io; storage and processes measured inside the pod.

        ``cpu_percent`` is relative to one core (200 means two busy cores), as psutil reports it.
        """
        name = manifests.object_name(workload_id)
        pod = self._read_pod(workload_id)
        with _cluster_errors("read the workload's metrics", workload_id):
            usage = self._custom.get_namespaced_custom_object(
                "metrics.k8s.io", "v1beta1", self.namespace, "pods", name, _request_timeout=API_TIMEOUT
            )
        cpu, memory = 0.0, 0
        for container in usage.get("containers", []):
            cpu += cpu_cores(container["usage"].get("cpu", "0"))
            memory += memory_bytes(container["usage"].get("memory", "0"))
        storage, pids = self._usage_probe(workload_id)
        limits = pod.spec.containers[0].resources.limits or {}
        annotations = pod.metadata.annotations or {}
        return Metrics(
            cpu_percent=round(cpu * 100, 2),
            memory_bytes=memory,
            memory_limit_bytes=memory_bytes(limits.get("memory", "0")),
            storage_bytes=storage,
            storage_limit_bytes=int(annotations.get(manifests.DISK_ANNOTATION, 0)),
            pids=pids,
        )

    def _usage_probe(self, workload_id: str) -> tuple[int, int]:
        # metrics.k8s.io knows neither volume usage nor process counts; the kubelet's stats
        # summary does, but reading it needs nodes/proxy, which amounts to exec on every pod.
        try:
            _code, output = self.exec(workload_id, ["/bin/sh", "-c", _USAGE_PROBE], timeout=30)
            kilobytes, processes = (int(value) for value in output.split()[:2])
        except (RuntimeBackendError, ValueError) as exc:
            logger.warning("usage probe failed for %s: %s", workload_id, exc)
            return 0, 0
        return kilobytes * 1024, max(0, processes - _PROBE_PROCESSES)
