"""Sign up, out and in again through the real pages in Debian's chromium, driven by Playwright."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page

pytestmark = pytest.mark.browser

# Set to a directory to keep a screenshot of the signed-in dashboard there.
SCREENSHOT_DIR = os.environ.get("HANGAR_BROWSER_SCREENSHOTS")


@pytest.fixture(scope="module", autouse=True)
def _allow_sync_orm_under_playwright() -> Iterator[None]:
    """Playwright's sync API runs an event loop in this thread, and Django then refuses ORM calls
    (the live server's setup and teardown make some) unless told it is safe here."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _is_error(message: ConsoleMessage) -> bool:
    # live_server is a WSGI server without WebSockets, so only there /ws/activity answers 404.
    return message.type == "error" and "/ws/activity" not in message.text


def _log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")


def test_register_logout_login_logout(page: Page, live_server, transactional_db) -> None:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if _is_error(message) else None)
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(live_server.url + "/register")
    page.fill("#username", "pilot")
    page.fill("#email", "pilot@example.com")
    page.fill("#full_name", "Amelia Pilot")
    page.fill("#password", "Sturdy-Passw0rd!")
    page.get_by_role("button", name="Register").click()
    page.wait_for_url("**/verify-email")
    assert "Check your inbox for a link to pilot@example.com" in page.inner_text("main")

    _log_out(page)
    page.fill("#identifier", "pilot@example.com")
    page.fill("#password", "Sturdy-Passw0rd!")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server.url + "/")
    assert page.inner_text("h1") == "Hello, pilot"
    assert "user_registered" in page.inner_text("#activity")
    if SCREENSHOT_DIR:
        page.screenshot(path=str(Path(SCREENSHOT_DIR) / "dashboard.png"), full_page=True)

    _log_out(page)
    page.goto(live_server.url + "/")
    assert "Hangar runs your notebooks" in page.inner_text("main")
    assert page.get_by_role("link", name="Register").count() >= 1
    assert errors == []
