"""OAuth sign-in: 001's /auth/login + /auth/callback, 003's /api/auth/google|github, 004's ID token.

The providers are never contacted: tests named ``*provider_stub*`` replace ``requests.Session.request``
(the boundary allauth's OAuth2Client and adapters call through) with canned provider answers.
"""

import datetime as dt
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.accounts.tests.factories import UserFactory
from apps.core.http import safe_next

PUBLIC_URL = "https://hangar.example"
GOOGLE_TOKEN = ("POST", "https://oauth2.googleapis.com/token")
GOOGLE_USERINFO = ("GET", "https://www.googleapis.com/oauth2/v2/userinfo")
GOOGLE_CERTS = ("GET", "https://www.googleapis.com/oauth2/v1/certs")
GITHUB_TOKEN = ("POST", "https://github.com/login/oauth/access_token")
GITHUB_USER = ("GET", "https://api.github.com/user")
GITHUB_EMAILS = ("GET", "https://api.github.com/user/emails")

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

pytestmark = pytest.mark.django_db


def _providers(google_id: str = "", github_id: str = "") -> dict:
    return {
        "google": {
            "APPS": [{"client_id": google_id, "secret": "g-secret" if google_id else ""}],
            "SCOPE": ["openid", "profile", "email"],
        },
        "github": {
            "APPS": [{"client_id": github_id, "secret": "gh-secret" if github_id else ""}],
            "SCOPE": ["read:user", "user:email"],
        },
    }


@pytest.fixture
def not_configured(settings):
    """Empty credentials, whatever the environment running the tests holds."""
    settings.SOCIALACCOUNT_PROVIDERS = _providers()


@pytest.fixture
def configured(settings):
    settings.SOCIALACCOUNT_PROVIDERS = _providers(google_id="google-client", github_id="github-client")
    settings.PUBLIC_URL = PUBLIC_URL
    settings.FRONTEND_URL = "https://app.example/"


class ProviderStub:
    """Canned provider answers keyed by (method, url); records every call."""

    def __init__(self, routes: dict[tuple[str, str], Any]) -> None:
        self.routes = routes
        self.calls: list[tuple[str, str, dict]] = []

    def __call__(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        self.calls.append((method.upper(), url, kwargs))
        answer = self.routes[(method.upper(), url)]
        if isinstance(answer, Exception):
            raise answer
        status, body = answer
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(body).encode()
        response.headers["Content-Type"] = "application/json"
        response.url = url
        return response


@pytest.fixture
def provider_stub(monkeypatch):
    """Install a ProviderStub; allauth's sessions call it in place of the network."""

    def install(routes: dict) -> ProviderStub:
        stub = ProviderStub(routes)
        monkeypatch.setattr(requests.Session, "request", lambda _session, *args, **kwargs: stub(*args, **kwargs))
        return stub

    return install


def _google_routes(email: str = "ada@example.com", verified: bool = True) -> dict:
    return {
        GOOGLE_TOKEN: (200, {"access_token": "ya29.stub", "expires_in": 3599, "token_type": "Bearer"}),
        GOOGLE_USERINFO: (
            200,
            {
                "id": "1001",
                "email": email,
                "verified_email": verified,
                "name": "Ada Lovelace",
                "picture": "https://img/ada.png",
            },
        ),
    }


def _start(client, path: str) -> tuple[str, dict]:
    """Follow our redirect to the provider: its URL and query."""
    response = client.get(path)
    assert response.status_code == 302, response.content
    location = response["Location"]
    return location, {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def _google_sign_in(client, **headers: Any):
    _, query = _start(client, "/api/auth/google")
    return client.get("/api/auth/google/callback", {"code": "auth-code", "state": query["state"]}, **headers)


def _fragment(location: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).fragment).items()}


# --- Not configured -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/auth/google", None),
        ("get", "/api/auth/github", None),
        ("post", "/auth/login", None),
        ("post", "/api/v1/auth/google", {"token": "x.y.z"}),
    ],
)
def test_not_configured_answers_503(not_configured, api_client, method, path, body):
    response = getattr(api_client, method)(path, body, format="json")
    assert response.status_code == 503
    assert response.json()["error_code"] == "OAUTH_NOT_CONFIGURED"


# --- Starting the flow --------------------------------------------------------------------------


def test_google_start_redirects_with_state_and_our_redirect_uri(configured, api_client):
    location, query = _start(api_client, "/api/auth/google")
    assert location.startswith("https://accounts.google.com/o/oauth2/v2/auth?")
    assert query["client_id"] == "google-client"
    assert query["redirect_uri"] == f"{PUBLIC_URL}/api/auth/google/callback"
    assert query["response_type"] == "code"
    assert set(query["scope"].split()) == {"openid", "profile", "email"}
    assert len(query["state"]) >= 32


def test_github_start_redirects_to_github(configured, api_client):
    location, query = _start(api_client, "/api/auth/github")
    assert location.startswith("https://github.com/login/oauth/authorize?")
    assert query["redirect_uri"] == f"{PUBLIC_URL}/api/auth/github/callback"
    assert query["state"]


def test_safe_next_keeps_only_same_site_paths():
    assert safe_next("/environments?x=1") == "/environments?x=1"
    for unsafe in ("https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)", "", None):
        assert safe_next(unsafe) == "/"


# --- State checks -------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [None, "forged-state"])
def test_callback_with_missing_or_unknown_state_is_400(configured, api_client, state):
    params = {"code": "auth-code"} | ({"state": state} if state else {})
    response = api_client.get("/api/auth/google/callback", params)
    assert response.status_code == 400
    assert response.json()["error_code"] == "OAUTH_FAILED"
    assert response.json()["detail"] == "Invalid OAuth state"


def test_state_of_another_provider_is_rejected_and_consumed(configured, api_client):
    _, query = _start(api_client, "/api/auth/github")
    response = api_client.get("/api/auth/google/callback", {"code": "c", "state": query["state"]})
    assert response.status_code == 400
    assert response.json()["error_code"] == "OAUTH_FAILED"


def test_reused_state_is_rejected_provider_stub(configured, api_client, provider_stub):
    provider_stub(_google_routes())
    _, query = _start(api_client, "/api/auth/google")
    params = {"code": "auth-code", "state": query["state"]}
    assert api_client.get("/api/auth/google/callback", params).status_code == 302
    again = api_client.get("/api/auth/google/callback", params)
    assert again.status_code == 400
    assert again.json()["detail"] == "Invalid OAuth state"


# --- Google (003) -------------------------------------------------------------------------------


def test_google_callback_creates_user_and_hands_over_tokens_provider_stub(configured, api_client, provider_stub):
    stub = provider_stub(_google_routes())
    response = _google_sign_in(api_client)

    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("https://app.example/#")
    fragment = _fragment(location)
    assert fragment["token_type"] == "bearer"
    assert fragment["access_token"] and fragment["refresh_token"]
    assert response.cookies[django_settings.JWT_ACCESS_COOKIE].value == fragment["access_token"]
    assert response.cookies[django_settings.JWT_REFRESH_COOKIE]["httponly"]

    user = User.objects.get(email="ada@example.com")
    assert (user.full_name, user.avatar_url, user.is_verified, user.oauth_provider) == (
        "Ada Lovelace",
        "https://img/ada.png",
        True,
        "google",
    )
    assert user.last_login is not None
    token_call = next(call for call in stub.calls if call[:2] == GOOGLE_TOKEN)
    assert token_call[2]["data"]["code"] == "auth-code"
    assert token_call[2]["data"]["redirect_uri"] == f"{PUBLIC_URL}/api/auth/google/callback"
    me = api_client.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {fragment['access_token']}")
    assert me.json()["email"] == "ada@example.com"


def test_returning_user_is_matched_by_verified_email_provider_stub(configured, api_client, provider_stub):
    existing = UserFactory(email="ada@example.com")
    provider_stub(_google_routes(email="Ada@Example.COM"))
    response = _google_sign_in(api_client)
    assert response.status_code == 302
    assert User.objects.count() == 1
    access = _fragment(response["Location"])["access_token"]
    me = api_client.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert me.json()["id"] == existing.pk


def test_unverified_provider_email_does_not_take_over_account_provider_stub(configured, api_client, provider_stub):
    UserFactory(email="ada@example.com")
    provider_stub(_google_routes(verified=False))
    response = _google_sign_in(api_client)
    assert response.status_code == 400
    assert response.json()["error_code"] == "OAUTH_FAILED"
    assert django_settings.JWT_ACCESS_COOKIE not in response.cookies
    assert User.objects.count() == 1


def test_browser_flow_returns_to_next_with_cookies_provider_stub(configured, api_client, provider_stub):
    provider_stub(_google_routes())
    _, query = _start(api_client, "/api/auth/google?next=/environments")
    response = api_client.get("/api/auth/google/callback", {"code": "c", "state": query["state"]})
    assert response.status_code == 302
    assert response["Location"] == "/environments"
    assert response.cookies[django_settings.JWT_ACCESS_COOKIE].value


# --- GitHub (003) -------------------------------------------------------------------------------


def test_github_flow_reads_primary_verified_email_provider_stub(configured, api_client, provider_stub):
    stub = provider_stub(
        {
            GITHUB_TOKEN: (200, {"access_token": "gho_stub", "token_type": "bearer", "scope": "read:user,user:email"}),
            GITHUB_USER: (
                200,
                {"id": 42, "login": "octocat", "name": "Mona Octocat", "email": None, "avatar_url": "https://gh/a.png"},
            ),
            GITHUB_EMAILS: (
                200,
                [
                    {"email": "old@example.com", "primary": False, "verified": True},
                    {"email": "mona@example.com", "primary": True, "verified": True},
                ],
            ),
        }
    )
    _, query = _start(api_client, "/api/auth/github")
    response = api_client.get("/api/auth/github/callback", {"code": "gh-code", "state": query["state"]})

    assert response.status_code == 302, response.content
    assert _fragment(response["Location"])["access_token"]
    user = User.objects.get(email="mona@example.com")
    assert (user.username, user.full_name, user.oauth_provider, user.is_verified) == (
        "octocat",
        "Mona Octocat",
        "github",
        True,
    )
    assert [call[1] for call in stub.calls if call[0] == "GET"] == [GITHUB_USER[1], GITHUB_EMAILS[1]]


# --- CMBCluster (001) ---------------------------------------------------------------------------


def test_cmb_login_answers_auth_url_and_callback_sets_cookie_provider_stub(configured, api_client, provider_stub):
    routes = _google_routes()
    # Google's token answer also carries an id_token; allauth reads the profile from it.
    id_token = jwt.encode(
        {
            "iss": "https://accounts.google.com",
            "aud": "google-client",
            "sub": "1001",
            "email": "grace@example.com",
            "email_verified": True,
            "name": "Grace Hopper",
            "iat": int(time.time()),
            "exp": int(time.time()) + 600,
        },
        "unused-signature-key-of-at-least-32-bytes",
        algorithm="HS256",
    )
    routes[GOOGLE_TOKEN] = (200, {"access_token": "ya29.stub", "expires_in": 3599, "id_token": id_token})
    provider_stub(routes)

    login = api_client.post("/auth/login")
    assert login.status_code == 200
    body = login.json()
    assert body["status"] == "success" and body["message"]
    assert body["auth_url"].startswith("https://accounts.google.com/o/oauth2/v2/auth?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(body["auth_url"]).query).items()}
    assert query["redirect_uri"] == f"{PUBLIC_URL}/auth/callback"

    response = api_client.get("/auth/callback", {"code": "auth-code", "state": query["state"]})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert response.cookies[django_settings.JWT_ACCESS_COOKIE].value
    me = api_client.get("/users/me")  # the client now carries the cookie
    assert me.json()["data"]["email"] == "grace@example.com"


@pytest.mark.parametrize("start", ["/api/auth/google?next=/", "/login/oauth/google"])
def test_a_browser_flow_completes_only_in_the_browser_that_started_it(configured, api_client, start):
    started = api_client.get(start)
    assert started.cookies["hangar_oauth_state"].value
    state = {k: v[0] for k, v in parse_qs(urlsplit(started["Location"]).query).items()}["state"]
    victim = APIClient()  # an attacker's callback link, opened in someone else's browser
    response = victim.get("/api/auth/google/callback", {"code": "attacker-code", "state": state})
    assert response.status_code == 400
    assert response.json()["error_code"] == "OAUTH_FAILED"
    assert django_settings.JWT_ACCESS_COOKIE not in response.cookies


def test_the_cmb_auth_url_binds_its_state_to_the_browser(configured, api_client):
    login = api_client.post("/auth/login")
    assert login.cookies["hangar_oauth_state"]["httponly"]


# --- Failures -----------------------------------------------------------------------------------


def test_provider_error_is_400_for_api_clients_and_login_redirect_for_browsers(configured, api_client):
    params = {"error": "access_denied", "state": "whatever"}
    response = api_client.get("/api/auth/google/callback", params)
    assert response.status_code == 400
    assert response.json()["error_code"] == "OAUTH_FAILED"

    browser = api_client.get("/auth/callback", params, HTTP_ACCEPT=BROWSER_ACCEPT)
    assert browser.status_code == 302
    assert browser["Location"] == "/login?error=OAUTH_FAILED"


@pytest.mark.parametrize(
    "failure",
    [
        requests.ConnectionError("connection refused"),
        (500, {"error": "backend_error"}),
        (400, {"error": "invalid_grant"}),
    ],
)
def test_provider_http_failure_is_502_not_500_provider_stub(configured, api_client, provider_stub, failure):
    provider_stub({**_google_routes(), GOOGLE_TOKEN: failure})
    response = _google_sign_in(api_client)
    assert response.status_code == 502
    assert response.json()["error_code"] == "OAUTH_FAILED"
    assert User.objects.count() == 0


def test_userinfo_failure_is_502_provider_stub(configured, api_client, provider_stub):
    provider_stub({**_google_routes(), GOOGLE_USERINFO: (503, {"error": "unavailable"})})
    response = _google_sign_in(api_client)
    assert response.status_code == 502
    assert response.json()["error_code"] == "OAUTH_FAILED"


# --- DevPocket Google ID token (004) ------------------------------------------------------------


def _rsa_key_and_cert() -> tuple[rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "stub-google-signer")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.PEM).decode()


def _id_token(key: rsa.RSAPrivateKey, **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "iss": "https://accounts.google.com",
        "aud": "google-client",
        "sub": "2002",
        "email": "linus@example.com",
        "email_verified": True,
        "name": "Linus T",
        "picture": "https://img/linus.png",
        "iat": now,
        "exp": now + 600,
    } | claims
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": "stub-kid"})


@pytest.fixture
def google_signer(provider_stub):
    """An RSA key whose certificate the stubbed Google certs endpoint publishes."""
    key, cert_pem = _rsa_key_and_cert()
    provider_stub({GOOGLE_CERTS: (200, {"stub-kid": cert_pem})})
    return key


def test_google_id_token_signs_in_provider_stub(configured, api_client, google_signer):
    response = api_client.post("/api/v1/auth/google", {"id_token": _id_token(google_signer)}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert {"access_token", "refresh_token", "token_type", "expires_in", "user"} <= body.keys()
    assert body["token_type"] == "bearer"
    assert body["user"]["email"] == "linus@example.com"
    assert django_settings.JWT_ACCESS_COOKIE not in response.cookies  # 004 clients send bearer tokens
    assert User.objects.get(email="linus@example.com").is_verified


def test_google_id_token_invalid_is_401_provider_stub(configured, api_client, google_signer):
    other_key, _ = _rsa_key_and_cert()
    bad_tokens = [
        _id_token(other_key),  # signed by someone else
        _id_token(google_signer, aud="someone-elses-client"),
        _id_token(google_signer, iss="https://evil.example"),
        _id_token(google_signer, exp=int(time.time()) - 60),
    ]
    for token in bad_tokens:
        response = api_client.post("/api/v1/auth/google", {"credential": token}, format="json")
        assert response.status_code == 401, response.content
        assert response.json()["error_code"] == "TOKEN_INVALID"
    assert User.objects.count() == 0


def test_google_id_token_garbage_is_401_provider_stub(configured, api_client, google_signer):
    response = api_client.post("/api/v1/auth/google", {"token": "not-a-jwt"}, format="json")
    assert response.status_code == 401
    assert response.json()["error_code"] == "TOKEN_INVALID"
