"""Per-family rate limits, their headers, and the 429 body."""

import pytest

from apps.accounts.tokens import tokens_for
from apps.core.errors import ErrorCode
from apps.core.ratelimit import scope_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "scope"),
    [
        ("/api/v1/auth/login", "v1_auth"),
        ("/api/v1/auth/me", "v1_api"),
        ("/api/v1/info", "v1_api"),
        ("/api/auth/dev-login", "automl_auth"),
        ("/api/auth/me", "automl_api"),
        ("/api/users/login", "exec_auth"),
        ("/auth/login", "cmb_auth"),
        ("/users/me", "cmb_api"),
        ("/activity", "cmb_api"),
        ("/health", None),
        ("/", None),
        ("/login", "pages_auth"),
        ("/register", "pages_auth"),
    ],
)
def test_each_family_keeps_its_own_scope(path, scope):
    assert scope_for(path) == scope


def test_page_views_are_not_limited():
    assert scope_for("/login", "GET") is None


def test_a_token_does_not_buy_a_fresh_sign_in_budget(api_client, user):
    body = {"username": "ghost", "password": "x"}
    for _ in range(5):
        api_client.post("/api/v1/auth/login", body, format="json")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_for(user).access}")
    assert api_client.post("/api/v1/auth/login", body, format="json").status_code == 429


def test_the_sign_in_page_is_limited(client):
    statuses = [client.post("/login", {"identifier": "ghost", "password": "x"}).status_code for _ in range(11)]
    assert statuses[-1] == 429 and 429 not in statuses[:10]


def test_documented_defaults(settings):
    limits = settings.HANGAR_RATE_LIMITS
    assert (limits["cmb_auth"], limits["cmb_api"]) == ("10/h", "60/m")
    assert (limits["v1_auth"], limits["v1_api"]) == ("5/m", "100/m")
    assert limits["websocket_connections"] == 10


def test_limited_routes_carry_the_headers(user_client):
    response = user_client.get("/api/v1/auth/me")
    assert response["X-RateLimit-Limit"] == "100"
    assert response["X-RateLimit-Remaining"] == "99"
    assert int(response["X-RateLimit-Reset"]) > 0


def test_v1_auth_is_five_per_minute_then_429(api_client):
    body = {"username": "ghost", "password": "x"}
    responses = [api_client.post("/api/v1/auth/login", body, format="json") for _ in range(6)]
    assert [r.status_code for r in responses] == [401] * 5 + [429]
    limited = responses[-1]
    assert limited.json()["error_code"] == ErrorCode.RATE_LIMITED
    assert limited["X-RateLimit-Remaining"] == "0"
    assert int(limited["Retry-After"]) >= 1


def test_cmb_api_is_sixty_per_minute_per_user(user_client, other_client):
    statuses = [user_client.get("/users/me").status_code for _ in range(61)]
    assert statuses[:60] == [200] * 60 and statuses[60] == 429
    # Another user has a counter of their own.
    assert other_client.get("/users/me").status_code == 200


def test_limits_are_configurable(api_client, settings):
    settings.HANGAR_RATE_LIMITS = {**settings.HANGAR_RATE_LIMITS, "exec_auth": "2/m"}
    body = {"username": "ghost", "password": "x"}
    statuses = [api_client.post("/api/users/login", body, format="json").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]


def test_health_is_never_limited(client, settings):
    settings.HANGAR_RATE_LIMITS = {**settings.HANGAR_RATE_LIMITS, "v1_api": "1/m"}
    assert all(client.get("/health").status_code == 200 for _ in range(5))
    assert not client.get("/health").has_header("X-RateLimit-Limit")


def test_higher_tiers_get_higher_api_limits(user):
    from conftest import bearer_client

    user.tier = "pro"
    user.save()
    assert bearer_client(user).get("/api/v1/auth/me")["X-RateLimit-Limit"] == "300"
