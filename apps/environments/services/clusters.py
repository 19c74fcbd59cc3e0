"""Writes to clusters (admin only), and the health check that calls a cluster's API for real."""

import concurrent.futures
import logging
from typing import Any

import yaml
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.activity.services import activity_record
from apps.core.crypto import DecryptionError, decrypt_text, encrypt_text
from apps.core.errors import ErrorCode, HangarError
from apps.environments.models import Cluster

logger = logging.getLogger(__name__)

HEALTH_TIMEOUT_SECONDS = 5.0
_FIELDS = ("name", "description", "provider", "region", "status", "node_count")


def _name_taken(name: str) -> HangarError:
    return HangarError(f"A cluster named '{name}' already exists", error_code=ErrorCode.CONFLICT, status_code=409)


@transaction.atomic
def cluster_create(*, actor: Any, data: dict[str, Any]) -> Cluster:
    """Register a cluster; ``data["kubeconfig"]`` is validated YAML text and is stored encrypted."""
    if Cluster.objects.filter(name=data["name"]).exists():
        raise _name_taken(data["name"])
    cluster = Cluster(**{key: data[key] for key in _FIELDS if key in data})
    cluster.kubeconfig_encrypted = encrypt_text(data["kubeconfig"])
    try:
        with transaction.atomic():
            cluster.save()
    except IntegrityError:
        raise _name_taken(data["name"]) from None
    activity_record(user=actor, action="cluster_created", details=f"Registered cluster {cluster.name}")
    return cluster


@transaction.atomic
def cluster_update(*, cluster: Cluster, actor: Any, data: dict[str, Any]) -> Cluster:
    """Change the given fields; a new kubeconfig replaces the stored one, encrypted."""
    if "name" in data and data["name"] != cluster.name and Cluster.objects.filter(name=data["name"]).exists():
        raise _name_taken(data["name"])
    for key in _FIELDS:
        if key in data:
            setattr(cluster, key, data[key])
    if data.get("kubeconfig"):
        cluster.kubeconfig_encrypted = encrypt_text(data["kubeconfig"])
    cluster.save()
    activity_record(user=actor, action="cluster_updated", details=f"Updated cluster {cluster.name}")
    return cluster


@transaction.atomic
def cluster_delete(*, cluster: Cluster, actor: Any) -> None:
    """Forget a cluster and its kubeconfig."""
    name = cluster.name
    cluster.delete()
    activity_record(user=actor, action="cluster_deleted", details=f"Deleted cluster {name}")


def _probe(config: dict) -> str:
    """The cluster's version, from its API server; raises on any failure."""
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config

    configuration = k8s_client.Configuration()
    # One try: an unreachable cluster must answer within the timeout, not after urllib3's retries.
    configuration.retries = 0
    api_client = k8s_config.new_client_from_config_dict(
        config_dict=config, persist_config=False, client_configuration=configuration
    )
    try:
        info = k8s_client.VersionApi(api_client).get_code(_request_timeout=HEALTH_TIMEOUT_SECONDS)
        return str(info.git_version)
    finally:
        api_client.close()


def cluster_health_check(*, cluster: Cluster) -> dict[str, Any]:
    """Call the cluster's API server (VersionApi) with a timeout and report what happened.

    Never raises: an unreachable or misconfigured cluster is a result, not a server error.
    """
    started = timezone.now()
    result: dict[str, Any] = {"cluster_id": str(cluster.pk), "cluster_name": cluster.name}
    try:
        config = yaml.safe_load(decrypt_text(cluster.kubeconfig_encrypted))
        executor = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        try:
            # A second, outer deadline: DNS or TLS stalls are not all covered by the request timeout.
            version = executor.submit(_probe, config).result(timeout=HEALTH_TIMEOUT_SECONDS + 2)
        finally:
            executor.shutdown(wait=False, cancel_futures=True)
        result.update({"status": "healthy", "reachable": True, "version": version, "error": None})
    except DecryptionError as exc:
        result.update({"status": "error", "reachable": False, "version": None, "error": str(exc)})
    except concurrent.futures.TimeoutError:
        result.update(
            {"status": "unreachable", "reachable": False, "version": None, "error": "Timed out contacting the cluster"}
        )
    except Exception as exc:
        logger.info("Cluster %s health check failed: %s", cluster.pk, exc)
        result.update({"status": "unreachable", "reachable": False, "version": None, "error": _short_error(exc)})
    checked = timezone.now()
    result["checked_at"] = checked.isoformat()
    result["response_time_ms"] = round((checked - started).total_seconds() * 1000, 1)
    Cluster.objects.filter(pk=cluster.pk).update(last_health_check=checked, last_health_status=result["status"])
    return result


def _short_error(exc: Exception) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 500 else text[:497] + "..."
