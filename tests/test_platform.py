"""The deployment artifacts parse and say what we mean.

No Docker engine or Kubernetes cluster exists on our dev machines, so the Dockerfile, the
entrypoint, the compose file and the manifests are checked by reading them.
"""

import os
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PLATFORM = ROOT / "platform"
KUBERNETES = PLATFORM / "kubernetes"
IMAGE = "hangar:latest"


def _documents(path: Path) -> list:
    with path.open() as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc is not None]


def _manifests() -> list[dict]:
    return [doc for path in sorted(KUBERNETES.glob("*.yaml")) for doc in _documents(path)]


def _named(kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in _manifests() if doc["kind"] == kind}


def _pod_specs() -> list[dict]:
    return [doc["spec"]["template"]["spec"] for doc in _manifests() if doc["kind"] in ("Deployment", "StatefulSet")]


@pytest.mark.parametrize("path", sorted(PLATFORM.rglob("*.yaml")), ids=lambda p: str(p.relative_to(PLATFORM)))
def test_every_yaml_file_parses_to_mappings(path):
    documents = _documents(path)
    assert documents
    for doc in documents:
        assert isinstance(doc, dict)
        if KUBERNETES in path.parents:
            assert {"apiVersion", "kind", "metadata"} <= doc.keys()
            assert doc["metadata"]["name"]


def test_manifests_cover_every_component():
    kinds = {doc["kind"] for doc in _manifests()}
    assert {
        "Namespace",
        "ConfigMap",
        "Secret",
        "Deployment",
        "StatefulSet",
        "Service",
        "Ingress",
        "ServiceAccount",
        "Role",
        "RoleBinding",
    } <= kinds
    assert {"web", "worker", "beat", "redis"} <= _named("Deployment").keys()
    assert "postgres" in _named("StatefulSet")
    assert {"web", "postgres", "redis"} <= _named("Service").keys()


def test_everything_is_in_the_hangar_namespace():
    for doc in _manifests():
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "hangar", doc["metadata"]["name"]


def test_only_one_beat_runs():
    beat = _named("Deployment")["beat"]["spec"]
    assert beat["replicas"] == 1
    assert beat["strategy"]["type"] == "Recreate"


def test_hangar_containers_run_as_non_root():
    checked = 0
    for pod in _pod_specs():
        pod_non_root = pod.get("securityContext", {}).get("runAsNonRoot") is True
        for container in pod["containers"]:
            if container["image"] == IMAGE:
                checked += 1
                assert pod_non_root or container.get("securityContext", {}).get("runAsNonRoot") is True
    assert checked == 3


def test_hangar_containers_pick_their_process():
    commands = {
        container["args"][0] for pod in _pod_specs() for container in pod["containers"] if container["image"] == IMAGE
    }
    assert commands == {"web", "worker", "beat"}


def test_web_probes_and_port():
    web = _named("Deployment")["web"]["spec"]["template"]["spec"]["containers"][0]
    assert web["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert web["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert [port["containerPort"] for port in web["ports"]] == [8000]
    assert _named("Service")["web"]["spec"]["ports"][0]["port"] == 8000


def test_probe_host_is_allowed():
    # Django answers 400 to a Host outside ALLOWED_HOSTS, which would fail every probe.
    allowed = _named("ConfigMap")["hangar-config"]["data"]["ALLOWED_HOSTS"].split(",")
    web = _named("Deployment")["web"]["spec"]["template"]["spec"]["containers"][0]
    for probe in ("readinessProbe", "livenessProbe"):
        headers = {h["name"]: h["value"] for h in web[probe]["httpGet"]["httpHeaders"]}
        assert headers["Host"] in allowed


def test_ingress_routes_to_web_and_keeps_websockets_open():
    ingress = _named("Ingress")["web"]
    timeout = ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-read-timeout"]
    assert int(timeout) >= 3600
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "web", "port": {"number": 8000}}


def test_runtime_service_account_can_manage_workloads():
    rule = _named("Role")["hangar-runtime"]["rules"][0]
    assert {"pods", "pods/exec", "pods/log", "services", "persistentvolumeclaims"} <= set(rule["resources"])
    assert {"create", "get", "list", "watch", "delete"} <= set(rule["verbs"])
    binding = _named("RoleBinding")["hangar-runtime"]
    assert binding["roleRef"]["name"] == "hangar-runtime"
    assert binding["subjects"][0]["name"] == "hangar-runtime"
    assert "hangar-runtime" in _named("ServiceAccount")
    deployments = _named("Deployment")
    for name in ("web", "worker"):
        assert deployments[name]["spec"]["template"]["spec"]["serviceAccountName"] == "hangar-runtime"


def test_example_secret_holds_only_placeholders():
    secret = _named("Secret")["hangar-secrets"]["stringData"]
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= secret.keys()
    assert secret["SECRET_KEY"] == "change-me"


def test_compose_runs_the_five_services():
    (compose,) = _documents(PLATFORM / "compose.yaml")
    services = compose["services"]
    assert {"web", "worker", "beat", "postgres", "redis"} <= services.keys()
    for name in ("web", "worker", "beat"):
        command = services[name]["command"]
        assert (command if isinstance(command, str) else command[0]) == name
        assert services[name]["build"] == ".."
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    for name in ("postgres", "redis"):
        assert "healthcheck" in services[name]
    assert services["web"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "postgres-data" in compose["volumes"]


def test_dockerfile_runs_non_root_with_healthcheck_and_entrypoint():
    text = (ROOT / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert users
    assert users[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK\s.*/health/live", text, re.MULTILINE | re.DOTALL)
    assert re.search(r"^ENTRYPOINT\s.*scripts/entrypoint\.sh", text, re.MULTILINE)
    assert re.search(r"^EXPOSE\s+8000", text, re.MULTILINE)
    assert "collectstatic" in text


def test_entrypoint_is_executable_and_handles_each_process():
    script = ROOT / "scripts" / "entrypoint.sh"
    assert os.access(script, os.X_OK)
    text = script.read_text()
    assert "set -euo pipefail" in text
    for command in ("web", "worker", "beat"):
        assert re.search(rf"^\s*{command}\)", text, re.MULTILINE)
    assert "daphne" in text
    assert "celery -A config worker" in text
    assert "celery -A config beat" in text
