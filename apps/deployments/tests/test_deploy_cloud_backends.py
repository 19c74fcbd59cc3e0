"""The Cloud Run and Kubernetes deployers, tested at the client boundary: Google's and the
cluster's APIs cannot be reached from here, so their clients are mocks and the tests assert the
exact objects Hangar sends them."""

from unittest import mock

import pytest
from google.api_core import exceptions as google_errors
from google.cloud import run_v2
from kubernetes.client import ApiException

from apps.deployments import deployers
from apps.deployments.deployers.cloudrun import CloudRunDeployer
from apps.deployments.deployers.kubernetes import KubernetesDeployer
from apps.deployments.models import Deployment
from apps.deployments.services import deployments as services
from apps.deployments.services import scaling
from apps.deployments.tests import support
from apps.deployments.tests.support import make_build

runtime_root, plain_venv = support.runtime_root, support.plain_venv
pytestmark = pytest.mark.django_db
IMAGE = "us-central1-docker.pkg.dev/proj/hangar/notebook-1:abc"


@pytest.fixture
def build(user, runtime_root, plain_venv):
    return make_build(user, app="stdlib_app.py", env_path=plain_venv, root=runtime_root, image_name=IMAGE)


@pytest.fixture
def use_deployer(monkeypatch, settings):
    """Install ``deployer`` under its name and make it the default."""

    def install(deployer):
        settings.DEPLOY_BACKEND = deployer.name
        monkeypatch.setitem(deployers._instances, deployer.name, deployer)
        return deployer

    return install


def run_deploy(user, build, **options) -> Deployment:
    deployment = services.deployment_create(owner=user, notebook=build.notebook, build=build, **options)
    return services.deployment_execute(deployment=deployment)


# --- Cloud Run ------------------------------------------------------------------------------------


def cloudrun_client(uri: str = "https://notebook-1-1-xyz-uc.a.run.app") -> mock.MagicMock:
    client = mock.MagicMock(name="ServicesClient")
    served = run_v2.Service(name="projects/proj/locations/us-central1/services/x", uri=uri, latest_ready_revision="r1")
    client.create_service.return_value.result.return_value = served
    client.update_service.return_value.result.return_value = served
    return client


def test_cloudrun_client_boundary_creates_a_public_service_with_limits_and_scaling(user, build, use_deployer, settings):
    settings.GCP_PROJECT_ID, settings.GCP_REGION = "proj", "europe-west1"
    client = cloudrun_client()
    use_deployer(CloudRunDeployer(client=client))
    deployment = run_deploy(user, build, cpu="2", memory="1Gi", min_instances=1, max_instances=7)

    assert deployment.status == "deployed", deployment.error_message
    assert deployment.deployer == "cloudrun"
    assert deployment.service_url == "https://notebook-1-1-xyz-uc.a.run.app"
    name = deployment.service_name
    expected = run_v2.Service(
        labels={"managed-by": "hangar", "hangar-deployment": str(deployment.pk)},
        ingress=run_v2.IngressTraffic.INGRESS_TRAFFIC_ALL,
        template=run_v2.RevisionTemplate(
            revision=f"{name}-r1",
            containers=[
                run_v2.Container(
                    image=IMAGE,
                    ports=[run_v2.ContainerPort(container_port=8080)],
                    env=[
                        run_v2.EnvVar(name="HANGAR_BASE_PATH", value="/"),
                        run_v2.EnvVar(name="PYTHONUNBUFFERED", value="1"),
                    ],
                    resources=run_v2.ResourceRequirements(limits={"cpu": "2", "memory": "1Gi"}, cpu_idle=True),
                )
            ],
            scaling=run_v2.RevisionScaling(min_instance_count=1, max_instance_count=7),
        ),
    )
    client.create_service.assert_called_once_with(
        parent="projects/proj/locations/europe-west1", service=expected, service_id=name
    )
    client.set_iam_policy.assert_called_once_with(
        request={
            "resource": "projects/proj/locations/us-central1/services/x",
            "policy": {"bindings": [{"role": "roles/run.invoker", "members": ["allUsers"]}]},
        }
    )


def test_cloudrun_client_boundary_redeploy_updates_the_service_and_keeps_it(user, build, use_deployer, settings):
    settings.GCP_PROJECT_ID = "proj"
    client = cloudrun_client()
    use_deployer(CloudRunDeployer(client=client))
    first = run_deploy(user, build)
    client.create_service.side_effect = google_errors.AlreadyExists("exists")
    second = services.deployment_execute(deployment=services.deployment_redeploy(deployment=first))

    assert second.status == "deployed" and second.revision == 2
    sent = client.update_service.call_args.kwargs["service"]
    assert sent.name == f"projects/proj/locations/us-central1/services/{first.service_name}"
    assert sent.template.revision == f"{first.service_name}-r2"
    # Cloud Run moved the traffic itself: the superseded revision's service is not deleted.
    assert Deployment.objects.get(pk=first.pk).status == "stopped"
    client.delete_service.assert_not_called()

    services.deployment_stop(deployment=second)
    client.delete_service.assert_called_once_with(
        name=f"projects/proj/locations/us-central1/services/{first.service_name}"
    )


def test_cloudrun_client_boundary_api_error_fails_the_deployment(user, build, use_deployer, settings):
    settings.GCP_PROJECT_ID = "proj"
    client = cloudrun_client()
    client.create_service.return_value.result.side_effect = google_errors.FailedPrecondition("image not found")
    use_deployer(CloudRunDeployer(client=client))
    deployment = run_deploy(user, build)
    assert deployment.status == "failed"
    assert "Cloud Run did not deploy the service" in deployment.error_message
    assert "image not found" in deployment.error_message


def test_cloudrun_client_boundary_needs_a_project_and_an_image(user, build, use_deployer, settings, runtime_root):
    settings.GCP_PROJECT_ID = ""
    use_deployer(CloudRunDeployer(client=cloudrun_client()))
    assert "GCP_PROJECT_ID" in run_deploy(user, build).error_message
    settings.GCP_PROJECT_ID = "proj"
    imageless = make_build(user, app="stdlib_app.py", env_path=runtime_root, root=runtime_root, notebook=build.notebook)
    assert "no container image" in run_deploy(user, imageless).error_message


# --- Kubernetes -----------------------------------------------------------------------------------


def k8s_deployer() -> KubernetesDeployer:
    deployer = KubernetesDeployer(api_client=object())
    deployer.apps, deployer.core, deployer.autoscaling = mock.MagicMock(), mock.MagicMock(), mock.MagicMock()
    rollout = mock.MagicMock()
    rollout.metadata.generation = 2
    rollout.spec.replicas = 2
    rollout.status.observed_generation = 2
    rollout.status.updated_replicas = 2
    rollout.status.available_replicas = 2
    deployer.apps.read_namespaced_deployment_status.return_value = rollout
    return deployer


def test_k8s_client_boundary_applies_deployment_service_and_hpa(user, build, use_deployer, settings):
    settings.DEPLOY_K8S_NAMESPACE = "apps"
    deployer = use_deployer(k8s_deployer())
    deployment = run_deploy(user, build, cpu="500m", memory="256Mi", min_instances=2, max_instances=5)
    assert deployment.status == "deployed", deployment.error_message
    name = deployment.service_name
    assert deployment.runtime_state["target"] == f"http://{name}.apps.svc.cluster.local"
    assert deployment.service_url.endswith(f"/apps/{name}/")

    labels = {"app.kubernetes.io/managed-by": "hangar", "hangar.dev/service": name, "hangar.dev/owner-id": str(user.pk)}
    metadata = {"name": name, "labels": labels, "namespace": "apps"}
    amounts = {"cpu": "500m", "memory": "256Mi"}
    expected_deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata,
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"hangar.dev/service": name}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": {"hangar.dev/service": name, "hangar.dev/revision": "1"}},
                "spec": {
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 1000, "runAsGroup": 1000},
                    "containers": [
                        {
                            "name": "app",
                            "image": IMAGE,
                            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                            "env": [
                                {"name": "HANGAR_BASE_PATH", "value": f"/apps/{name}/"},
                                {"name": "PORT", "value": "8080"},
                                {"name": "PYTHONUNBUFFERED", "value": "1"},
                            ],
                            "resources": {"requests": amounts, "limits": amounts},
                            "readinessProbe": {
                                "httpGet": {"path": "/", "port": 8080},
                                "periodSeconds": 2,
                                "failureThreshold": 3,
                            },
                            "securityContext": {
                                "runAsNonRoot": True,
                                "runAsUser": 1000,
                                "runAsGroup": 1000,
                                "allowPrivilegeEscalation": False,
                                "capabilities": {"drop": ["ALL"]},
                                "readOnlyRootFilesystem": False,
                                "seccompProfile": {"type": "RuntimeDefault"},
                            },
                        }
                    ],
                },
            },
        },
    }
    deployer.apps.create_namespaced_deployment.assert_called_once_with(
        namespace="apps", body=expected_deployment, _request_timeout=30
    )
    deployer.core.create_namespaced_service.assert_called_once_with(
        namespace="apps",
        body={
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": metadata,
            "spec": {
                "type": "ClusterIP",
                "selector": {"hangar.dev/service": name},
                "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}],
            },
        },
        _request_timeout=30,
    )
    deployer.autoscaling.create_namespaced_horizontal_pod_autoscaler.assert_called_once_with(
        namespace="apps",
        body={
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": metadata,
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                "minReplicas": 2,
                "maxReplicas": 5,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
                    }
                ],
            },
        },
        _request_timeout=30,
    )


def test_k8s_client_boundary_redeploy_replaces_and_stop_deletes(user, build, use_deployer):
    deployer = use_deployer(k8s_deployer())
    first = run_deploy(user, build)
    conflict = ApiException(status=409, reason="AlreadyExists")
    deployer.apps.create_namespaced_deployment.side_effect = conflict
    deployer.core.create_namespaced_service.side_effect = conflict
    deployer.autoscaling.create_namespaced_horizontal_pod_autoscaler.side_effect = conflict
    second = services.deployment_execute(deployment=services.deployment_redeploy(deployment=first))
    assert second.status == "deployed"
    replaced = deployer.apps.replace_namespaced_deployment.call_args.kwargs
    assert replaced["name"] == first.service_name
    assert replaced["body"]["spec"]["template"]["metadata"]["labels"]["hangar.dev/revision"] == "2"
    assert deployer.core.replace_namespaced_service.called
    assert deployer.autoscaling.replace_namespaced_horizontal_pod_autoscaler.called
    # The rolling update replaced the old pods; retiring the old revision deletes nothing.
    deployer.apps.delete_namespaced_deployment.assert_not_called()

    services.deployment_stop(deployment=second)
    deployer.apps.delete_namespaced_deployment.assert_called_once_with(
        name=first.service_name, namespace="hangar-apps", _request_timeout=30
    )
    deployer.core.delete_namespaced_service.assert_called_once()
    deployer.autoscaling.delete_namespaced_horizontal_pod_autoscaler.assert_called_once()


def test_k8s_client_boundary_rollout_timeout_fails(user, build, use_deployer, settings):
    settings.DEPLOY_HEALTH_TIMEOUT_SECONDS = 0
    deployer = use_deployer(k8s_deployer())
    deployer.apps.read_namespaced_deployment_status.return_value.status.available_replicas = 0
    pod = mock.MagicMock()
    pod.metadata.name = "pod-1"
    deployer.core.list_namespaced_pod.return_value.items = [pod]
    deployer.core.read_namespaced_pod_log.return_value = "2026-01-01T00:00:00Z Traceback: boom\n"
    deployment = run_deploy(user, build)
    assert deployment.status == "failed"
    assert "replicas available" in deployment.error_message and "Traceback: boom" in deployment.error_message


def test_k8s_client_boundary_sleep_scales_to_zero(user, build, use_deployer):
    deployer = use_deployer(k8s_deployer())
    deployment = run_deploy(user, build, min_instances=0)
    scaling.deployment_sleep(deployment_id=deployment.pk)
    deployer.apps.patch_namespaced_deployment_scale.assert_called_once_with(
        name=deployment.service_name, namespace="hangar-apps", body={"spec": {"replicas": 0}}, _request_timeout=30
    )
    assert Deployment.objects.get(pk=deployment.pk).instances == 0
