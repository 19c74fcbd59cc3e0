"""The Cloud Run deployer: each notebook is one Cloud Run service, each deployment a revision of it.

It talks to Google only through ``google.cloud.run_v2.ServicesClient``, built on first use. Cloud
Run serves the app at its own URL, scales it between ``min_instances`` and ``max_instances`` (to
zero by itself), and moves traffic to a new revision once it is ready, so a redeploy has no
downtime and the previous revision needs no stopping. Deployed apps are public: the service's IAM
policy grants ``roles/run.invoker`` to ``allUsers``.
"""

from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone

from apps.deployments.deployers.base import APP_PORT, Deployer, DeployFailed, Revision, app_env
from apps.runtime.spec import LogEntry

if TYPE_CHECKING:
    from apps.deployments.models import Deployment

INVOKER_ROLE = "roles/run.invoker"
PUBLIC_MEMBER = "allUsers"


def _project() -> str:
    return getattr(settings, "GCP_PROJECT_ID", "")


def _region() -> str:
    return getattr(settings, "GCP_REGION", "us-central1")


class CloudRunDeployer(Deployer):
    """Cloud Run services in ``GCP_PROJECT_ID`` / ``GCP_REGION``."""

    name = "cloudrun"
    scales_itself = True

    def __init__(self, client: Any = None) -> None:
        self._given_client = client

    @cached_property
    def client(self) -> Any:
        """The ServicesClient (application default credentials), built on first use."""
        if self._given_client is not None:
            return self._given_client
        from google.cloud import run_v2

        return run_v2.ServicesClient()

    @staticmethod
    def parent() -> str:
        """``projects/<project>/locations/<region>``."""
        if not _project():
            raise DeployFailed("Cloud Run needs GCP_PROJECT_ID")
        return f"projects/{_project()}/locations/{_region()}"

    def service_path(self, deployment: "Deployment") -> str:
        """The service's full resource name."""
        return f"{self.parent()}/services/{deployment.service_name}"

    def service(self, deployment: "Deployment") -> Any:
        """The ``run_v2.Service`` for ``deployment``: image, limits, scaling, port and environment."""
        from google.cloud import run_v2

        env = {**app_env(deployment), "HANGAR_BASE_PATH": "/"}  # served at the root of its own URL
        env.pop("PORT")  # Cloud Run sets PORT itself from the container port
        container = run_v2.Container(
            image=deployment.build.image_name,
            ports=[run_v2.ContainerPort(container_port=APP_PORT)],
            env=[run_v2.EnvVar(name=key, value=value) for key, value in sorted(env.items())],
            resources=run_v2.ResourceRequirements(
                limits={"cpu": deployment.cpu, "memory": deployment.memory}, cpu_idle=True
            ),
        )
        return run_v2.Service(
            labels={"managed-by": "hangar", "hangar-deployment": str(deployment.pk)},
            ingress=run_v2.IngressTraffic.INGRESS_TRAFFIC_ALL,
            template=run_v2.RevisionTemplate(
                revision=f"{deployment.service_name}-r{deployment.revision}",
                containers=[container],
                scaling=run_v2.RevisionScaling(
                    min_instance_count=deployment.min_instances, max_instance_count=deployment.max_instances
                ),
            ),
        )

    def start(self, deployment: "Deployment") -> Revision:
        """Create the service, or roll out a new revision of it; wait for it; make it public."""
        from google.api_core import exceptions as google_errors

        if not deployment.build.image_name:
            raise DeployFailed(f"Build {deployment.build.build_id} has no container image for Cloud Run")
        service = self.service(deployment)
        timeout = settings.DEPLOY_HEALTH_TIMEOUT_SECONDS
        try:
            try:
                operation = self.client.create_service(
                    parent=self.parent(), service=service, service_id=deployment.service_name
                )
            except google_errors.AlreadyExists:
                service.name = self.service_path(deployment)
                operation = self.client.update_service(service=service)
            deployed = operation.result(timeout=timeout)
            self.client.set_iam_policy(
                request={
                    "resource": deployed.name,
                    "policy": {"bindings": [{"role": INVOKER_ROLE, "members": [PUBLIC_MEMBER]}]},
                }
            )
        except (google_errors.GoogleAPIError, TimeoutError) as exc:
            raise DeployFailed(f"Cloud Run did not deploy the service: {exc}") from exc
        return Revision(
            target=deployed.uri,
            service_url=deployed.uri,
            state={"deployer": self.name, "service": deployed.name, "revision": deployed.latest_ready_revision},
        )

    def retire(self, deployment: "Deployment") -> None:
        """Nothing to do: Cloud Run already sends all traffic to the newer revision."""

    def stop(self, deployment: "Deployment") -> None:
        """Delete the service (Cloud Run has no stopped state); an absent one is fine."""
        from google.api_core import exceptions as google_errors

        try:
            self.client.delete_service(name=self.service_path(deployment)).result(
                timeout=settings.DEPLOY_HEALTH_TIMEOUT_SECONDS
            )
        except google_errors.NotFound:
            return

    def is_running(self, deployment: "Deployment") -> tuple[bool, str]:
        """Ready while the service's terminal condition has succeeded."""
        from google.api_core import exceptions as google_errors
        from google.cloud import run_v2

        try:
            service = self.client.get_service(name=self.service_path(deployment))
        except google_errors.NotFound:
            return False, "Service not found"
        condition = service.terminal_condition
        if condition.state == run_v2.Condition.State.CONDITION_SUCCEEDED:
            return True, ""
        return False, condition.message or str(condition.state)

    def logs(self, deployment: "Deployment", *, tail: int = 100) -> list[LogEntry]:
        """Cloud Run keeps logs in Cloud Logging; point there."""
        url = (
            "https://console.cloud.google.com/run/detail/"
            f"{_region()}/{deployment.service_name}/logs?project={_project()}"
        )
        return [LogEntry(timestamp=timezone.now(), message=f"Logs are in Cloud Logging: {url}", source="platform")]
