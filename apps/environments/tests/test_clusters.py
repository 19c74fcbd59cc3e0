"""004's /api/v1/clusters: admin CRUD, the kubeconfig encrypted and never returned, regions, health.

The health check is tested for real against https://127.0.0.1:1, where nothing listens.
"""

import time

import pytest

from apps.core.crypto import decrypt_text
from apps.environments.models import Cluster
from apps.environments.regions import REGIONS
from apps.environments.tests.factories import KUBECONFIG, ClusterFactory
from apps.environments.tests.test_environments_v1 import assert_error

pytestmark = pytest.mark.django_db

CLUSTER_FIELDS = {
    "id",
    "name",
    "description",
    "provider",
    "region",
    "kubeconfig",
    "status",
    "node_count",
    "created_at",
    "updated_at",
}


def body(**change):
    return {"name": "prod-gra", "provider": "ovh", "region": "GRA", "kubeconfig": KUBECONFIG, "node_count": 3, **change}


def test_create_encrypts_the_kubeconfig_and_never_returns_it(superuser_client):
    response = superuser_client.post("/api/v1/clusters", body(), format="json")
    assert response.status_code == 201
    data = response.json()
    assert set(data) >= CLUSTER_FIELDS
    assert data["kubeconfig"] == "***encrypted***"
    assert "not-a-real-token" not in response.content.decode()
    cluster = Cluster.objects.get(pk=data["id"])
    assert "not-a-real-token" not in cluster.kubeconfig_encrypted
    assert "127.0.0.1" not in cluster.kubeconfig_encrypted
    assert decrypt_text(cluster.kubeconfig_encrypted) == KUBECONFIG
    listed = superuser_client.get("/api/v1/clusters").json()
    assert listed[0]["kubeconfig"] == "***encrypted***"
    one = superuser_client.get(f"/api/v1/clusters/{data['id']}")
    assert "not-a-real-token" not in one.content.decode()


def test_names_are_unique(superuser_client):
    assert superuser_client.post("/api/v1/clusters", body(), format="json").status_code == 201
    assert_error(superuser_client.post("/api/v1/clusters", body(), format="json"), 409, "CONFLICT")


@pytest.mark.parametrize(
    "kubeconfig",
    [
        "",
        "{not yaml: [",
        "just a string",
        "clusters: []\ncontexts: [{name: a}]",
        "clusters: [{name: a, cluster: {server: https://x}}]",
        "clusters: [{name: a}]\ncontexts: [{name: a}]",
        "clusters: [{name: a, cluster: {server: https://x, certificate-authority: /etc/ca}}]\ncontexts: [{name: a}]",
        "clusters: [{name: a, cluster: {server: https://x}}]\ncontexts: [{name: a}]\n"
        "users: [{name: u, user: {exec: {command: /bin/sh}}}]",
        "clusters: [{name: a, cluster: {server: https://x}}]\ncontexts: [{name: a}]\n"
        "users: [{name: u, user: {client-key: /root/key}}]",
        "a: &a [x, x]\nb: &b [*a, *a]\nclusters: [{name: a, cluster: {server: https://x}}]\ncontexts: [{name: a}]",
    ],
)
def test_kubeconfig_must_be_a_safe_kubeconfig(superuser_client, kubeconfig):
    response = superuser_client.post("/api/v1/clusters", body(kubeconfig=kubeconfig), format="json")
    assert_error(response, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    "change", [{"name": ""}, {"region": "bad region!"}, {"provider": "mars"}, {"node_count": -1}, {"status": "x"}]
)
def test_other_fields_are_validated(superuser_client, change):
    assert_error(superuser_client.post("/api/v1/clusters", body(**change), format="json"), 400, "VALIDATION_ERROR")


def test_update_and_delete(superuser_client):
    cluster = ClusterFactory()
    url = f"/api/v1/clusters/{cluster.pk}"
    new_config = KUBECONFIG.replace("not-a-real-token", "rotated-token")
    response = superuser_client.put(url, {"node_count": 7, "kubeconfig": new_config}, format="json")
    assert response.status_code == 200
    assert response.json()["node_count"] == 7
    assert response.json()["kubeconfig"] == "***encrypted***"
    cluster.refresh_from_db()
    assert decrypt_text(cluster.kubeconfig_encrypted) == new_config
    assert_error(superuser_client.put(url, {"kubeconfig": "nope"}, format="json"), 400)
    assert superuser_client.delete(url).status_code == 204
    assert_error(superuser_client.get(url), 404, "NOT_FOUND")
    assert_error(superuser_client.delete(url), 404)


def test_regions(superuser_client):
    response = superuser_client.get("/api/v1/clusters/regions")
    assert response.status_code == 200
    assert response.json() == REGIONS
    assert {"id", "name", "provider"} <= set(response.json()[0])


def test_clusters_are_admin_only(user_client, api_client):
    cluster = ClusterFactory()
    for method, url in [
        ("get", "/api/v1/clusters"),
        ("post", "/api/v1/clusters"),
        ("get", "/api/v1/clusters/regions"),
        ("get", f"/api/v1/clusters/{cluster.pk}"),
        ("put", f"/api/v1/clusters/{cluster.pk}"),
        ("delete", f"/api/v1/clusters/{cluster.pk}"),
        ("get", f"/api/v1/clusters/{cluster.pk}/health"),
    ]:
        assert_error(getattr(user_client, method)(url, {}, format="json"), 403, "FORBIDDEN")
        assert_error(getattr(api_client, method)(url, {}, format="json"), 401, "UNAUTHORIZED")
    assert Cluster.objects.filter(pk=cluster.pk).exists()


def test_health_of_an_unreachable_cluster_is_a_result_not_a_500(superuser_client):
    cluster = ClusterFactory()
    started = time.monotonic()
    response = superuser_client.get(f"/api/v1/clusters/{cluster.pk}/health")
    assert time.monotonic() - started < 10
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "unreachable"
    assert data["reachable"] is False
    assert data["error"]
    assert data["cluster_id"] == str(cluster.pk)
    cluster.refresh_from_db()
    assert cluster.last_health_status == "unreachable"
    assert cluster.last_health_check is not None


def test_health_with_an_undecryptable_kubeconfig(superuser_client):
    cluster = ClusterFactory(kubeconfig_encrypted="garbage")
    data = superuser_client.get(f"/api/v1/clusters/{cluster.pk}/health").json()
    assert data["status"] == "error" and data["reachable"] is False


def test_health_of_an_unknown_cluster_is_404(superuser_client):
    assert_error(superuser_client.get("/api/v1/clusters/nope/health"), 404)
