"""The Kubernetes backend, tested at the client boundary.

There is no cluster on our machines, so these tests replace the official client's API classes
(CoreV1Api, NetworkingV1Api, CustomObjectsApi) with autospecced mocks, and its exec ``stream``
with a fake WebSocket, then assert the exact calls and manifests. Every test name says
``k8s_client_boundary`` so nobody mistakes them for tests against a real cluster.
"""

import functools
import json
import socket
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
import urllib3
from kubernetes import client
from kubernetes.client import ApiException

from apps.runtime.backends import k8s_manifests as manifests
from apps.runtime.backends import kubernetes as k8s
from apps.runtime.backends.kubernetes import KubernetesBackend, KubernetesPty
from apps.runtime.base import REQUIRED_METHODS, RuntimeBackend
from apps.runtime.errors import ImageUnavailable, RuntimeBackendError
from apps.runtime.spec import Metrics, NetworkPolicy, Phase, WorkloadSpec

NAMESPACE = "hangar-test"
KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "test", "cluster": {"server": "https://k8s.invalid:6443"}}],
    "users": [{"name": "hangar", "user": {"token": "not-a-real-token"}}],
    "contexts": [{"name": "test", "context": {"cluster": "test", "user": "hangar"}}],
    "current-context": "test",
}
MANAGED = {"app.kubernetes.io/managed-by": "hangar", "hangar.dev/workload-id": "w1"}
LABELS = {**MANAGED, "hangar.dev/owner-id": "7", "hangar.dev/kind": "environment"}


def make_spec(**overrides) -> WorkloadSpec:
    values = {
        "id": "w1",
        "owner_id": 7,
        "kind": "environment",
        "image": "python:3.11-slim",
        "workspace": "/srv/hangar/w1",
        "cpu": 0.5,
        "memory_bytes": 256 * 1024**2,
        "pids": 64,
        "disk_bytes": 2 * 1024**3,
    }
    return WorkloadSpec(**{**values, **overrides})


def api_error(status: int, body: str = "") -> ApiException:
    return ApiException(status=status, reason={404: "Not Found", 409: "Conflict"}.get(status, "Error"), body=body)


def make_pod(phase: str, *, state: dict | None = None, deleting: bool = False, **metadata) -> client.V1Pod:
    """A real V1Pod model, as the client returns it (so attribute names are checked too)."""
    status = {"phase": phase, "startTime": "2024-05-01T12:00:00Z"}
    if state is not None:
        status["containerStatuses"] = [
            {"name": "workload", "image": "python", "imageID": "", "ready": False, "restartCount": 0, "state": state}
        ]
    pod = manifests.pod_manifest(make_spec())
    pod["metadata"].update(metadata)
    if deleting:
        pod["metadata"]["deletionTimestamp"] = "2024-05-01T12:05:00Z"
    return client.V1Pod.from_dict({**pod, "status": status})


@functools.cache
def _autospec(api_class: type) -> mock.Mock:
    # Autospeccing the generated clients is slow, so each is built once and reset per test.
    return mock.create_autospec(api_class, instance=True)


@pytest.fixture
def apis():
    """The client's API classes replaced by autospecced mocks (signatures checked); yields them."""
    instances = [
        _autospec(api_class) for api_class in (client.CoreV1Api, client.NetworkingV1Api, client.CustomObjectsApi)
    ]
    for instance in instances:
        instance.reset_mock(return_value=True, side_effect=True)
    with (
        mock.patch("kubernetes.client.CoreV1Api", return_value=instances[0]) as core,
        mock.patch("kubernetes.client.NetworkingV1Api", return_value=instances[1]) as networking,
        mock.patch("kubernetes.client.CustomObjectsApi", return_value=instances[2]) as custom,
        mock.patch("kubernetes.stream.stream") as stream,
    ):
        yield mock.Mock(
            core=instances[0],
            networking=instances[1],
            custom=instances[2],
            stream=stream,
            classes=(core, networking, custom),
        )


@pytest.fixture
def backend(apis) -> KubernetesBackend:
    return KubernetesBackend(kubeconfig=KUBECONFIG, namespace=NAMESPACE)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Any attempt to reach a server fails the test loudly instead of hanging."""

    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to open a network connection")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(urllib3.connection.HTTPConnection, "connect", refuse)


class FakeExecSocket:
    """Stands in for kubernetes.stream's WSClient."""

    def __init__(self, *, output="", status: dict | None = None, stdout_chunks=(), finishes=True):
        self.output = output
        self.status = json.dumps(status if status is not None else {"metadata": {}, "status": "Success"})
        self.stdout_chunks = list(stdout_chunks)
        self.finishes = finishes
        self.open = True
        self.sent: list[tuple[int, object]] = []
        self.closed = False

    def run_forever(self, timeout=None):
        self.open = not self.finishes

    def is_open(self):
        return self.open

    def read_channel(self, channel, timeout=0):
        return self.status if channel == k8s.ERROR_CHANNEL else ""

    def read_all(self):
        return self.output

    def read_stdout(self, timeout=None):
        if self.stdout_chunks:
            return self.stdout_chunks.pop(0)
        self.open = False
        return b""

    def write_stdin(self, data):
        self.sent.append((0, data))

    def write_channel(self, channel, data):
        self.sent.append((channel, data))

    def close(self, **kwargs):
        self.closed = True
        self.open = False


# --- manifests --------------------------------------------------------------------------------


def test_k8s_client_boundary_pod_manifest_has_limits_security_and_workspace():
    pod = manifests.pod_manifest(make_spec(env={"FOO": "bar"}))

    assert pod["metadata"] == {
        "name": "hangar-w1",
        "labels": LABELS,
        "annotations": {
            "hangar.dev/workload-id": "w1",
            "hangar.dev/pids-limit": "64",
            "hangar.dev/disk-bytes": str(2 * 1024**3),
        },
    }
    spec = pod["spec"]
    assert spec["restartPolicy"] == "Never"
    assert spec["automountServiceAccountToken"] is False
    assert spec["securityContext"]["fsGroup"] == 1000
    (container,) = spec["containers"]
    assert container["image"] == "python:3.11-slim"
    assert container["command"] == list(manifests.IDLE_COMMAND)
    assert container["env"] == [{"name": "FOO", "value": "bar"}, {"name": "HOME", "value": "/workspace"}]
    assert container["resources"] == {
        "requests": {"cpu": "500m", "memory": str(256 * 1024**2)},
        "limits": {"cpu": "500m", "memory": str(256 * 1024**2)},
    }
    assert container["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 1000,
        "runAsGroup": 1000,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": False,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert container["volumeMounts"] == [
        {"name": "workspace", "mountPath": "/workspace"},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    assert spec["volumes"] == [
        {"name": "workspace", "persistentVolumeClaim": {"claimName": "hangar-w1-workspace"}},
        {"name": "tmp", "emptyDir": {}},
    ]
    assert "ports" not in container


def test_k8s_client_boundary_pod_manifest_runs_the_given_command():
    pod = manifests.pod_manifest(make_spec(command=("python", "app.py"), cpu=2))

    (container,) = pod["spec"]["containers"]
    assert container["command"] == ["python", "app.py"]
    assert container["resources"]["limits"]["cpu"] == "2000m"


def test_k8s_client_boundary_pvc_manifest_is_sized_from_disk_bytes():
    assert manifests.pvc_manifest(make_spec(), storage_class="fast") == {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "hangar-w1-workspace", "labels": LABELS, "annotations": {"hangar.dev/workload-id": "w1"}},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": str(2 * 1024**3)}},
            "storageClassName": "fast",
        },
    }


def test_k8s_client_boundary_network_none_denies_all_ingress_and_egress():
    spec = make_spec(network=NetworkPolicy.NONE)

    policy = manifests.network_policy_manifest(spec)

    assert policy["spec"] == {
        "podSelector": {"matchLabels": MANAGED},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [],
        "egress": [],
    }
    assert manifests.service_manifest(spec) is None


def test_k8s_client_boundary_network_egress_allows_internet_and_dns_but_no_private_ranges():
    policy = manifests.network_policy_manifest(make_spec(network=NetworkPolicy.EGRESS))

    assert policy["spec"]["ingress"] == []
    assert policy["spec"]["egress"] == [
        {
            "to": [
                {
                    "ipBlock": {
                        "cidr": "0.0.0.0/0",
                        "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"],
                    }
                }
            ]
        },
        {"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
    ]


def test_k8s_client_boundary_declared_port_gets_a_service_and_only_that_ingress():
    spec = make_spec(network=NetworkPolicy.EGRESS, port=8501)

    assert manifests.service_manifest(spec) == {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "hangar-w1", "labels": LABELS, "annotations": {"hangar.dev/workload-id": "w1"}},
        "spec": {
            "type": "ClusterIP",
            "selector": MANAGED,
            "ports": [{"name": "http", "port": 8501, "targetPort": 8501, "protocol": "TCP"}],
        },
    }
    assert manifests.network_policy_manifest(spec)["spec"]["ingress"] == [
        {"ports": [{"protocol": "TCP", "port": 8501}]}
    ]
    (container,) = manifests.pod_manifest(spec)["spec"]["containers"]
    assert container["ports"] == [{"name": "http", "containerPort": 8501, "protocol": "TCP"}]


@pytest.mark.parametrize(
    ("build", "model"),
    [
        (manifests.pod_manifest, client.V1Pod),
        (manifests.pvc_manifest, client.V1PersistentVolumeClaim),
        (manifests.service_manifest, client.V1Service),
        (manifests.network_policy_manifest, client.V1NetworkPolicy),
    ],
)
def test_k8s_client_boundary_manifests_use_only_fields_the_client_knows(build, model):
    # A misspelt field would be dropped by the client's model (and ignored by the cluster).
    manifest = build(make_spec(network=NetworkPolicy.EGRESS, port=8080))

    assert client.ApiClient().sanitize_for_serialization(model.from_dict(manifest)) == manifest


@pytest.mark.parametrize("workload_id", ["3F2A_9b1c.uuid", "x" * 80, "___", "Ümlaut id"])
def test_k8s_client_boundary_names_and_labels_are_valid_for_any_id(workload_id):
    name = manifests.object_name(workload_id)
    label = manifests.label_value(workload_id)

    assert name.startswith("hangar-")
    assert len(manifests.pvc_name(workload_id)) <= 63
    assert all(c.isascii() and (c.islower() or c.isdigit() or c == "-") for c in name)
    assert not name.endswith("-")
    assert len(label) <= 63
    assert manifests._LABEL_VALUE.match(label)
    assert manifests.object_name(workload_id + "x") != name


# --- construction -----------------------------------------------------------------------------


def test_k8s_client_boundary_constructing_contacts_no_server(settings):
    settings.KUBERNETES_NAMESPACE = "from-settings"
    with (
        mock.patch("kubernetes.config.load_incluster_config") as incluster,
        mock.patch("kubernetes.config.load_kube_config") as kube_config,
        mock.patch("kubernetes.config.new_client_from_config_dict") as from_dict,
        mock.patch("kubernetes.client.ApiClient") as api_client,
        mock.patch("kubernetes.client.CoreV1Api") as core,
    ):
        default = KubernetesBackend()
        registered = KubernetesBackend.from_cluster_kubeconfig(json.dumps(KUBECONFIG), "tenant-a")

    assert default.namespace == "from-settings"
    assert registered.namespace == "tenant-a"
    for never_called in (incluster, kube_config, from_dict, api_client, core):
        never_called.assert_not_called()


def test_k8s_client_boundary_namespace_defaults_to_hangar_workloads(settings):
    del settings.KUBERNETES_NAMESPACE

    assert KubernetesBackend(kubeconfig=KUBECONFIG).namespace == "hangar-workloads"


def test_k8s_client_boundary_clients_are_built_from_the_kubeconfig_on_first_use(apis):
    backend = KubernetesBackend.from_cluster_kubeconfig(json.dumps(KUBECONFIG), NAMESPACE)
    apis.core.read_namespaced_pod.side_effect = api_error(404)

    backend.status("w1")

    core_class = apis.classes[0]
    (api_client,), _ = core_class.call_args
    assert api_client.configuration.host == "https://k8s.invalid:6443"


def test_k8s_client_boundary_without_kubeconfig_falls_back_from_incluster_to_kube_config(apis):
    from kubernetes.config import ConfigException

    with (
        mock.patch("kubernetes.config.load_incluster_config", side_effect=ConfigException("not in a pod")),
        mock.patch("kubernetes.config.load_kube_config") as kube_config,
    ):
        KubernetesBackend(namespace=NAMESPACE).list_workloads()

    kube_config.assert_called_once()


def test_k8s_client_boundary_garbage_kubeconfig_is_a_runtime_error():
    with pytest.raises(RuntimeBackendError):
        KubernetesBackend.from_cluster_kubeconfig("clusters: [unclosed", NAMESPACE)
    with pytest.raises(RuntimeBackendError):
        KubernetesBackend.from_cluster_kubeconfig("just a string", NAMESPACE)


def test_k8s_client_boundary_unusable_kubeconfig_fails_on_use_as_runtime_error(apis):
    backend = KubernetesBackend(kubeconfig={"apiVersion": "v1", "clusters": []}, namespace=NAMESPACE)

    with pytest.raises(RuntimeBackendError, match="not configured"):
        backend.list_workloads()


def test_k8s_client_boundary_backend_satisfies_the_required_method_check():
    for method in REQUIRED_METHODS:
        assert getattr(KubernetesBackend, method) is not getattr(RuntimeBackend, method), method
    assert issubclass(KubernetesBackend, RuntimeBackend)
    assert KubernetesBackend.name == "kubernetes"

    with pytest.raises(TypeError, match="must implement"):
        type("Half", (RuntimeBackend,), {"start": KubernetesBackend.start})


# --- images -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "image",
    [
        "python",
        "python:3.11-slim",
        "library/ubuntu:22.04",
        "ghcr.io/org/team/app:v1.2.3",
        "localhost:5000/app",
        "registry.example.com:443/a_b/c-d:latest",
        "golang@sha256:" + "a" * 64,
        "quay.io/x/y:1@sha256:" + "0" * 64,
    ],
)
def test_k8s_client_boundary_check_image_accepts_valid_references(backend, image):
    backend.check_image(image)


@pytest.mark.parametrize(
    "image",
    ["", "Python", "python:", "python:3.11:x", "-bad", "a//b", "rm -rf /", "app@sha256:abc", "x:" + "t" * 200],
)
def test_k8s_client_boundary_check_image_refuses_garbage(backend, image):
    with pytest.raises(ImageUnavailable) as raised:
        backend.check_image(image)

    assert raised.value.code == "IMAGE_UNAVAILABLE"


# --- start and stop ---------------------------------------------------------------------------


def test_k8s_client_boundary_start_creates_every_object(backend, apis):
    spec = make_spec(network=NetworkPolicy.EGRESS, port=8080)

    state = backend.start(spec)

    assert state == {
        "backend": "kubernetes",
        "namespace": NAMESPACE,
        "pod": "hangar-w1",
        "pvc": "hangar-w1-workspace",
        "service": "hangar-w1",
    }
    json.dumps(state)  # saved as JSON to reattach after a restart
    apis.core.create_namespaced_persistent_volume_claim.assert_called_once_with(
        namespace=NAMESPACE, body=manifests.pvc_manifest(spec), _request_timeout=30
    )
    apis.networking.create_namespaced_network_policy.assert_called_once_with(
        namespace=NAMESPACE, body=manifests.network_policy_manifest(spec), _request_timeout=30
    )
    apis.core.create_namespaced_service.assert_called_once_with(
        namespace=NAMESPACE, body=manifests.service_manifest(spec), _request_timeout=30
    )
    apis.core.create_namespaced_pod.assert_called_once_with(
        namespace=NAMESPACE, body=manifests.pod_manifest(spec), _request_timeout=30
    )


def test_k8s_client_boundary_start_creates_the_policy_before_the_pod(backend, apis):
    order = mock.Mock()
    order.attach_mock(apis.networking.create_namespaced_network_policy, "policy")
    order.attach_mock(apis.core.create_namespaced_pod, "pod")

    backend.start(make_spec())

    assert [call[0] for call in order.mock_calls] == ["policy", "pod"]


def test_k8s_client_boundary_start_without_port_creates_no_service(backend, apis):
    state = backend.start(make_spec())

    assert state["service"] is None
    apis.core.create_namespaced_service.assert_not_called()


def test_k8s_client_boundary_start_tolerates_409_and_replaces_a_stale_policy(backend, apis):
    spec = make_spec(port=8080)
    apis.core.create_namespaced_persistent_volume_claim.side_effect = api_error(409)
    apis.core.create_namespaced_service.side_effect = api_error(409)
    apis.core.create_namespaced_pod.side_effect = api_error(409)
    apis.networking.create_namespaced_network_policy.side_effect = api_error(409)

    state = backend.start(spec)

    assert state["pod"] == "hangar-w1"
    apis.networking.replace_namespaced_network_policy.assert_called_once_with(
        name="hangar-w1", namespace=NAMESPACE, body=manifests.network_policy_manifest(spec), _request_timeout=30
    )


def test_k8s_client_boundary_start_failure_is_a_runtime_error_with_detail(backend, apis):
    apis.core.create_namespaced_pod.side_effect = api_error(403, body='{"message": "pods is forbidden"}')

    with pytest.raises(RuntimeBackendError) as raised:
        backend.start(make_spec())

    assert raised.value.user_message == "The Kubernetes cluster could not create the workload's pod."
    assert "403" in raised.value.detail
    assert "forbidden" in raised.value.detail
    assert "forbidden" not in raised.value.user_message


def test_k8s_client_boundary_unreachable_cluster_is_a_runtime_error(backend, apis):
    apis.core.read_namespaced_pod.side_effect = urllib3.exceptions.MaxRetryError(None, "/api", "refused")

    with pytest.raises(RuntimeBackendError, match="could not be reached") as raised:
        backend.status("w1")

    assert "MaxRetryError" in raised.value.detail


def test_k8s_client_boundary_stop_deletes_pod_service_and_policy_but_keeps_the_pvc(backend, apis):
    apis.core.read_namespaced_pod.side_effect = api_error(404)

    backend.stop("w1")

    apis.core.delete_namespaced_pod.assert_called_once_with(name="hangar-w1", namespace=NAMESPACE, _request_timeout=30)
    apis.core.delete_namespaced_service.assert_called_once_with(
        name="hangar-w1", namespace=NAMESPACE, _request_timeout=30
    )
    apis.networking.delete_namespaced_network_policy.assert_called_once_with(
        name="hangar-w1", namespace=NAMESPACE, _request_timeout=30
    )
    apis.core.delete_namespaced_persistent_volume_claim.assert_not_called()


def test_k8s_client_boundary_stop_tolerates_404_everywhere(backend, apis):
    apis.core.delete_namespaced_pod.side_effect = api_error(404)
    apis.core.delete_namespaced_service.side_effect = api_error(404)
    apis.networking.delete_namespaced_network_policy.side_effect = api_error(404)
    apis.core.read_namespaced_pod.side_effect = api_error(404)

    backend.stop("w1")
    backend.stop("w1")


def test_k8s_client_boundary_stop_removes_the_policy_only_once_the_pod_is_gone(backend, apis, monkeypatch):
    monkeypatch.setattr(k8s.time, "sleep", lambda seconds: None)
    apis.core.read_namespaced_pod.side_effect = [make_pod("Running", deleting=True), api_error(404)]

    backend.stop("w1")

    assert apis.core.read_namespaced_pod.call_count == 2
    apis.networking.delete_namespaced_network_policy.assert_called_once()


def test_k8s_client_boundary_stop_that_never_finishes_is_an_error_and_keeps_the_policy(backend, apis, monkeypatch):
    monkeypatch.setattr(k8s, "STOP_TIMEOUT", 0)
    apis.core.read_namespaced_pod.return_value = make_pod("Running", deleting=True)

    with pytest.raises(RuntimeBackendError, match="did not stop"):
        backend.stop("w1")

    apis.networking.delete_namespaced_network_policy.assert_not_called()


def test_k8s_client_boundary_stop_propagates_other_errors(backend, apis):
    apis.core.delete_namespaced_pod.side_effect = api_error(500)

    with pytest.raises(RuntimeBackendError):
        backend.stop("w1")


def test_k8s_client_boundary_delete_workspace_deletes_the_pvc(backend, apis):
    backend.delete_workspace("w1")
    apis.core.delete_namespaced_persistent_volume_claim.side_effect = api_error(404)
    backend.delete_workspace("w1")

    apis.core.delete_namespaced_persistent_volume_claim.assert_called_with(
        name="hangar-w1-workspace", namespace=NAMESPACE, _request_timeout=30
    )


# --- status and listing -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phase", "state", "expected", "reason"),
    [
        ("Pending", {"waiting": {"reason": "ContainerCreating"}}, Phase.PENDING, "ContainerCreating"),
        ("Pending", None, Phase.PENDING, ""),
        ("Pending", {"waiting": {"reason": "ImagePullBackOff"}}, Phase.ERROR, "ImagePullBackOff"),
        ("Running", {"running": {"startedAt": "2024-05-01T12:00:01Z"}}, Phase.RUNNING, ""),
        ("Succeeded", {"terminated": {"exitCode": 0, "reason": "Completed"}}, Phase.STOPPED, "Completed"),
        ("Failed", {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}, Phase.ERROR, "OOMKilled"),
        ("Failed", {"terminated": {"exitCode": 1, "reason": "Error"}}, Phase.ERROR, "Error"),
        ("Unknown", None, Phase.ERROR, "Unknown"),
    ],
)
def test_k8s_client_boundary_status_maps_pod_phase(backend, apis, phase, state, expected, reason):
    apis.core.read_namespaced_pod.return_value = make_pod(phase, state=state)

    status = backend.status("w1")

    assert (status.phase, status.reason) == (expected, reason)
    apis.core.read_namespaced_pod.assert_called_once_with(name="hangar-w1", namespace=NAMESPACE, _request_timeout=30)


def test_k8s_client_boundary_status_reports_start_time(backend, apis):
    apis.core.read_namespaced_pod.return_value = make_pod("Running", state={"running": {}})

    assert backend.status("w1").started_at == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_k8s_client_boundary_status_of_a_vanished_pod_is_stopped_vanished(backend, apis):
    apis.core.read_namespaced_pod.side_effect = api_error(404)

    status = backend.status("w1")

    assert (status.phase, status.reason) == (Phase.STOPPED, "Vanished")


def test_k8s_client_boundary_status_of_an_evicted_pod_is_an_error(backend, apis):
    pod = make_pod("Failed")
    pod.status.reason = "Evicted"
    apis.core.read_namespaced_pod.return_value = pod

    assert backend.status("w1").reason == "Evicted"


def test_k8s_client_boundary_list_workloads_selects_by_managed_by_label(backend, apis):
    apis.core.list_namespaced_pod.return_value = client.V1PodList(
        items=[
            make_pod("Running"),
            make_pod("Failed", annotations={"hangar.dev/workload-id": "Odd id/2"}),
            make_pod("Running", annotations={}, labels={"hangar.dev/workload-id": "from-label"}),
            make_pod("Running", deleting=True, annotations={"hangar.dev/workload-id": "going"}),
        ]
    )

    assert backend.list_workloads() == ["w1", "Odd id/2", "from-label"]
    apis.core.list_namespaced_pod.assert_called_once_with(
        namespace=NAMESPACE, label_selector="app.kubernetes.io/managed-by=hangar", _request_timeout=30
    )


# --- logs -------------------------------------------------------------------------------------

LOG_TEXT = (
    "2024-05-01T12:00:00.123456789Z first line\n"
    "2024-05-01T12:00:01Z second  line with  spaces\n"
    "2024-05-01T12:00:02.5+00:00 third\n"
)


def test_k8s_client_boundary_logs_parse_rfc3339_timestamps(backend, apis):
    apis.core.read_namespaced_pod_log.return_value = LOG_TEXT

    entries = backend.logs("w1", tail=50)

    assert [(entry.timestamp, entry.message) for entry in entries] == [
        (datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC), "first line"),
        (datetime(2024, 5, 1, 12, 0, 1, tzinfo=UTC), "second  line with  spaces"),
        (datetime(2024, 5, 1, 12, 0, 2, 500000, tzinfo=UTC), "third"),
    ]
    assert {(entry.level, entry.source) for entry in entries} == {("INFO", "container")}
    apis.core.read_namespaced_pod_log.assert_called_once_with(
        name="hangar-w1",
        namespace=NAMESPACE,
        container="workload",
        tail_lines=50,
        since_seconds=None,
        timestamps=True,
        _request_timeout=30,
    )


def test_k8s_client_boundary_logs_since_asks_whole_seconds_and_filters_exactly(backend, apis):
    apis.core.read_namespaced_pod_log.return_value = LOG_TEXT
    since = datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=UTC)
    now = since + timedelta(seconds=9.2)

    with mock.patch.object(k8s, "datetime", wraps=datetime) as fake_datetime:
        fake_datetime.now.return_value = now
        entries = backend.logs("w1", tail=10, since=since)

    assert [entry.message for entry in entries] == ["second  line with  spaces", "third"]
    assert apis.core.read_namespaced_pod_log.call_args.kwargs["since_seconds"] == 10
    assert apis.core.read_namespaced_pod_log.call_args.kwargs["tail_lines"] == 10


def test_k8s_client_boundary_logs_of_a_container_still_starting_are_empty(backend, apis):
    apis.core.read_namespaced_pod_log.side_effect = api_error(
        400,
        body='{"message": "container \\"workload\\" in pod \\"hangar-w1\\" is waiting to start: ContainerCreating"}',
    )

    assert backend.logs("w1") == []


def test_k8s_client_boundary_logs_of_a_missing_pod_is_not_found(backend, apis):
    apis.core.read_namespaced_pod_log.side_effect = api_error(404)

    with pytest.raises(RuntimeBackendError) as raised:
        backend.logs("w1")

    assert raised.value.code == "WORKLOAD_NOT_FOUND"


def test_k8s_client_boundary_log_line_without_timestamp_is_kept_whole():
    entry = k8s.parse_log_line("no timestamp here")

    assert entry.message == "no timestamp here"


@pytest.mark.asyncio
async def test_k8s_client_boundary_follow_logs_streams_lines_until_the_stream_ends(backend, apis):
    response = mock.Mock()
    response.stream.return_value = iter([b"2024-05-01T12:00:00Z hel", b"lo\n2024-05-01T12:00:01Z world\n"])
    apis.core.read_namespaced_pod_log.return_value = response

    messages = [entry.message async for entry in backend.follow_logs("w1")]

    assert messages == ["hello", "world"]
    apis.core.read_namespaced_pod_log.assert_called_once_with(
        name="hangar-w1",
        namespace=NAMESPACE,
        container="workload",
        follow=True,
        timestamps=True,
        _preload_content=False,
    )
    response.close.assert_called_once()


@pytest.mark.asyncio
async def test_k8s_client_boundary_follow_logs_closes_the_stream_when_the_consumer_leaves(backend, apis):
    response = mock.Mock()
    response.stream.return_value = iter([b"2024-05-01T12:00:00Z a\n2024-05-01T12:00:01Z b\n"])
    apis.core.read_namespaced_pod_log.return_value = response

    stream = backend.follow_logs("w1")
    first = await anext(stream)
    await stream.aclose()

    assert first.message == "a"
    response.close.assert_called_once()


# --- exec and PTY -----------------------------------------------------------------------------


def test_k8s_client_boundary_exec_returns_exit_code_and_output(backend, apis):
    failure = {
        "status": "Failure",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": "3"}]},
    }
    apis.stream.return_value = ws = FakeExecSocket(output="out\nerr\n", status=failure)

    assert backend.exec("w1", ["sh", "-c", "echo out; echo err >&2; exit 3"], timeout=5) == (3, "out\nerr\n")

    apis.stream.assert_called_once_with(
        apis.core.connect_get_namespaced_pod_exec,
        "hangar-w1",
        NAMESPACE,
        container="workload",
        command=["sh", "-c", "echo out; echo err >&2; exit 3"],
        stderr=True,
        stdin=False,
        stdout=True,
        tty=False,
        _preload_content=False,
        binary=False,
    )
    assert ws.closed


def test_k8s_client_boundary_exec_success_is_exit_code_zero(backend, apis):
    apis.stream.return_value = FakeExecSocket(output="hello-42\n")

    assert backend.exec("w1", ["echo", "hello-42"]) == (0, "hello-42\n")


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ('{"metadata":{},"status":"Success"}', (0, "")),
        (
            '{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"137"}]}}',
            (137, ""),
        ),
        (
            '{"status":"Failure","reason":"InternalError","message":"exec: \\"nope\\": executable file not found"}',
            (127, 'exec: "nope": executable file not found'),
        ),
        ("", (126, "the command ended without an exit status")),
        (b'{"status":"Success"}', (0, "")),
    ],
)
def test_k8s_client_boundary_exec_status_parsing(status, expected):
    assert k8s.exec_exit_code(status) == expected


def test_k8s_client_boundary_exec_that_times_out_is_an_error(backend, apis):
    apis.stream.return_value = ws = FakeExecSocket(finishes=False)

    with pytest.raises(RuntimeBackendError) as raised:
        backend.exec("w1", ["sleep", "99"], timeout=1)

    assert raised.value.code == "EXEC_TIMEOUT"
    assert ws.closed


def test_k8s_client_boundary_exec_in_a_missing_pod_is_not_found(backend, apis):
    apis.stream.side_effect = api_error(404)

    with pytest.raises(RuntimeBackendError) as raised:
        backend.exec("w1", ["true"])

    assert raised.value.code == "WORKLOAD_NOT_FOUND"


@pytest.mark.asyncio
async def test_k8s_client_boundary_open_pty_streams_keys_output_and_resizes(backend, apis):
    apis.stream.return_value = ws = FakeExecSocket(stdout_chunks=[b"$ ", b"hello-42\r\n"])

    pty = await backend.open_pty("w1", session="main; rm -rf /", cols=100, rows=30)
    await pty.write(b"echo hello-$((6*7))\r")
    await pty.resize(120, 40)
    chunks = [await pty.read(), await pty.read(), await pty.read()]
    await pty.close()

    assert isinstance(pty, KubernetesPty)
    assert chunks == [b"$ ", b"hello-42\r\n", None]
    assert ws.sent == [
        (4, json.dumps({"Width": 100, "Height": 30})),
        (0, b"echo hello-$((6*7))\r"),
        (4, json.dumps({"Width": 120, "Height": 40})),
    ]
    assert ws.closed
    args, kwargs = apis.stream.call_args
    assert args == (apis.core.connect_get_namespaced_pod_exec, "hangar-w1", NAMESPACE)
    assert kwargs["tty"] is kwargs["stdin"] is kwargs["stdout"] is kwargs["stderr"] is True
    assert kwargs["_preload_content"] is False
    assert kwargs["binary"] is True
    # The session name is passed as an argument, never spliced into the script.
    assert kwargs["command"][-1] == "main; rm -rf /"
    assert "main" not in kwargs["command"][2]


# --- metrics ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "cores"), [("250m", 0.25), ("12345n", 0.000012345), ("2", 2.0), ("1500u", 0.0015)]
)
def test_k8s_client_boundary_cpu_quantities(quantity, cores):
    assert k8s.cpu_cores(quantity) == pytest.approx(cores)


@pytest.mark.parametrize(
    ("quantity", "size"),
    [("64Mi", 64 * 1024**2), ("123456Ki", 123456 * 1024), ("1G", 10**9), ("268435456", 268435456)],
)
def test_k8s_client_boundary_memory_quantities(quantity, size):
    assert k8s.memory_bytes(quantity) == size


def test_k8s_client_boundary_metrics_reads_metrics_api_and_probes_the_pod(backend, apis):
    apis.core.read_namespaced_pod.return_value = make_pod("Running")
    apis.custom.get_namespaced_custom_object.return_value = {
        "metadata": {"name": "hangar-w1"},
        "window": "30s",
        "containers": [{"name": "workload", "usage": {"cpu": "250m", "memory": "123456Ki"}}],
    }
    apis.stream.return_value = FakeExecSocket(output="2048\n8\n")

    metrics = backend.metrics("w1")

    assert metrics == Metrics(
        cpu_percent=25.0,
        memory_bytes=123456 * 1024,
        memory_limit_bytes=256 * 1024**2,
        storage_bytes=2048 * 1024,
        storage_limit_bytes=2 * 1024**3,
        pids=5,
    )
    apis.custom.get_namespaced_custom_object.assert_called_once_with(
        "metrics.k8s.io", "v1beta1", NAMESPACE, "pods", "hangar-w1", _request_timeout=30
    )


def test_k8s_client_boundary_metrics_survive_a_failed_usage_probe(backend, apis):
    apis.core.read_namespaced_pod.return_value = make_pod("Running")
    apis.custom.get_namespaced_custom_object.return_value = {
        "containers": [{"name": "workload", "usage": {"cpu": "12345n", "memory": "64Mi"}}]
    }
    apis.stream.side_effect = api_error(500)

    metrics = backend.metrics("w1")

    assert (metrics.cpu_percent, metrics.memory_bytes, metrics.storage_bytes, metrics.pids) == (0.0, 64 * 1024**2, 0, 0)


def test_k8s_client_boundary_metrics_without_metrics_server_is_a_runtime_error(backend, apis):
    apis.core.read_namespaced_pod.return_value = make_pod("Running")
    apis.custom.get_namespaced_custom_object.side_effect = api_error(503, body="the server is currently unable")

    with pytest.raises(RuntimeBackendError) as raised:
        backend.metrics("w1")

    assert "503" in raised.value.detail
