"""Every API error has the shape {"detail", "error_code", "timestamp"}, never HTML."""

import pytest
from django.urls import path
from rest_framework.views import APIView

from apps.core.errors import ErrorCode


def _explode(request):
    raise RuntimeError("boom: secret internals")


class _ExplodingApi(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    def get(self, request):
        raise RuntimeError("boom: secret internals")


urlpatterns = [
    path("api/v1/explode", _explode),
    path("api/v1/explode-drf", _ExplodingApi.as_view()),
]


def assert_json_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error_code"] == code and body["detail"] and body["timestamp"]
    return body


def test_error_codes_are_constants():
    assert ErrorCode.RATE_LIMITED == "RATE_LIMITED"
    assert ErrorCode.OAUTH_NOT_CONFIGURED == "OAUTH_NOT_CONFIGURED"
    assert ErrorCode.NOT_FOUND == "NOT_FOUND"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/environments/nope/deeper", "/nothing"])
def test_unknown_paths_are_json_404(client, path):
    assert_json_error(client.get(path), 404, ErrorCode.NOT_FOUND)


@pytest.mark.django_db
def test_a_browser_gets_an_html_404_page_off_the_api(client):
    response = client.get("/nothing", HTTP_ACCEPT="text/html")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_api_paths_answer_json_even_to_browsers(client):
    assert_json_error(client.get("/api/v1/nothing", HTTP_ACCEPT="text/html"), 404, ErrorCode.NOT_FOUND)


@pytest.mark.django_db
def test_wrong_method_is_json_405(api_client):
    assert_json_error(api_client.get("/api/v1/auth/login"), 405, ErrorCode.METHOD_NOT_ALLOWED)


@pytest.mark.django_db
def test_wrong_method_on_a_plain_view_is_json_405(client):
    response = client.post("/health")
    assert_json_error(response, 405, ErrorCode.METHOD_NOT_ALLOWED)


@pytest.mark.django_db
@pytest.mark.urls("apps.core.tests.test_errors")
@pytest.mark.parametrize("path", ["/api/v1/explode", "/api/v1/explode-drf"])
@pytest.mark.parametrize("debug", [False, True])
def test_a_crash_is_a_json_500_without_a_traceback(settings, path, debug):
    from django.test import Client

    settings.DEBUG = debug
    response = Client(raise_request_exception=False).get(path)
    body = assert_json_error(response, 500, ErrorCode.INTERNAL_ERROR)
    assert "secret internals" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert body["detail"] == "Internal server error"


@pytest.mark.django_db
def test_an_oversized_body_is_413_not_500(api_client, settings):
    body = b'{"username": "' + b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1) + b'"}'
    response = api_client.post("/api/v1/auth/login", data=body, content_type="application/json")
    assert_json_error(response, 413, ErrorCode.PAYLOAD_TOO_LARGE)


@pytest.mark.django_db
def test_a_404_raised_in_a_plain_view_stays_404(client):
    assert_json_error(client.get("/login/oauth/nope"), 404, ErrorCode.NOT_FOUND)


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", ["/health", "/health/ready", "/api/health/", "/api/v1/info"])
def test_public_read_only_routes_answer_405_to_writes(client, method, path):
    assert_json_error(getattr(client, method)(path), 405, ErrorCode.METHOD_NOT_ALLOWED)


@pytest.mark.django_db
def test_public_read_only_routes_answer_head(client):
    assert client.head("/health").status_code == 200


@pytest.mark.django_db
def test_root_varies_on_accept_and_honours_q_values(client):
    response = client.get("/", HTTP_ACCEPT="application/json, text/html;q=0.1")
    assert response["Content-Type"].startswith("application/json")
    assert "Accept" in response["Vary"]
