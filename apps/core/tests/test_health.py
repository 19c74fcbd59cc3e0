"""Health, root and info routes, each with every documented field."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_health_has_every_documented_field(client):
    body = client.get("/health").json()
    assert body["status"] == "healthy"
    assert {"version", "uptime", "timestamp", "service", "environment"} <= set(body)
    assert body["runtime"]["backend"] == "local"
    assert body["runtime"]["sandbox"] == "bubblewrap"


def test_root_is_json_for_api_clients(client):
    body = client.get("/", HTTP_ACCEPT="application/json").json()
    assert {"service", "version", "status", "docs", "name", "health"} <= set(body)
    assert body["docs"] == "/docs"


def test_root_is_the_dashboard_for_browsers(client):
    response = client.get("/", HTTP_ACCEPT="text/html,application/xhtml+xml")
    assert response["Content-Type"].startswith("text/html")
    assert b"Hangar" in response.content


def test_live(client):
    assert client.get("/health/live").json()["status"] == "alive"


def test_ready_checks_the_database(client, settings):
    body = client.get("/health/ready").json()
    assert body["status"] == "ready"
    assert body["checks"]["database"] == "ok"
    if settings.REDIS_URL:
        assert body["checks"]["cache"] == body["checks"]["broker"] == "ok"


def test_ready_is_503_when_the_database_is_down(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise RuntimeError("database is down")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["status"] == "not_ready"
    assert "database is down" in response.json()["errors"]["database"]


def test_ready_is_503_when_redis_is_unreachable(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": settings.REDIS_URL}}
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == "error"


def test_health_db(client):
    body = client.get("/health/db").json()
    assert (body["status"], body["database"]) == ("healthy", "connected")


def test_health_redis(client, settings):
    body = client.get("/health/redis").json()
    if settings.REDIS_URL:
        assert body["redis"] == "connected"
    else:
        assert body["redis"] == "not configured"


def test_health_redis_down_is_503(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/health/redis")
    assert response.status_code == 503
    assert response.json()["redis"] == "disconnected"


def test_api_health(client):
    body = client.get("/api/health/").json()
    assert {"status", "timestamp", "uptime", "environment", "version", "message"} <= set(body)


def test_api_health_detailed_reports_memory_and_cpu(client):
    system = client.get("/api/health/detailed").json()["system"]
    assert system["memory"]["unit"] == "MB" and system["memory"]["total"] > 0
    assert system["cpu"]["count"] >= 1
    assert system["platform"] == "posix"


def test_info(client):
    body = client.get("/api/v1/info").json()
    assert body["api_version"] == "v1" and body["version"] == "1.0.0"


def test_openapi_schema_and_docs_are_served_offline(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    assert "/api/v1/auth/login" in schema.json()["paths"]
    docs = client.get("/docs", HTTP_ACCEPT="text/html")
    assert docs.status_code == 200 and b"/static/drf_spectacular_sidecar/" in docs.content
    redoc = client.get("/redoc", HTTP_ACCEPT="text/html")
    assert redoc.status_code == 200 and b"/static/drf_spectacular_sidecar/" in redoc.content
