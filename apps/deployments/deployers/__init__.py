"""Deployers by name; ``settings.DEPLOY_BACKEND`` picks the one new deployments use."""

from django.conf import settings
from django.utils.module_loading import import_string

from apps.deployments.deployers.base import Deployer, DeployFailed, Revision

DEPLOYERS = {
    "local": "apps.deployments.deployers.local.LocalDeployer",
    "cloudrun": "apps.deployments.deployers.cloudrun.CloudRunDeployer",
    "kubernetes": "apps.deployments.deployers.kubernetes.KubernetesDeployer",
}
_instances: dict[str, Deployer] = {}

__all__ = ["DEPLOYERS", "DeployFailed", "Deployer", "Revision", "default_name", "get_deployer"]


def default_name() -> str:
    """The deployer new deployments use."""
    return settings.DEPLOY_BACKEND if settings.DEPLOY_BACKEND in DEPLOYERS else "local"


def get_deployer(name: str) -> Deployer:
    """The deployer called ``name`` (one instance per process; deployers keep no state in memory
    that another process would need)."""
    if name not in _instances:
        _instances[name] = import_string(DEPLOYERS[name])()
    return _instances[name]
