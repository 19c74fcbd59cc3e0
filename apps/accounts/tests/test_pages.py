"""The server-rendered pages: sign-in, registration, verification, sign-out and the dashboard."""

import copy

import pytest
from django.conf import settings
from django.test import Client

from apps.accounts import services
from apps.accounts.models import User
from apps.accounts.tokens import tokens_for
from apps.activity.services import activity_record

pytestmark = pytest.mark.django_db

ACCESS = settings.JWT_ACCESS_COOKIE
REFRESH = settings.JWT_REFRESH_COOKIE
GOOD_PASSWORD = "Another-Sturdy-Passw0rd!"


def browser(**kwargs) -> Client:
    """A test client that asks for HTML, as a browser does (API-style clients get JSON errors)."""
    return Client(headers={"Accept": "text/html"}, **kwargs)


def signed_in(user: User, **kwargs) -> Client:
    client = browser(**kwargs)
    pair = tokens_for(user)
    client.cookies[ACCESS] = pair.access
    client.cookies[REFRESH] = pair.refresh
    return client


def register_data(**overrides) -> dict:
    return {"username": "newbie", "email": "newbie@example.com", "full_name": "", "password": GOOD_PASSWORD} | overrides


# --- GET renders ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "field"), [("/login", 'name="identifier"'), ("/register", 'name="username"')])
def test_form_pages_render(path, field):
    response = browser().get(path)
    assert response.status_code == 200
    body = response.content.decode()
    assert field in body and "csrfmiddlewaretoken" in body
    assert "/login/oauth/google" in body and "/login/oauth/github" in body


@pytest.mark.parametrize("path", ["/login", "/register"])
def test_signed_in_user_is_sent_to_dashboard(user, path):
    response = signed_in(user).get(path)
    assert response.status_code == 302 and response["Location"] == "/"


def test_anonymous_root_shows_landing():
    response = browser().get("/")
    assert response.status_code == 200
    assert b"Hangar runs your notebooks" in response.content


def test_root_still_answers_json_to_api_clients():
    response = Client().get("/")
    assert response.status_code == 200 and response.json()["name"] == "Hangar"


# --- Login --------------------------------------------------------------------------------------


def test_login_bad_password_shows_401_page(user):
    response = browser().post("/login", {"identifier": user.username, "password": "wrong"})
    assert response.status_code == 401
    assert b"Invalid username/email or password" in response.content
    assert ACCESS not in response.cookies


def test_login_disabled_account_shows_403_page(user, password):
    user.is_active = False
    user.save()
    response = browser().post("/login", {"identifier": user.email, "password": password})
    assert response.status_code == 403 and b"Account is disabled" in response.content


def test_login_by_email_sets_cookies_and_follows_next(user, password):
    response = browser().post("/login", {"identifier": user.email.upper(), "password": password, "next": "/#activity"})
    assert response.status_code == 302 and response["Location"] == "/#activity"
    assert response.cookies[ACCESS].value and response.cookies[REFRESH].value
    assert response.cookies[ACCESS]["httponly"]


@pytest.mark.parametrize("target", ["https://evil.example", "//evil.example/x", "/\\evil.example"])
def test_login_ignores_offsite_next(user, password, target):
    response = browser().post(f"/login?next={target}", {"identifier": user.username, "password": password})
    assert response.status_code == 302 and response["Location"] == "/"


# --- Register -----------------------------------------------------------------------------------


def test_register_signs_in_and_goes_to_verify_email(mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = browser().post("/register", register_data(full_name="New Bie"))
    assert response.status_code == 302 and response["Location"] == "/verify-email"
    assert response.cookies[ACCESS].value
    user = User.objects.get(username="newbie")
    assert user.full_name == "New Bie" and not user.is_verified
    assert [m.to for m in mailoutbox] == [["newbie@example.com"]]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (register_data(password="short"), b"too short"),
        (register_data(username="bad name!"), b"Username must be 3 to 50 characters"),
        (register_data(email="not-an-email"), b"valid email"),
    ],
)
def test_register_rejects_bad_fields(data, message):
    response = browser().post("/register", data)
    assert response.status_code == 400
    assert message in response.content
    assert not User.objects.filter(email__iexact=data["email"]).exists()
    assert b'value="' + data["email"].encode() + b'"' in response.content  # the form keeps its values


def test_register_duplicate_username_in_other_case(user):
    response = browser().post("/register", register_data(username=user.username.upper()))
    assert response.status_code == 400
    assert b"Username already exists" in response.content
    assert not User.objects.filter(email="newbie@example.com").exists()


# --- Verify email -------------------------------------------------------------------------------


def test_verify_email_pending_page(db):
    user = User.objects.create_user("pending", "pending@example.com", GOOD_PASSWORD)
    response = signed_in(user).get("/verify-email")
    assert response.status_code == 200
    assert b"Check your inbox for a link to <strong>pending@example.com</strong>" in response.content
    assert b"/verify-email/resend" in response.content


def test_verify_email_anonymous_goes_to_login():
    response = browser().get("/verify-email")
    assert response.status_code == 302 and response["Location"].startswith("/login")


def test_verify_email_valid_token_marks_verified(db):
    user = User.objects.create_user("pending", "pending@example.com", GOOD_PASSWORD)
    response = browser().get("/verify-email", {"token": services.email_verification_token(user=user)})
    assert response.status_code == 200 and b"Email verified" in response.content
    user.refresh_from_db()
    assert user.is_verified


def test_verify_email_bad_token_is_400():
    response = browser().get("/verify-email", {"token": "nonsense"})
    assert response.status_code == 400 and b"Verification token is invalid" in response.content


def test_resend_sends_email(db, mailoutbox, django_capture_on_commit_callbacks):
    user = User.objects.create_user("pending", "pending@example.com", GOOD_PASSWORD)
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(user).post("/verify-email/resend", follow=True)
    assert response.status_code == 200 and b"We sent a new link to pending@example.com" in response.content
    assert len(mailoutbox) == 1


def test_resend_requires_sign_in():
    response = browser().post("/verify-email/resend")
    assert response.status_code == 302 and response["Location"].startswith("/login")


# --- Logout -------------------------------------------------------------------------------------


def test_logout_without_csrf_token_is_refused(user):
    client = signed_in(user, enforce_csrf_checks=True)
    response = client.post("/logout")
    assert response.status_code == 403
    assert client.get("/").context["hangar_user"] == user


def test_logout_with_csrf_token_clears_cookies(user):
    client = signed_in(user, enforce_csrf_checks=True)
    refresh = client.cookies[REFRESH].value
    token = client.get("/").context["csrf_token"]
    response = client.post("/logout", {"csrfmiddlewaretoken": str(token)})
    assert response.status_code == 302 and response["Location"] == "/login"
    assert response.cookies[ACCESS].value == "" and response.cookies[REFRESH].value == ""
    # The refresh token is blacklisted, so it cannot sign the browser back in.
    replay = browser()
    replay.cookies[REFRESH] = refresh
    assert b"Hangar runs your notebooks" in replay.get("/").content


# --- OAuth buttons ------------------------------------------------------------------------------


def test_oauth_unknown_provider_is_404():
    assert browser().get("/login/oauth/myspace").status_code == 404


def _provider_credentials(settings, provider: str, client_id: str, secret: str) -> None:
    providers = copy.deepcopy(settings.SOCIALACCOUNT_PROVIDERS)
    providers[provider]["APPS"] = [{"client_id": client_id, "secret": secret}]
    settings.SOCIALACCOUNT_PROVIDERS = providers


@pytest.mark.parametrize(("provider", "label"), [("google", "Google"), ("github", "GitHub")])
def test_oauth_not_configured_goes_back_to_login(settings, provider, label):
    _provider_credentials(settings, provider, "", "")
    response = browser().get(f"/login/oauth/{provider}", follow=True)
    assert response.redirect_chain[-1] == ("/login", 302)
    assert f"{label} sign-in is not configured on this Hangar".encode() in response.content


def test_login_shows_oauth_callback_error():
    response = browser().get("/login?error=OAUTH_FAILED")
    assert response.status_code == 200 and b"Signing in with the provider failed" in response.content


def test_oauth_configured_redirects_to_provider(settings):
    _provider_credentials(settings, "github", "client-id", "client-secret")
    response = browser().get("/login/oauth/github?next=/")
    assert response.status_code == 302
    assert response["Location"].startswith("https://github.com/login/oauth/authorize?")


# --- Dashboard ----------------------------------------------------------------------------------


def test_dashboard_shows_own_activity_only(user, other_user):
    activity_record(user=user, action="mine_action", details="my details")
    activity_record(user=other_user, action="their_action", details="their secret")
    response = signed_in(user).get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert f"Hello, {user.username}" in body and "mine_action" in body
    assert "their_action" not in body and "their secret" not in body


def test_dashboard_banner_for_unverified_user(db):
    user = User.objects.create_user("pending", "pending@example.com", GOOD_PASSWORD)
    assert b"is not verified yet" in signed_in(user).get("/").content
