"""The auth routes 000 and 004 share under /api/v1/auth/."""

import pytest
from django.core import signing
from django.test import Client
from freezegun import freeze_time

from apps.accounts.models import User
from apps.accounts.services import email_verification_token
from apps.accounts.tests.factories import UserFactory
from apps.accounts.tokens import tokens_for
from apps.core.errors import ErrorCode

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
STRONG = "SecurePass123!"

pytestmark = pytest.mark.django_db


def register(client, **overrides):
    body = {"email": "user@example.com", "username": "johndoe", "password": STRONG, **overrides}
    return client.post(REGISTER, body, format="json")


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error_code"] == code
    assert body["detail"]
    assert body["timestamp"]
    return body


class TestRegister:
    def test_register_answers_201_with_the_user(self, api_client):
        response = register(api_client, full_name="John Doe")
        assert response.status_code == 201
        body = response.json()
        assert body["email"] == "user@example.com"
        assert body["username"] == "johndoe"
        assert body["is_active"] is True
        assert body["is_verified"] is False
        assert body["full_name"] == "John Doe"
        assert "password" not in body

    def test_register_stores_username_and_email_lower_cased(self, api_client):
        register(api_client, username="JohnDoe", email="User@Example.COM")
        user = User.objects.get()
        assert (user.username, user.email) == ("johndoe", "user@example.com")

    @pytest.mark.parametrize(
        "overrides",
        [{"username": "JOHNDOE", "email": "other@example.com"}, {"username": "other", "email": "USER@example.com"}],
    )
    def test_duplicate_username_or_email_in_any_case_is_409(self, api_client, overrides):
        assert register(api_client).status_code == 201
        assert_error(register(api_client, **overrides), 409, ErrorCode.CONFLICT)
        assert User.objects.count() == 1

    @pytest.mark.parametrize("password", ["short1!", "12345678901", "johndoe123", "user@example.com"])
    def test_weak_passwords_are_refused(self, api_client, password):
        body = assert_error(register(api_client, password=password), 400, ErrorCode.VALIDATION_ERROR)
        assert "password" in body["errors"]
        assert not User.objects.exists()

    @pytest.mark.parametrize("username", ["ab", "a" * 51, "john doe", "john-doe", "jöhn"])
    def test_usernames_follow_the_002_rules(self, api_client, username):
        body = assert_error(register(api_client, username=username), 400, ErrorCode.VALIDATION_ERROR)
        assert "username" in body["errors"]

    @pytest.mark.parametrize("missing", ["email", "username", "password"])
    def test_missing_fields_are_named(self, api_client, missing):
        body = {"email": "user@example.com", "username": "johndoe", "password": STRONG}
        del body[missing]
        error = assert_error(api_client.post(REGISTER, body, format="json"), 400, ErrorCode.VALIDATION_ERROR)
        assert missing in error["errors"]

    def test_common_passwords_are_refused_when_configured(self, api_client, settings):
        common = {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"}
        settings.AUTH_PASSWORD_VALIDATORS = [*settings.AUTH_PASSWORD_VALIDATORS, common]
        body = assert_error(register(api_client, password="password123"), 400, ErrorCode.VALIDATION_ERROR)
        assert "password" in body["errors"]

    def test_invalid_email_is_refused(self, api_client):
        assert_error(register(api_client, email="not-an-email"), 400, ErrorCode.VALIDATION_ERROR)

    def test_malformed_json_is_a_clear_400(self, api_client):
        response = api_client.post(REGISTER, data="{not json", content_type="application/json")
        assert_error(response, 400, ErrorCode.MALFORMED_JSON)

    def test_unsupported_media_type_is_415(self, api_client):
        response = api_client.post(REGISTER, data="x", content_type="text/csv")
        assert_error(response, 415, ErrorCode.UNSUPPORTED_MEDIA_TYPE)

    def test_registration_sends_a_verification_email(self, api_client, mailoutbox, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            register(api_client)
        assert len(mailoutbox) == 1
        assert mailoutbox[0].to == ["user@example.com"]
        assert "/verify-email?token=" in mailoutbox[0].body

    def test_registration_is_logged(self, api_client):
        register(api_client)
        assert User.objects.get().activities.filter(action="user_registered").exists()


class TestLogin:
    def test_login_with_form_data_and_username(self, api_client, user, password):
        response = api_client.post(LOGIN, {"username": user.username, "password": password})
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == 15 * 60
        assert body["access_token"] and body["refresh_token"]
        assert body["user"]["id"] == user.pk
        assert "hangar_access" not in response.cookies  # bearer clients; see TestCookieAuth

    def test_login_with_json_and_email_in_other_case(self, api_client, user, password):
        response = api_client.post(LOGIN, {"email": user.email.upper(), "password": password}, format="json")
        assert response.status_code == 200

    def test_username_field_also_accepts_the_email(self, api_client, user, password):
        response = api_client.post(LOGIN, {"username": user.email, "password": password}, format="json")
        assert response.status_code == 200

    def test_wrong_password_is_401(self, api_client, user):
        response = api_client.post(LOGIN, {"username": user.username, "password": "wrong"}, format="json")
        assert_error(response, 401, ErrorCode.INVALID_CREDENTIALS)

    def test_unknown_user_is_401(self, api_client):
        response = api_client.post(LOGIN, {"username": "nobody", "password": "x"}, format="json")
        assert_error(response, 401, ErrorCode.INVALID_CREDENTIALS)

    def test_missing_identifier_is_400(self, api_client):
        response = api_client.post(LOGIN, {"password": "x"}, format="json")
        assert_error(response, 400, ErrorCode.VALIDATION_ERROR)

    def test_deactivated_user_cannot_log_in(self, api_client, user, password):
        user.is_active = False
        user.save()
        response = api_client.post(LOGIN, {"username": user.username, "password": password}, format="json")
        assert_error(response, 403, ErrorCode.ACCOUNT_DISABLED)

    def test_login_stamps_last_login(self, api_client, user, password):
        api_client.post(LOGIN, {"username": user.username, "password": password}, format="json")
        user.refresh_from_db()
        assert user.last_login is not None


class TestTokens:
    def test_me_with_a_bearer_token(self, user_client, user):
        body = user_client.get("/api/v1/auth/me").json()
        assert body["id"] == user.pk
        assert body["subscription_plan"] == "free"

    def test_me_without_a_token_is_401(self, api_client):
        assert_error(api_client.get("/api/v1/auth/me"), 401, ErrorCode.UNAUTHORIZED)

    def test_a_garbage_token_is_401(self, api_client):
        api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
        assert_error(api_client.get("/api/v1/auth/me"), 401, ErrorCode.TOKEN_INVALID)

    def test_an_expired_access_token_is_401(self, api_client, user):
        with freeze_time("2026-01-01 00:00:00"):
            access = tokens_for(user).access
        with freeze_time("2026-01-01 00:16:00"):
            api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
            assert_error(api_client.get("/api/v1/auth/me"), 401, ErrorCode.TOKEN_INVALID)

    def test_a_refresh_token_is_not_an_access_token(self, api_client, user):
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_for(user).refresh}")
        assert_error(api_client.get("/api/v1/auth/me"), 401, ErrorCode.TOKEN_INVALID)

    def test_refresh_rotates_and_reuse_is_401(self, api_client, user):
        old = tokens_for(user).refresh
        response = api_client.post("/api/v1/auth/refresh", {"refresh_token": old}, format="json")
        assert response.status_code == 200
        new = response.json()
        assert new["refresh_token"] != old
        assert new["token_type"] == "bearer"
        reuse = api_client.post("/api/v1/auth/refresh", {"refresh_token": old}, format="json")
        assert_error(reuse, 401, ErrorCode.TOKEN_INVALID)
        again = api_client.post("/api/v1/auth/refresh", {"refresh_token": new["refresh_token"]}, format="json")
        assert again.status_code == 200

    def test_refresh_needs_a_token(self, api_client):
        assert_error(api_client.post("/api/v1/auth/refresh", {}, format="json"), 400, ErrorCode.VALIDATION_ERROR)

    def test_an_expired_refresh_token_is_401(self, api_client, user):
        with freeze_time("2026-01-01"):
            old = tokens_for(user).refresh
        with freeze_time("2026-01-09"):
            response = api_client.post("/api/v1/auth/refresh", {"refresh_token": old}, format="json")
        assert_error(response, 401, ErrorCode.TOKEN_INVALID)

    def test_logout_blacklists_refresh_and_revokes_access(self, api_client, user):
        pair = tokens_for(user)
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access}")
        response = api_client.post("/api/v1/auth/logout", {"refresh_token": pair.refresh}, format="json")
        assert response.status_code == 200
        assert_error(api_client.get("/api/v1/auth/me"), 401, ErrorCode.TOKEN_INVALID)
        refresh = api_client.post("/api/v1/auth/refresh", {"refresh_token": pair.refresh}, format="json")
        assert_error(refresh, 401, ErrorCode.TOKEN_INVALID)

    def test_logout_without_a_refresh_token_keeps_other_devices_signed_in(self, api_client, user):
        first, second = tokens_for(user), tokens_for(user)
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {first.access}")
        assert api_client.post("/api/v1/auth/logout").status_code == 200
        assert_error(api_client.get("/api/v1/auth/me"), 401, ErrorCode.TOKEN_INVALID)
        refresh = api_client.post("/api/v1/auth/refresh", {"refresh_token": second.refresh}, format="json")
        assert refresh.status_code == 200

    def test_logout_cannot_blacklist_another_users_refresh_token(self, api_client, user, other_user):
        victim = tokens_for(other_user).refresh
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_for(user).access}")
        assert api_client.post("/api/v1/auth/logout", {"refresh_token": victim}, format="json").status_code == 200
        api_client.credentials()
        assert api_client.post("/api/v1/auth/refresh", {"refresh_token": victim}, format="json").status_code == 200

    def test_a_redemption_racing_past_the_blacklist_check_is_refused(self, user, monkeypatch):
        from rest_framework_simplejwt.tokens import RefreshToken

        from apps.accounts.tokens import rotate_refresh
        from apps.core.errors import HangarError

        raw = tokens_for(user).refresh
        rotate_refresh(raw)
        # A parallel request passes the blacklist check before the first one writes its entry;
        # only one entry can be created, so the second redemption must still fail.
        monkeypatch.setattr(RefreshToken, "check_blacklist", lambda self: None)
        with pytest.raises(HangarError):
            rotate_refresh(raw)

    def test_a_deactivated_users_tokens_stop_working_at_once(self, api_client, user):
        pair = tokens_for(user)
        user.is_active = False
        user.save()
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access}")
        assert api_client.get("/api/v1/auth/me").status_code == 401
        refresh = api_client.post("/api/v1/auth/refresh", {"refresh_token": pair.refresh}, format="json")
        assert_error(refresh, 401, ErrorCode.ACCOUNT_DISABLED)


class TestCookieAuth:
    def test_the_cookie_authenticates_safe_requests(self, client, user, password):
        response = client.post("/auth/login", {"username": user.username, "password": password})
        assert response.cookies["hangar_access"]["httponly"]
        assert response.cookies["hangar_access"]["samesite"] == "Lax"
        assert client.get("/api/v1/auth/me").json()["id"] == user.pk

    def test_a_cross_site_cookie_sign_in_is_refused(self, client, user, password):
        body = {"username": user.username, "password": password}
        response = client.post("/auth/login", body, HTTP_ORIGIN="https://evil.example")
        assert_error(response, 403, ErrorCode.FORBIDDEN)
        assert "hangar_access" not in response.cookies
        same_site = client.post("/auth/login", body, HTTP_ORIGIN="http://testserver")
        assert same_site.status_code == 200

    def test_an_unsafe_cookie_request_needs_the_csrf_token(self, user, password):
        browser = Client(enforce_csrf_checks=True)
        browser.post("/auth/login", {"username": user.username, "password": password})
        refused = browser.post("/api/v1/auth/logout")
        assert_error(refused, 403, ErrorCode.FORBIDDEN)
        assert "CSRF" in refused.json()["detail"]
        secret = "a" * 32  # any 32-character secret will do, as long as cookie and header agree
        browser.cookies["csrftoken"] = secret
        accepted = browser.post("/api/v1/auth/logout", HTTP_X_CSRFTOKEN=secret)
        assert accepted.status_code == 200
        assert accepted.cookies["hangar_access"].value == ""

    def test_an_expired_access_cookie_is_renewed_from_the_refresh_cookie(self, client, user):
        with freeze_time("2026-01-01 00:00:00"):
            pair = tokens_for(user)
        with freeze_time("2026-01-01 00:30:00"):
            client.cookies["hangar_access"] = pair.access
            client.cookies["hangar_refresh"] = pair.refresh
            response = client.get("/api/v1/auth/me")
        assert response.status_code == 200
        assert response.cookies["hangar_refresh"].value != pair.refresh

    def test_logout_with_an_expired_access_cookie_really_signs_out(self, client, user):
        with freeze_time("2026-01-01 00:00:00"):
            pair = tokens_for(user)
        with freeze_time("2026-01-01 00:30:00"):
            client.cookies["hangar_access"] = pair.access
            client.cookies["hangar_refresh"] = pair.refresh
            response = client.get("/auth/logout")
            assert response.cookies["hangar_access"].value == ""
            assert client.get("/users/me").status_code == 401
            assert client.post("/api/v1/auth/refresh", {"refresh_token": pair.refresh}).status_code == 401

    def test_parallel_requests_with_an_expired_cookie_share_one_rotation(self, client, user):
        with freeze_time("2026-01-01 00:00:00"):
            pair = tokens_for(user)
        with freeze_time("2026-01-01 00:30:00"):
            first, second = Client(), Client()
            for browser in (first, second):
                browser.cookies["hangar_access"] = pair.access
                browser.cookies["hangar_refresh"] = pair.refresh
            one, two = first.get("/users/me"), second.get("/users/me")
        assert one.status_code == two.status_code == 200
        assert one.cookies["hangar_refresh"].value == two.cookies["hangar_refresh"].value


class TestEmailVerification:
    def test_verify_marks_the_user_verified(self, api_client):
        user = UserFactory(is_verified=False)
        token = email_verification_token(user=user)
        response = api_client.post("/api/v1/auth/verify-email", {"token": token}, format="json")
        assert response.status_code == 200
        user.refresh_from_db()
        assert user.is_verified

    def test_a_bad_token_is_400(self, api_client):
        response = api_client.post("/api/v1/auth/verify-email", {"token": "forged"}, format="json")
        assert_error(response, 400, ErrorCode.TOKEN_INVALID)

    def test_an_expired_token_is_400(self, api_client):
        user = UserFactory(is_verified=False)
        with freeze_time("2026-01-01"):
            token = email_verification_token(user=user)
        with freeze_time("2026-01-05"):
            response = api_client.post("/api/v1/auth/verify-email", {"token": token}, format="json")
        assert_error(response, 400, ErrorCode.TOKEN_INVALID)

    def test_a_token_for_an_old_email_is_400(self, api_client):
        user = UserFactory(is_verified=False)
        token = signing.dumps({"u": user.pk, "e": "old@example.com"}, salt="hangar.email-verification")
        response = api_client.post("/api/v1/auth/verify-email", {"token": token}, format="json")
        assert_error(response, 400, ErrorCode.TOKEN_INVALID)

    def test_resend_sends_again(self, api_client, mailoutbox, django_capture_on_commit_callbacks):
        user = UserFactory(is_verified=False)
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_for(user).access}")
        with django_capture_on_commit_callbacks(execute=True):
            response = api_client.post("/api/v1/auth/resend-verification")
        assert response.status_code == 200
        assert len(mailoutbox) == 1

    def test_resend_is_rate_limited(self, api_client, settings):
        settings.HANGAR_RATE_LIMITS = {**settings.HANGAR_RATE_LIMITS, "resend_verification": "2/h", "v1_auth": "50/m"}
        user = UserFactory(is_verified=False)
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_for(user).access}")
        codes = [api_client.post("/api/v1/auth/resend-verification").status_code for _ in range(3)]
        assert codes == [200, 200, 429]

    def test_resend_when_already_verified_is_400(self, user_client):
        assert_error(user_client.post("/api/v1/auth/resend-verification"), 400, ErrorCode.BAD_REQUEST)

    def test_resend_needs_authentication(self, api_client):
        assert_error(api_client.post("/api/v1/auth/resend-verification"), 401, ErrorCode.UNAUTHORIZED)
