"""Pure functions that turn a :class:`WorkloadSpec` into Kubernetes manifests (plain dicts).

No client, no I/O: the backend sends these dicts as they are, and tests compare them as they are.
Every manifest mirrors what the local backend enforces with bubblewrap and cgroups: the same
limits, a workspace at ``/workspace``, a private ``/tmp``, no privileges, and the same network
policy (``none``: nothing in or out; ``egress``: the internet but not the cluster's own services).
"""

import hashlib
import re

from apps.runtime.spec import NetworkPolicy, WorkloadSpec

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "hangar"
WORKLOAD_LABEL = "hangar.dev/workload-id"
OWNER_LABEL = "hangar.dev/owner-id"
KIND_LABEL = "hangar.dev/kind"
# Label values are limited to 63 safe characters, so the exact id is also kept as an annotation.
WORKLOAD_ANNOTATION = "hangar.dev/workload-id"
PIDS_ANNOTATION = "hangar.dev/pids-limit"
DISK_ANNOTATION = "hangar.dev/disk-bytes"

CONTAINER_NAME = "workload"
WORKSPACE_PATH = "/workspace"
SANDBOX_UID = 1000

# Everything that is not the public internet: the cluster's pod and service ranges (and any other
# private network the nodes can reach), plus link-local, where cloud metadata servers answer.
# The local backend gets the same effect from slirp4netns with --disable-host-loopback.
PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16")

# An empty command means "keep the sandbox up for terminals and exec". PID 1 gets no default
# signal handlers, so the trap makes the pod stop at once instead of waiting out its grace period.
IDLE_COMMAND = ("/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done")

_LABEL_VALUE = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?$")
_NAME_UNSAFE = re.compile(r"[^a-z0-9-]+")


def _short_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:8]


def object_name(workload_id: str) -> str:
    """The DNS-1035 name of a workload's Pod, Service and NetworkPolicy (``hangar-<id>``).

    Ids that are not already safe (or are too long) get a hash suffix, so two ids never collide
    after cleaning.
    """
    slug = _NAME_UNSAFE.sub("-", workload_id.lower()).strip("-")
    if slug == workload_id and len(slug) <= 40:
        return f"hangar-{slug}"
    trimmed = slug[:30].strip("-")
    return f"hangar-{trimmed}-{_short_hash(workload_id)}" if trimmed else f"hangar-{_short_hash(workload_id)}"


def pvc_name(workload_id: str) -> str:
    """The name of the workload's workspace PersistentVolumeClaim."""
    return f"{object_name(workload_id)}-workspace"


def label_value(value: str) -> str:
    """``value`` if Kubernetes accepts it as a label value, else a cleaned copy with a hash."""
    if _LABEL_VALUE.match(value):
        return value
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", value)[:50].strip("-_.")
    return f"{cleaned}-{_short_hash(value)}" if cleaned else _short_hash(value)


def selector_labels(workload_id: str) -> dict[str, str]:
    """The labels that select exactly one workload's pod."""
    return {MANAGED_BY_LABEL: MANAGED_BY, WORKLOAD_LABEL: label_value(workload_id)}


def workload_labels(spec: WorkloadSpec) -> dict[str, str]:
    """The labels every object of a workload carries."""
    return {
        **selector_labels(spec.id),
        OWNER_LABEL: label_value(str(spec.owner_id)),
        KIND_LABEL: label_value(spec.kind),
    }


def _metadata(name: str, spec: WorkloadSpec, annotations: dict[str, str] | None = None) -> dict:
    return {
        "name": name,
        "labels": workload_labels(spec),
        "annotations": {WORKLOAD_ANNOTATION: spec.id, **(annotations or {})},
    }


def cpu_quantity(cores: float) -> str:
    """CPU cores as a millicore quantity (``1.5`` → ``"1500m"``)."""
    return f"{max(1, round(cores * 1000))}m"


def resources(spec: WorkloadSpec) -> dict:
    """Requests equal to limits, like the local backend's hard cgroup limits.

    Equal values also give the pod the Guaranteed QoS class, so it is the last to be evicted and
    going past its memory ends in ``OOMKilled`` rather than a node-pressure eviction.
    """
    amounts = {"cpu": cpu_quantity(spec.cpu), "memory": str(spec.memory_bytes)}
    return {"requests": dict(amounts), "limits": dict(amounts)}


def container_security_context() -> dict:
    """An unprivileged user with no capabilities and no way to gain any."""
    return {
        "runAsNonRoot": True,
        "runAsUser": SANDBOX_UID,
        "runAsGroup": SANDBOX_UID,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        # Users install packages into the image's filesystem, as they can in a local sandbox.
        "readOnlyRootFilesystem": False,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _env(spec: WorkloadSpec) -> list[dict[str, str]]:
    # uid 1000 usually has no passwd entry in the image; a HOME on the workspace keeps dotfiles.
    env = {"HOME": WORKSPACE_PATH, **spec.env}
    return [{"name": key, "value": value} for key, value in sorted(env.items())]


def pod_manifest(spec: WorkloadSpec) -> dict:
    """The workload's Pod: one container, the workspace PVC at ``/workspace``, a private ``/tmp``."""
    container = {
        "name": CONTAINER_NAME,
        "image": spec.image,
        "command": list(spec.command or IDLE_COMMAND),
        "workingDir": WORKSPACE_PATH,
        "env": _env(spec),
        "resources": resources(spec),
        "securityContext": container_security_context(),
        "volumeMounts": [
            {"name": "workspace", "mountPath": WORKSPACE_PATH},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
    if spec.port:
        container["ports"] = [{"name": "http", "containerPort": spec.port, "protocol": "TCP"}]
    volumes = [
        {"name": "workspace", "persistentVolumeClaim": {"claimName": pvc_name(spec.id)}},
        {"name": "tmp", "emptyDir": {}},
    ]
    # Read-only folders are host paths, so they must exist on the node (a shared filesystem).
    for index, (target, host_path) in enumerate(sorted(spec.ro_mounts.items())):
        name = f"ro-{index}"
        container["volumeMounts"].append({"name": name, "mountPath": target, "readOnly": True})
        volumes.append({"name": name, "hostPath": {"path": host_path, "type": "Directory"}})
    # Core Kubernetes has no per-pod pids limit: the kubelet's podPidsLimit is one value for the
    # whole node. The annotation records the limit the local backend would set, for an admission
    # policy or a dedicated node pool to enforce, and for the platform to read back.
    annotations = {PIDS_ANNOTATION: str(spec.pids), DISK_ANNOTATION: str(spec.disk_bytes)}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _metadata(object_name(spec.id), spec, annotations),
        "spec": {
            "restartPolicy": "Never",
            # User code gets no credentials for the cluster and no list of its services.
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "terminationGracePeriodSeconds": 5,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": SANDBOX_UID,
                "runAsGroup": SANDBOX_UID,
                # Makes the freshly provisioned (root-owned) volume writable by the sandbox user.
                "fsGroup": SANDBOX_UID,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [container],
            "volumes": volumes,
        },
    }


def pvc_manifest(spec: WorkloadSpec, storage_class: str | None = None) -> dict:
    """The workspace volume, sized ``spec.disk_bytes``. It outlives the pod, as a local workspace does."""
    claim_spec: dict = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": str(spec.disk_bytes)}},
    }
    if storage_class:
        claim_spec["storageClassName"] = storage_class
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": _metadata(pvc_name(spec.id), spec),
        "spec": claim_spec,
    }


def service_manifest(spec: WorkloadSpec) -> dict | None:
    """A ClusterIP Service for the declared port, or None when the workload declares none."""
    if not spec.port:
        return None
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(object_name(spec.id), spec),
        "spec": {
            "type": "ClusterIP",
            "selector": selector_labels(spec.id),
            "ports": [{"name": "http", "port": spec.port, "targetPort": spec.port, "protocol": "TCP"}],
        },
    }


def _egress_rules(network: NetworkPolicy) -> list[dict]:
    if network != NetworkPolicy.EGRESS:
        return []
    return [
        {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(PRIVATE_RANGES)}}]},
        # The cluster's resolver lives in a private range (or on a node-local link-local address),
        # so DNS gets its own rule; without it, egress would have the internet but no names.
        {"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
    ]


def _ingress_rules(port: int | None) -> list[dict]:
    # Only the declared port is reachable, as only it is published on the host by the local backend.
    if not port:
        return []
    return [{"ports": [{"protocol": "TCP", "port": port}]}]


def network_policy_manifest(spec: WorkloadSpec) -> dict:
    """The NetworkPolicy for ``spec.network``.

    Both policy types are always listed, so a rule list left empty denies that direction.
    ``none`` therefore denies all egress, and all ingress unless a port is declared; ``egress``
    allows the public internet and DNS only. IPv6 egress is not allowed at all (no ipBlock for it).
    """
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _metadata(object_name(spec.id), spec),
        "spec": {
            "podSelector": {"matchLabels": selector_labels(spec.id)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": _ingress_rules(spec.port),
            "egress": _egress_rules(spec.network),
        },
    }
