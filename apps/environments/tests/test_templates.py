"""004's /api/v1/templates: defaults, filters, admin CRUD where DELETE deprecates."""

import pytest
from django.core.management import call_command

from apps.environments.models import Template
from apps.environments.tests.factories import TemplateFactory
from apps.environments.tests.test_environments_v1 import assert_error

pytestmark = pytest.mark.django_db

TEMPLATE_FIELDS = {
    "id",
    "name",
    "display_name",
    "description",
    "category",
    "tags",
    "docker_image",
    "default_port",
    "default_resources",
    "environment_variables",
    "startup_commands",
    "documentation_url",
    "icon_url",
    "status",
    "version",
    "created_at",
    "updated_at",
    "usage_count",
    "runtimes",
    "network_policy",
}
STANDARD = {"cpu": "500m", "memory": "1Gi", "storage": "10Gi"}


def test_initialize_creates_the_five_documented_defaults_once(superuser_client):
    response = superuser_client.post("/api/v1/templates/initialize")
    assert response.status_code == 200
    assert response.json()["created"] == 5
    by_image = {t.docker_image: t for t in Template.objects.all()}
    expected = {
        "python:3.11-slim": (8080, STANDARD, "python3 --version"),
        "node:18-slim": (3000, STANDARD, "node --version"),
        "golang:1.21-alpine": (8080, STANDARD, "go version"),
        "rust:latest": (8080, {"cpu": "1000m", "memory": "2Gi", "storage": "15Gi"}, "rustc --version"),
        "ubuntu:22.04": (8080, STANDARD, "uname -sr"),
    }
    assert set(by_image) == set(expected)
    for image, (port, resources, first_command) in expected.items():
        template = by_image[image]
        assert template.default_port == port
        assert template.default_resources == resources
        assert template.startup_commands[0] == first_command
        assert template.status == "active"
        assert template.runtimes == ["local", "kubernetes"]
        assert template.network_policy == "egress"
    assert by_image["ubuntu:22.04"].category == "operating_system"
    again = superuser_client.post("/api/v1/templates/initialize").json()
    assert again["created"] == 0
    assert Template.objects.count() == 5


def test_the_seed_command_initializes_templates(db):
    call_command("seed")
    call_command("seed")
    assert Template.objects.count() == 5


def test_initialize_is_admin_only(user_client, api_client):
    assert_error(user_client.post("/api/v1/templates/initialize"), 403, "FORBIDDEN")
    assert_error(api_client.post("/api/v1/templates/initialize"), 401, "UNAUTHORIZED")


def test_list_and_get_need_only_authentication(user_client, api_client, templates):
    body = user_client.get("/api/v1/templates").json()
    assert len(body) == 5
    assert set(body[0]) == TEMPLATE_FIELDS
    one = user_client.get(f"/api/v1/templates/{templates['nodejs-18'].pk}").json()
    assert one["display_name"] == "Node.js 18 LTS"
    assert_error(api_client.get("/api/v1/templates"), 401)


def test_filters(user_client, templates):
    TemplateFactory(name="beta-thing", category="database", status="beta")
    assert [t["name"] for t in user_client.get("/api/v1/templates?category=operating_system").json()] == [
        "ubuntu-22.04"
    ]
    assert [t["name"] for t in user_client.get("/api/v1/templates?status=beta").json()] == ["beta-thing"]
    assert user_client.get("/api/v1/templates?category=database&status=active").json() == []


@pytest.mark.parametrize("query", ["category=games", "status=retired", "category="])
def test_bad_filters_are_400(user_client, query):
    assert_error(user_client.get(f"/api/v1/templates?{query}"), 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("template_id", ["nope", "00000000-0000-0000-0000-000000000000"])
def test_unknown_template_is_404(user_client, template_id):
    assert_error(user_client.get(f"/api/v1/templates/{template_id}"), 404, "NOT_FOUND")


def test_admin_creates_updates_and_deprecates(superuser_client, user_client):
    body = {
        "name": "postgres-16",
        "display_name": "PostgreSQL 16",
        "category": "database",
        "docker_image": "postgres:16",
        "default_port": 5432,
        "default_resources": {"cpu": "250m", "memory": "512Mi", "storage": "5Gi"},
        "startup_commands": ["psql --version"],
        "runtimes": ["kubernetes"],
        "network_policy": "none",
    }
    response = superuser_client.post("/api/v1/templates", body, format="json")
    assert response.status_code == 201
    created = response.json()
    assert created["runtimes"] == ["kubernetes"] and created["network_policy"] == "none"
    assert_error(superuser_client.post("/api/v1/templates", body, format="json"), 409, "CONFLICT")
    assert_error(user_client.post("/api/v1/templates", {**body, "name": "other"}, format="json"), 403)

    url = f"/api/v1/templates/{created['id']}"
    updated = superuser_client.put(url, {"description": "Relational", "status": "beta"}, format="json").json()
    assert updated["description"] == "Relational" and updated["status"] == "beta"
    assert_error(user_client.put(url, {"description": "x"}, format="json"), 403)

    assert_error(user_client.delete(url), 403)
    response = superuser_client.delete(url)
    assert response.status_code == 200
    assert response.json()["status"] == "deprecated"
    assert Template.objects.get(pk=created["id"]).status == "deprecated"


def test_create_defaults_resources_and_runtimes(superuser_client):
    response = superuser_client.post(
        "/api/v1/templates", {"name": "tiny", "display_name": "Tiny", "docker_image": "python:3.12"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["default_resources"] == STANDARD
    assert response.json()["runtimes"] == ["kubernetes", "local"]


@pytest.mark.parametrize(
    "change",
    [
        {"name": "Not A Slug"},
        {"docker_image": "bad image"},
        {"default_port": 0},
        {"default_port": 70000},
        {"default_resources": {"cpu": "lots", "memory": "1Gi", "storage": "1Gi"}},
        {"default_resources": {"cpu": "1", "memory": "1Gi"}},
        {"default_resources": {"cpu": "1", "memory": "1Gi", "storage": "1Gi", "gpu": "1"}},
        {"default_resources": "500m"},
        {"category": "games"},
        {"status": "retired"},
        {"runtimes": ["docker"]},
        {"network_policy": "open"},
        {"startup_commands": "echo hi"},
        {"environment_variables": {"BAD-KEY": "x"}},
    ],
)
def test_create_validates(superuser_client, change):
    body = {"name": "valid", "display_name": "Valid", "docker_image": "python:3.11-slim", **change}
    assert_error(superuser_client.post("/api/v1/templates", body, format="json"), 400, "VALIDATION_ERROR")


def test_update_validates_and_404s(superuser_client, templates):
    url = f"/api/v1/templates/{templates['python-3.11'].pk}"
    assert_error(superuser_client.put(url, {"default_port": -1}, format="json"), 400)
    assert_error(superuser_client.put(url, {"name": "nodejs-18"}, format="json"), 409)
    assert_error(superuser_client.put("/api/v1/templates/nope", {"description": "x"}, format="json"), 404)
    assert_error(superuser_client.delete("/api/v1/templates/nope"), 404)
