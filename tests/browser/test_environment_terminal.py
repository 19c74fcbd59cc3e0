"""The work pages end to end, against a real Hangar (daphne + WebSockets, real local sandboxes).

- Environments: register, create a Python 3.11 environment through the form, wait for it to run,
  type into its xterm.js terminal and read the answer back, then stop and delete it with the buttons.
- Code sessions: create one, see ``script.py`` in the file tree, edit and save it, and run it in
  the session's terminal.

No console error is allowed on any page.
"""

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.served import ROOT, ServedHangar, clean_env, served_hangar

pytestmark = pytest.mark.browser
PASSWORD = "Sturdy-Passw0rd!"
# Creating a sandbox pulls nothing, but the first start of an image may take a while.
RUNNING_TIMEOUT_MS = 90_000
TERMINAL_TIMEOUT_MS = 20_000
STOP_ALL_WORKLOADS = (
    "from apps.runtime import registry\n"
    "backend = registry.get_backend()\n"
    "for workload in backend.list_workloads(): backend.stop(workload)\n"
)


def _seeded_database(workdir: Path) -> Path:
    """A migrated SQLite database with the default templates (``manage.py seed``, as ``make run``)."""
    database = workdir / "hangar.sqlite3"
    env = clean_env(DATABASE_URL=f"sqlite:///{database}")
    for command in (["migrate", "--noinput"], ["seed"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    return database


@pytest.fixture
def hangar(tmp_path: Path) -> Iterator[ServedHangar]:
    """A served Hangar with templates. Its runtime root is short: the sandbox agent's unix socket
    path must fit in 108 bytes."""
    database = _seeded_database(tmp_path)
    runtime_root = tempfile.mkdtemp(prefix="hbr-", dir="/tmp")
    try:
        with served_hangar(tmp_path, database=database, RUNTIME_ROOT=runtime_root) as served:
            yield served
    finally:
        # Sandboxes outlive the server: stop whatever a test left running before removing the root.
        env = clean_env(DATABASE_URL=f"sqlite:///{database}", RUNTIME_ROOT=runtime_root)
        subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", STOP_ALL_WORKLOADS], cwd=ROOT, env=env, timeout=60, check=False
        )
        shutil.rmtree(runtime_root, ignore_errors=True)


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    """Every console error and uncaught exception of the page; each test asserts none."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def _register(page: Page, base_url: str, username: str) -> None:
    page.goto(base_url + "/register")
    page.fill("#username", username)
    page.fill("#email", f"{username}@example.com")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Register").click()
    page.wait_for_url("**/verify-email")


def _terminal_text(page: Page) -> str:
    """xterm.js's whole buffer, read through the Terminal the page exposes."""
    return page.evaluate(
        """() => {
          const buffer = window.hangarTerminal.buffer.active;
          const lines = [];
          for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i).translateToString(true));
          return lines.join("\\n");
        }"""
    )


def _wait_for_terminal_text(page: Page, text: str, timeout_ms: int = TERMINAL_TIMEOUT_MS) -> None:
    try:
        _wait_for_function_text(page, text, timeout_ms)
    except PlaywrightTimeoutError:
        raise AssertionError(f"{text!r} never appeared in the terminal:\n{_terminal_text(page).rstrip()}") from None


def _wait_for_function_text(page: Page, text: str, timeout_ms: int) -> None:
    page.wait_for_function(
        """(text) => {
          const term = window.hangarTerminal;
          if (!term) return false;
          const buffer = term.buffer.active;
          for (let i = 0; i < buffer.length; i++) {
            if (buffer.getLine(i).translateToString(true).includes(text)) return true;
          }
          return false;
        }""",
        arg=text,
        timeout=timeout_ms,
    )


def test_create_environment_use_its_terminal_stop_and_delete(
    page: Page, hangar: ServedHangar, console_errors: list[str]
) -> None:
    _register(page, hangar.url, "pilot")
    page.goto(hangar.url + "/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Environments").click()
    page.wait_for_url("**/environments")

    # Create from the Python 3.11 template through the form.
    expect(page.locator("#template option", has_text="Python 3.11")).to_have_count(1)
    page.fill("#environment-name", "hello-env")
    page.select_option("#template", label="Python 3.11")
    page.get_by_role("button", name="Create").click()
    row = page.locator("#environment-rows tr", has_text="hello-env")
    expect(row).to_have_count(1)
    # The list polls the API while it is creating or installing, until it shows running.
    expect(row).to_have_attribute("data-status", "running", timeout=RUNNING_TIMEOUT_MS)
    expect(row.locator(".status")).to_have_text("running")

    # Its page: the terminal connects, and a command runs in the sandbox.
    row.get_by_role("link", name="hello-env").click()
    page.wait_for_url("**/environments/env-*")
    expect(page.locator("#terminal-status")).to_have_text("Connected", timeout=TERMINAL_TIMEOUT_MS)
    expect(page.locator("#terminal .xterm-rows")).to_be_visible()
    page.locator("#terminal").click()
    page.keyboard.type("echo hello-$((6*7))")
    page.keyboard.press("Enter")
    _wait_for_terminal_text(page, "hello-42")
    assert "hello-42" in page.locator("#terminal .xterm-rows").inner_text()
    # Metrics and logs come from their endpoints while it runs.
    expect(page.locator("#metrics")).to_be_visible()
    expect(page.locator("#metric-cpu")).to_contain_text("%", timeout=10_000)
    expect(page.locator("#metric-processes")).not_to_have_text("\N{EN DASH}")
    page.screenshot(path="/tmp/env_terminal.png", full_page=True)

    # Resizing the window refits the terminal, which tells the shell its new size.
    cols_before = page.evaluate("window.hangarTerminal.cols")
    page.set_viewport_size({"width": 900, "height": 720})
    page.wait_for_function("(before) => window.hangarTerminal.cols < before", arg=cols_before)
    page.keyboard.type("stty size")
    page.keyboard.press("Enter")
    size = page.evaluate("`${window.hangarTerminal.rows} ${window.hangarTerminal.cols}`")
    _wait_for_terminal_text(page, size)

    # Back on the list: Stop, then Delete (confirming the dialog).
    page.goto(hangar.url + "/environments")
    row = page.locator("#environment-rows tr", has_text="hello-env")
    row.get_by_role("button", name="Stop", exact=True).click()
    expect(row).to_have_attribute("data-status", "stopped", timeout=TERMINAL_TIMEOUT_MS)
    expect(row.get_by_role("button", name="Start", exact=True)).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete").click()
    expect(row).to_have_count(0)
    expect(page.locator("#environment-empty")).to_be_visible()
    assert console_errors == []


def test_terminal_reconnects_after_the_socket_drops(
    page: Page, hangar: ServedHangar, console_errors: list[str]
) -> None:
    _register(page, hangar.url, "rover")
    page.goto(hangar.url + "/environments")
    page.fill("#environment-name", "sturdy")
    page.select_option("#template", label="Python 3.11")
    page.get_by_role("button", name="Create").click()
    row = page.locator("#environment-rows tr", has_text="sturdy")
    expect(row).to_have_attribute("data-status", "running", timeout=RUNNING_TIMEOUT_MS)
    environment_id = row.get_attribute("data-environment-id")

    # The full-page terminal.
    page.goto(f"{hangar.url}/environments/{environment_id}/terminal")
    expect(page.locator("#terminal-status")).to_have_text("Connected", timeout=TERMINAL_TIMEOUT_MS)
    page.locator("#terminal").click()
    page.keyboard.type("export MARK=still-$((40+2))")
    page.keyboard.press("Enter")

    # Drop the socket: the page says so, reconnects, and the same shell answers.
    page.evaluate("window.hangarTerminalConnection.socket.close()")
    expect(page.locator("#terminal-status")).to_have_text("Reconnecting…")
    expect(page.locator("#terminal-status")).to_have_text("Connected", timeout=TERMINAL_TIMEOUT_MS)
    page.locator("#terminal").click()
    page.keyboard.type("echo $MARK")
    page.keyboard.press("Enter")
    _wait_for_terminal_text(page, "still-42")
    assert console_errors == []


def test_session_page_tree_editor_and_terminal(page: Page, hangar: ServedHangar, console_errors: list[str]) -> None:
    _register(page, hangar.url, "coder")
    page.goto(hangar.url + "/sessions")
    page.fill("#session-name", "scratch")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url("**/sessions/*")

    # The tree lists the default script, and the editor opens it.
    script = page.locator("#file-tree .tree-file", has_text="script.py")
    expect(script).to_be_visible()
    script.click()
    expect(page.locator("#current-file")).to_have_text("script.py")
    expect(page.locator("#editor")).to_have_value("# Welcome to your coding session!\nprint('Hello, World!')\n")

    # Edit and save through the API.
    page.fill("#editor", "print('sum is', sum(range(10)))\n")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#session-notice")).to_contain_text("script.py")

    # The terminal starts the sandbox (progress lines, then cleared) and runs the saved script.
    expect(page.locator("#terminal-status")).to_have_text("Ready", timeout=RUNNING_TIMEOUT_MS)
    page.locator("#terminal").click()
    page.keyboard.type("python3 script.py")
    page.keyboard.press("Enter")
    _wait_for_terminal_text(page, "sum is 45")
    assert "Initializing environment" not in _terminal_text(page)

    # New file, then delete it.
    page.fill("#new-file-path", "notes/todo.txt")
    page.get_by_role("button", name="New file").click()
    expect(page.locator("#file-tree .tree-folder", has_text="notes/")).to_be_visible()
    expect(page.locator("#current-file")).to_have_text("notes/todo.txt")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    expect(page.locator("#file-tree .tree-file", has_text="todo.txt")).to_have_count(0)
    assert console_errors == []
