"""The auth routes of 002 (/api/users/*), 003 (/api/auth/*) and 001 (/auth/*, /users/me)."""

import pytest

from apps.accounts.models import User
from apps.accounts.tokens import tokens_for
from apps.core.errors import ErrorCode

pytestmark = pytest.mark.django_db
STRONG = "SecurePassword123!"


class TestCodeExecutionUsers:
    """002: envelopes ``{"success", "message", "data"}``; duplicates are 400 as documented."""

    def register(self, client, **overrides):
        body = {"username": "johndoe", "email": "john@example.com", "password": STRONG, **overrides}
        return client.post("/api/users/register", body, format="json")

    def test_register_answers_the_002_shape(self, api_client):
        response = self.register(api_client)
        assert response.status_code == 201
        body = response.json()
        assert body["success"] is True
        assert body["message"] == "User registered successfully"
        assert body["data"] == {"user_id": body["user"]["id"]}
        assert set(body["user"]) == {"id", "username", "email", "created_at", "updated_at"}

    def test_the_documented_curl_example_works(self, api_client):
        body = {"username": "testuser", "email": "test@example.com", "password": "password123"}
        assert api_client.post("/api/users/register", body, format="json").status_code == 201

    def test_duplicate_in_other_case_is_400(self, api_client):
        self.register(api_client)
        response = self.register(api_client, username="JohnDoe", email="x@example.com")
        assert response.status_code == 400
        assert response.json()["error_code"] == ErrorCode.CONFLICT

    def test_login_by_username_or_email_returns_tokens_in_data(self, api_client):
        self.register(api_client)
        for identifier in ("johndoe", "JOHN@example.com"):
            response = api_client.post("/api/users/login", {"username": identifier, "password": STRONG}, format="json")
            assert response.status_code == 200
            body = response.json()
            assert body["success"] is True and body["message"] == "Login successful"
            assert body["data"]["user_id"] == body["user"]["id"]
            assert body["data"]["access_token"] and body["data"]["refresh_token"]

    def test_bad_login_is_401(self, api_client):
        response = api_client.post("/api/users/login", {"username": "ghost", "password": "x"}, format="json")
        assert response.status_code == 401
        assert response.json()["detail"] == "Invalid username/email or password"

    def test_short_password_is_400(self, api_client):
        assert self.register(api_client, password="short").status_code == 400


class TestAutoMLAuth:
    """003: refresh, logout, me and the development-only dev-login."""

    def test_me_has_the_003_fields(self, user_client, user):
        body = user_client.get("/api/auth/me").json()
        expected = {"id", "email", "full_name", "tier", "credit_balance", "email_verified", "oauth_provider"}
        assert expected <= set(body)
        assert {"dataset_count", "workflow_count", "model_count", "storage_used_bytes", "created_at"} <= set(body)
        assert body["id"] == user.pk and body["tier"] == "free"

    def test_refresh_rotates(self, api_client, user):
        old = tokens_for(user).refresh
        response = api_client.post("/api/auth/refresh", {"refresh_token": old}, format="json")
        assert response.status_code == 200
        assert {"access_token", "refresh_token"} <= set(response.json())
        assert api_client.post("/api/auth/refresh", {"refresh_token": old}, format="json").status_code == 401

    def test_logout_blacklists_the_refresh_token(self, api_client, user):
        pair = tokens_for(user)
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access}")
        assert api_client.post("/api/auth/logout", {"refresh_token": pair.refresh}, format="json").status_code == 200
        api_client.credentials()
        assert api_client.post("/api/auth/refresh", {"refresh_token": pair.refresh}, format="json").status_code == 401

    def test_dev_login_creates_a_verified_user_in_development(self, api_client, settings):
        settings.ENVIRONMENT, settings.DEBUG = "development", False
        response = api_client.post(
            "/api/auth/dev-login", {"email": "Dev@Example.com", "full_name": "Dev"}, format="json"
        )
        assert response.status_code == 200
        body = response.json()
        assert body["access_token"] and body["refresh_token"]
        assert body["user"]["email"] == "dev@example.com"
        assert User.objects.get(email="dev@example.com").is_verified

    def test_dev_login_reuses_the_account_it_created(self, api_client):
        first = api_client.post("/api/auth/dev-login", {"email": "dev@example.com"}, format="json").json()
        again = api_client.post("/api/auth/dev-login", {"email": "DEV@example.com"}, format="json").json()
        assert again["user"]["id"] == first["user"]["id"]
        assert User.objects.count() == 1

    def test_dev_login_never_takes_over_a_password_account(self, api_client, superuser):
        response = api_client.post("/api/auth/dev-login", {"email": superuser.email}, format="json")
        assert response.status_code == 403
        assert "access_token" not in response.json()

    def test_dev_login_is_404_outside_development(self, api_client, settings):
        settings.ENVIRONMENT, settings.DEBUG = "production", False
        response = api_client.post("/api/auth/dev-login", {"email": "dev@example.com"}, format="json")
        assert response.status_code == 404
        assert response.json()["error_code"] == ErrorCode.NOT_FOUND
        assert not User.objects.exists()

    def test_dev_login_works_with_debug(self, api_client, settings):
        settings.ENVIRONMENT, settings.DEBUG = "production", True
        assert api_client.post("/api/auth/dev-login", {"email": "d@example.com"}, format="json").status_code == 200

    def test_dev_login_refuses_a_bad_email(self, api_client):
        response = api_client.post("/api/auth/dev-login", {"email": "nope"}, format="json")
        assert response.status_code == 400
        assert response.json()["error_code"] == ErrorCode.VALIDATION_ERROR


class TestCmbAuth:
    """001: the JWT lives in a cookie; envelopes are ``{"status", "data", "timestamp"}``."""

    def test_users_me_through_the_cookie(self, client, user, password):
        response = client.post("/auth/login", {"username": user.username, "password": password})
        assert response.status_code == 200
        body = client.get("/users/me").json()
        assert body["status"] == "success"
        assert body["timestamp"]
        data = body["data"]
        assert data["id"] == user.pk and data["role"] == "user" and data["subscription_tier"] == "free"
        assert data["max_uptime_minutes"] == 60 and data["auto_shutdown_enabled"] is True

    def test_users_me_reports_the_tier_limits(self, user_client, user):
        user.tier = "enterprise"
        user.save()
        data = user_client.get("/users/me").json()["data"]
        assert data["subscription_tier"] == "enterprise" and data["auto_shutdown_enabled"] is False

    def test_users_me_without_a_cookie_is_401(self, client):
        response = client.get("/users/me")
        assert response.status_code == 401
        assert response.json()["error_code"] == ErrorCode.UNAUTHORIZED

    def test_logout_clears_the_cookie_and_blacklists(self, client, user, password):
        client.post("/auth/login", {"username": user.username, "password": password})
        refresh = client.cookies["hangar_refresh"].value
        response = client.get("/auth/logout")
        body = response.json()
        assert (body["status"], body["message"]) == ("success", "Logged out successfully")
        assert client.cookies["hangar_access"].value == ""
        assert client.post("/api/v1/auth/refresh", {"refresh_token": refresh}).status_code == 401

    def test_logout_when_signed_out_still_succeeds(self, client):
        assert client.get("/auth/logout").status_code == 200

    def test_password_login_with_wrong_password_is_401(self, client, user):
        response = client.post("/auth/login", {"username": user.username, "password": "nope"})
        assert response.status_code == 401
