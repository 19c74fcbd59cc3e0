"""The work pages: environments, environment terminals and code sessions (server side only).

The pages only render; their data comes from the JSON API in the browser (tests/browser). Here:
they render for the owner, send a signed-out browser to /login, and answer 404 for another
user's (or a deleted, or an unknown) id. ``/environments`` is also 001's API, which must keep
answering JSON to API clients.
"""

import uuid

import pytest
from django.conf import settings
from django.test import Client

from apps.accounts.models import User
from apps.accounts.tokens import tokens_for
from apps.environments.models import Environment
from apps.environments.tests.factories import EnvironmentFactory
from apps.workspaces.tests.factories import CodeSessionFactory

pytestmark = pytest.mark.django_db

HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # what chromium sends


def browser() -> Client:
    """A client that navigates as a browser does."""
    return Client(headers={"Accept": HTML})


def signed_in(user: User) -> Client:
    """A browser carrying ``user``'s JWT cookies."""
    client = browser()
    pair = tokens_for(user)
    client.cookies[settings.JWT_ACCESS_COOKIE] = pair.access
    client.cookies[settings.JWT_REFRESH_COOKIE] = pair.refresh
    return client


@pytest.fixture
def environment(user) -> Environment:
    return EnvironmentFactory(owner=user, name="my-sandbox")


@pytest.fixture
def session(user):
    return CodeSessionFactory(owner=user, name="scratchpad")


def _pages(environment, session) -> list[tuple[str, str, str]]:
    """(path, template, a marker in the body) of every work page."""
    return [
        ("/environments", "environments.html", 'id="create-environment"'),
        (f"/environments/{environment.id}", "environment_detail.html", f'data-environment-id="{environment.id}"'),
        (f"/environments/{environment.id}/terminal", "terminal.html", 'id="terminal"'),
        ("/sessions", "sessions.html", 'id="create-session"'),
        (f"/sessions/{session.id}", "session.html", f'data-session-id="{session.id}"'),
    ]


def test_pages_render_for_the_owner(user, environment, session):
    client = signed_in(user)
    for path, template, marker in _pages(environment, session):
        response = client.get(path)
        assert response.status_code == 200, path
        assert template in [t.name for t in response.templates], path
        body = response.content.decode()
        assert marker in body, path
        # The scripts read the CSRF cookie for their unsafe API calls.
        assert settings.CSRF_COOKIE_NAME in response.cookies, path
        assert "no-store" in response["Cache-Control"], path


def test_terminal_pages_load_xterm_and_their_modules(user, environment, session):
    client = signed_in(user)
    detail = client.get(f"/environments/{environment.id}").content.decode()
    assert "xterm/lib/xterm.js" in detail and "addon-fit/lib/addon-fit.js" in detail
    assert 'type="module"' in detail and "js/environment_detail.js" in detail
    assert "my-sandbox" in detail
    session_page = client.get(f"/sessions/{session.id}").content.decode()
    assert "js/session.js" in session_page and "scratchpad" in session_page


def test_signed_out_browser_is_sent_to_login(user, environment, session):
    client = browser()
    for path, _template, _marker in _pages(environment, session):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(f"{settings.LOGIN_URL}?next="), path
        assert path.replace("/", "%2F") in response["Location"] or path in response["Location"], path


def test_another_users_ids_are_404(user, other_user, environment, session):
    client = signed_in(other_user)
    for path in (
        f"/environments/{environment.id}",
        f"/environments/{environment.id}/terminal",
        f"/sessions/{session.id}",
    ):
        assert client.get(path).status_code == 404, path
    # Their own list pages render, and contain nothing of the other user's (the API fills them).
    assert client.get("/environments").status_code == 200
    assert client.get("/sessions").status_code == 200


def test_unknown_and_deleted_ids_are_404(user, environment):
    client = signed_in(user)
    assert client.get(f"/environments/env-{uuid.uuid4().hex}").status_code == 404
    assert client.get(f"/sessions/{uuid.uuid4()}").status_code == 404
    assert client.get("/environments/not-an-id").status_code == 404
    environment.status = Environment.Status.TERMINATED
    environment.save()
    assert client.get(f"/environments/{environment.id}").status_code == 404


def test_environments_url_still_answers_001s_api(user, environment):
    """API clients (no HTML in Accept, or a bearer token) get 001's JSON, not the page."""
    anonymous = Client().get("/environments")
    assert anonymous.status_code == 401
    assert anonymous["Content-Type"].startswith("application/json")

    token = tokens_for(user).access
    for accept in ("*/*", "application/json", HTML):
        response = Client(headers={"Accept": accept, "Authorization": f"Bearer {token}"}).get("/environments")
        assert response.status_code == 200, accept
        assert response["Content-Type"].startswith("application/json"), accept
        assert "Accept" in response["Vary"]


def test_environments_post_with_a_token_needs_no_csrf(user):
    """The page view hands POST to 001's view, which a bearer client calls without a CSRF token."""
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {tokens_for(user).access}"})
    response = client.post("/environments", data={"image": "no-such-image:1"}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error_code"] == "IMAGE_UNAVAILABLE"


def test_001_subroutes_under_environments_are_not_shadowed(user, environment):
    client = Client(headers={"Authorization": f"Bearer {tokens_for(user).access}"})
    assert client.get("/environments/list").status_code == 200
    response = client.get(f"/environments/{environment.id}/info")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")


def test_nav_and_dashboard_link_to_the_pages(user):
    body = signed_in(user).get("/").content.decode()
    assert 'href="/environments"' in body and 'href="/sessions"' in body
    assert "Coming soon" not in body.split('id="environments"')[1].split("</article>")[0]
