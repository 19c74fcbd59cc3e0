"""The Kubernetes deployer: an ``apps/v1`` Deployment, a Service and an ``autoscaling/v2`` HPA per app.

The objects are named after the app's ``service_name`` and shared by its revisions: a redeploy
replaces the Deployment's pod template, and Kubernetes' rolling update keeps the old pods serving
until the new ones are ready. Hangar's proxy forwards ``/apps/<service_name>/`` to the Service's
cluster DNS name. It talks to the cluster only through the official client, built on first use.
"""

import time
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.conf import settings
from kubernetes import client, config
from kubernetes.client import ApiException
from kubernetes.config import ConfigException

from apps.deployments.deployers.base import APP_PORT, Deployer, DeployFailed, Revision, app_env
from apps.runtime.backends.k8s_manifests import SANDBOX_UID, container_security_context
from apps.runtime.backends.kubernetes import parse_logs
from apps.runtime.spec import LogEntry

if TYPE_CHECKING:
    from apps.deployments.models import Deployment

MANAGED_BY = {"app.kubernetes.io/managed-by": "hangar"}
SERVICE_LABEL = "hangar.dev/service"
CPU_TARGET_PERCENT = 80
ROLLOUT_POLL_SECONDS = 2.0
API_TIMEOUT = 30


def _selector(deployment: "Deployment") -> dict[str, str]:
    return {SERVICE_LABEL: deployment.service_name}


def _metadata(deployment: "Deployment") -> dict:
    labels = {**MANAGED_BY, **_selector(deployment), "hangar.dev/owner-id": str(deployment.owner_id)}
    return {"name": deployment.service_name, "labels": labels}


def deployment_manifest(deployment: "Deployment", namespace: str) -> dict:
    """The apps/v1 Deployment: the build's image, requests equal to limits, a readiness probe."""
    amounts = {"cpu": deployment.cpu, "memory": deployment.memory}
    pod_labels = {**_selector(deployment), "hangar.dev/revision": str(deployment.revision)}
    container = {
        "name": "app",
        "image": deployment.build.image_name,
        "ports": [{"name": "http", "containerPort": APP_PORT, "protocol": "TCP"}],
        "env": [{"name": key, "value": value} for key, value in sorted(app_env(deployment).items())],
        "resources": {"requests": dict(amounts), "limits": dict(amounts)},
        "readinessProbe": {"httpGet": {"path": "/", "port": APP_PORT}, "periodSeconds": 2, "failureThreshold": 3},
        "securityContext": container_security_context(),
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {**_metadata(deployment), "namespace": namespace},
        "spec": {
            "replicas": max(deployment.min_instances, 1),
            "selector": {"matchLabels": _selector(deployment)},
            # Zero downtime: no old pod goes before a new one is ready.
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": {
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": {"runAsNonRoot": True, "runAsUser": SANDBOX_UID, "runAsGroup": SANDBOX_UID},
                    "containers": [container],
                },
            },
        },
    }


def service_manifest(deployment: "Deployment", namespace: str) -> dict:
    """A ClusterIP Service on port 80 in front of the app's pods."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {**_metadata(deployment), "namespace": namespace},
        "spec": {
            "type": "ClusterIP",
            "selector": _selector(deployment),
            "ports": [{"name": "http", "port": 80, "targetPort": APP_PORT, "protocol": "TCP"}],
        },
    }


def hpa_manifest(deployment: "Deployment", namespace: str) -> dict:
    """An autoscaling/v2 HPA between min and max instances on CPU. Kubernetes' HPA cannot go to
    zero, so ``min_instances`` 0 runs one replica and Hangar's idle task scales it to zero."""
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {**_metadata(deployment), "namespace": namespace},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment.service_name},
            "minReplicas": max(deployment.min_instances, 1),
            "maxReplicas": deployment.max_instances,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": CPU_TARGET_PERCENT},
                    },
                }
            ],
        },
    }


class KubernetesDeployer(Deployer):
    """Apps in the ``DEPLOY_K8S_NAMESPACE`` namespace of the cluster Hangar runs in (or ~/.kube/config)."""

    name = "kubernetes"

    def __init__(self, api_client: Any = None) -> None:
        self._given_client = api_client

    @cached_property
    def api_client(self) -> Any:
        if self._given_client is not None:
            return self._given_client
        configuration = client.Configuration()
        try:
            try:
                config.load_incluster_config(client_configuration=configuration)
            except ConfigException:
                config.load_kube_config(client_configuration=configuration, persist_config=False)
        except (ConfigException, OSError) as exc:
            raise DeployFailed(f"The Kubernetes cluster is not configured: {exc}") from exc
        return client.ApiClient(configuration)

    @cached_property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api_client)

    @cached_property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api_client)

    @cached_property
    def autoscaling(self) -> client.AutoscalingV2Api:
        return client.AutoscalingV2Api(self.api_client)

    @property
    def namespace(self) -> str:
        return settings.DEPLOY_K8S_NAMESPACE

    def _apply(self, create: Any, replace: Any, name: str, body: dict) -> None:
        """Create ``body``, or replace the existing object of that name."""
        try:
            create(namespace=self.namespace, body=body, _request_timeout=API_TIMEOUT)
        except ApiException as exc:
            if exc.status != 409:
                raise
            replace(name=name, namespace=self.namespace, body=body, _request_timeout=API_TIMEOUT)

    def start(self, deployment: "Deployment") -> Revision:
        """Apply the Deployment, Service and HPA, then wait for the rollout to be available."""
        if not deployment.build.image_name:
            raise DeployFailed(f"Build {deployment.build.build_id} has no container image for Kubernetes")
        name, namespace = deployment.service_name, self.namespace
        try:
            self._apply(
                self.apps.create_namespaced_deployment,
                self.apps.replace_namespaced_deployment,
                name,
                deployment_manifest(deployment, namespace),
            )
            self._apply(
                self.core.create_namespaced_service,
                self.core.replace_namespaced_service,
                name,
                service_manifest(deployment, namespace),
            )
            self._apply(
                self.autoscaling.create_namespaced_horizontal_pod_autoscaler,
                self.autoscaling.replace_namespaced_horizontal_pod_autoscaler,
                name,
                hpa_manifest(deployment, namespace),
            )
            self._wait_rollout(deployment)
        except ApiException as exc:
            raise DeployFailed(f"The cluster refused the deployment: HTTP {exc.status} {exc.reason}") from exc
        return Revision(
            target=f"http://{name}.{namespace}.svc.cluster.local",
            state={"deployer": self.name, "namespace": namespace, "name": name},
        )

    def _wait_rollout(self, deployment: "Deployment") -> None:
        deadline = time.monotonic() + settings.DEPLOY_HEALTH_TIMEOUT_SECONDS
        while True:
            ready, reason = self._rollout_done(deployment)
            if ready:
                return
            if time.monotonic() > deadline:
                raise DeployFailed(
                    f"The rollout was not available within {settings.DEPLOY_HEALTH_TIMEOUT_SECONDS} s ({reason})",
                    self._log_text(deployment),
                )
            time.sleep(ROLLOUT_POLL_SECONDS)

    def _rollout_done(self, deployment: "Deployment") -> tuple[bool, str]:
        current = self.apps.read_namespaced_deployment_status(
            name=deployment.service_name, namespace=self.namespace, _request_timeout=API_TIMEOUT
        )
        status, spec = current.status, current.spec
        wanted = spec.replicas or 0
        if (status.observed_generation or 0) < (current.metadata.generation or 0):
            return False, "the new revision is not observed yet"
        if (status.updated_replicas or 0) < wanted:
            return False, f"{status.updated_replicas or 0}/{wanted} replicas updated"
        if (status.available_replicas or 0) < max(wanted, 1):
            return False, f"{status.available_replicas or 0}/{wanted} replicas available"
        return True, ""

    def retire(self, deployment: "Deployment") -> None:
        """Nothing to do: the rolling update already replaced the older revision's pods."""

    def sleep(self, deployment: "Deployment") -> None:
        """Zero replicas; the HPA (which cannot go below one) is removed until the app wakes."""
        self._delete(self.autoscaling.delete_namespaced_horizontal_pod_autoscaler, deployment.service_name)
        self.apps.patch_namespaced_deployment_scale(
            name=deployment.service_name,
            namespace=self.namespace,
            body={"spec": {"replicas": 0}},
            _request_timeout=API_TIMEOUT,
        )

    def stop(self, deployment: "Deployment") -> None:
        """Delete the HPA, the Service and the Deployment (absent ones are fine)."""
        name = deployment.service_name
        self._delete(self.autoscaling.delete_namespaced_horizontal_pod_autoscaler, name)
        self._delete(self.core.delete_namespaced_service, name)
        self._delete(self.apps.delete_namespaced_deployment, name)

    def _delete(self, delete: Any, name: str) -> None:
        try:
            delete(name=name, namespace=self.namespace, _request_timeout=API_TIMEOUT)
        except ApiException as exc:
            if exc.status != 404:
                raise

    def is_running(self, deployment: "Deployment") -> tuple[bool, str]:
        """Running while at least one replica is available."""
        try:
            current = self.apps.read_namespaced_deployment_status(
                name=deployment.service_name, namespace=self.namespace, _request_timeout=API_TIMEOUT
            )
        except ApiException as exc:
            if exc.status == 404:
                return False, "Deployment not found"
            raise
        available = current.status.available_replicas or 0
        return available > 0, "" if available else "no replica available"

    def logs(self, deployment: "Deployment", *, tail: int = 100) -> list[LogEntry]:
        """The log of the app's newest pod."""
        pods = self.core.list_namespaced_pod(
            namespace=self.namespace,
            label_selector=f"{SERVICE_LABEL}={deployment.service_name}",
            _request_timeout=API_TIMEOUT,
        ).items
        if not pods:
            return []
        newest = max(pods, key=lambda pod: pod.metadata.creation_timestamp or 0)
        text = self.core.read_namespaced_pod_log(
            name=newest.metadata.name,
            namespace=self.namespace,
            container="app",
            tail_lines=tail,
            timestamps=True,
            _request_timeout=API_TIMEOUT,
        )
        return parse_logs(text)

    def _log_text(self, deployment: "Deployment") -> str:
        try:
            return "\n".join(entry.message for entry in self.logs(deployment, tail=60))
        except ApiException:
            return ""
