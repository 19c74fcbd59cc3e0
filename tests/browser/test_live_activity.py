"""The dashboard's live activity list over the real WebSocket, against daphne in a subprocess."""

import json
import urllib.request

import pytest
from playwright.sync_api import Page, expect

from tests.served import served_hangar

pytestmark = pytest.mark.browser
PASSWORD = "Sturdy-Passw0rd!"


def _api_login(base_url: str, username: str) -> None:
    body = json.dumps({"username": username, "password": PASSWORD}).encode()
    request = urllib.request.Request(
        base_url + "/api/v1/auth/login", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def test_dashboard_shows_new_activity_live(page: Page, tmp_path) -> None:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    with served_hangar(tmp_path) as hangar:
        page.goto(hangar.url + "/register")
        page.fill("#username", "navigator")
        page.fill("#email", "navigator@example.com")
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name="Register").click()
        page.wait_for_url("**/verify-email")
        page.goto(hangar.url + "/")
        page.wait_for_selector("#activity-list[data-live='true']")
        logins = page.locator("#activity-list .activity-action", has_text="login")
        before = logins.count()

        # A sign-in from elsewhere (the API) appears on the open dashboard without a reload.
        _api_login(hangar.url, "navigator")
        expect(logins).to_have_count(before + 1)
        # The embedded worker sent the verification email (console backend: the server's output).
        assert hangar.wait_for_log("Verify your Hangar email address")
    assert errors == []
