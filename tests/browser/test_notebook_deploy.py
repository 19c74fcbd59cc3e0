"""Notebook to app end to end, in a browser, against a real Hangar (daphne, the embedded Celery
worker, the local builder and deployer on real sandboxes, the /apps/ proxy).

A new user registers, opens /notebooks from the nav, drops a small stdlib-only notebook on the drop
zone, deploys it, watches every pipeline step turn done and the progress bar reach the end, opens
the app from the "Open app" link and reads the notebook's output there. Then the notebook's page,
the history and /deployments show it, and Stop stops it. A notebook whose dependency does not exist
fails at the build step, and the page says which step failed.

No console error is allowed on any page.
"""

import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests import served
from tests.served import ROOT, ServedHangar, clean_env, free_port, served_hangar

pytestmark = pytest.mark.browser
PASSWORD = "Sturdy-Passw0rd!"
# Parse, an environment with no packages, a sandbox start: seconds. The bound is for a loaded CI box.
PIPELINE_TIMEOUT_MS = 180_000
GREETING = "Hello from a notebook on Hangar"
# How pip names the missing requirement, however the dependency step spells it.
MISSING_PACKAGE = re.compile(r"hangar[-_]surely[-_]missing[-_]pkg[-_]q7x", re.IGNORECASE)
STOP_ALL_WORKLOADS = (
    "from apps.runtime import registry\n"
    "backend = registry.get_backend()\n"
    "for workload in backend.list_workloads(): backend.stop(workload)\n"
)


def notebook_json(*sources: str) -> str:
    """An nbformat 4 notebook (Python 3 kernel) with a markdown title and one code cell per source."""
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# A tiny notebook"}]
    cells += [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": source}
        for source in sources
    ]
    return json.dumps(
        {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {
                "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                "language_info": {"name": "python"},
            },
            "cells": cells,
        }
    )


# Standard library only: the "outputs" app kind runs the cells and serves their output as a page.
HELLO_NOTEBOOK = notebook_json("import math", f"print({GREETING!r}, 'and', int(math.sqrt(1764)))")


@pytest.fixture
def hangar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServedHangar]:
    """A served Hangar whose runtime, builds, build cache and media live in temporary folders. The
    runtime root is short: the sandbox agent's unix socket path must fit in 108 bytes.

    Apps' URLs are built from PUBLIC_URL, so the server's port is chosen here and PUBLIC_URL names it.
    """
    port = free_port()
    monkeypatch.setattr(served, "free_port", lambda: port)
    runtime_root = tempfile.mkdtemp(prefix="hbn-", dir="/tmp")
    folders = {
        "RUNTIME_ROOT": runtime_root,
        "BUILDS_ROOT": str(tmp_path / "builds"),
        "BUILD_CACHE_ROOT": str(tmp_path / "build-cache"),
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    try:
        with served_hangar(tmp_path, PUBLIC_URL=f"http://127.0.0.1:{port}", **folders) as server:
            yield server
    finally:
        # Deployed apps are sandboxes that outlive the server: stop them before removing the root.
        env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'hangar.sqlite3'}", **folders)
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


def _drop_notebook(page: Page, filename: str, content: str) -> None:
    """Drop a file on the drop zone the way a desktop drag does: a drop event with a DataTransfer."""
    transfer = page.evaluate_handle(
        """([name, text]) => {
          const transfer = new DataTransfer();
          transfer.items.add(new File([text], name, { type: "application/x-ipynb+json" }));
          return transfer;
        }""",
        [filename, content],
    )
    page.dispatch_event("#dropzone", "dragenter", {"dataTransfer": transfer})
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})


def test_drop_a_notebook_deploy_it_and_open_the_app(
    page: Page, hangar: ServedHangar, console_errors: list[str]
) -> None:
    _register(page, hangar.url, "author")
    page.goto(hangar.url + "/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Notebooks").click()
    page.wait_for_url("**/notebooks")
    expect(page.locator("#history")).to_have_attribute("data-loaded", "true")
    expect(page.locator("#history-empty")).to_be_visible()
    # The documented defaults are filled in.
    expect(page.get_by_label("CPU")).to_have_value("1")
    expect(page.get_by_label("Memory")).to_have_value("512Mi")
    expect(page.get_by_label("Min instances")).to_have_value("0")
    expect(page.get_by_label("Max instances")).to_have_value("10")

    # Deploying with no file says what is missing, without calling the API.
    page.get_by_role("button", name="Deploy").click()
    expect(page.locator("#deploy-notice")).to_have_text("Choose a notebook (.ipynb) to deploy.")

    # Something that is not a notebook is refused at once.
    _drop_notebook(page, "notes.txt", "just text")
    expect(page.locator("#deploy-notice")).to_have_text("“notes.txt” is not a notebook: the file must end in .ipynb.")
    _drop_notebook(page, "hello.ipynb", HELLO_NOTEBOOK)
    expect(page.locator("#selected-file")).to_have_text("Selected: hello.ipynb")
    expect(page.locator("#deploy-notice")).to_be_hidden()
    page.get_by_role("button", name="Deploy").click()

    pipeline = page.locator("#pipeline")
    expect(pipeline).to_be_visible()
    expect(pipeline).to_have_attribute("data-pipeline-id", re.compile(r"^pipeline-"))
    pipeline_id = pipeline.get_attribute("data-pipeline-id")
    assert f"pipeline={pipeline_id}" in page.url
    # Every step turns done and the bar reaches its end.
    expect(pipeline).to_have_attribute("data-status", "deployed", timeout=PIPELINE_TIMEOUT_MS)
    for step in ("parse", "dependencies", "upload", "build", "deploy"):
        expect(pipeline.locator(f'.step[data-step="{step}"]')).to_have_attribute("data-state", "done")
    progress = page.get_by_role("progressbar")
    expect(progress).to_have_attribute("aria-valuenow", "5")
    expect(progress).to_have_attribute("aria-valuetext", "Deployed")
    expect(page.locator("#pipeline-status")).to_have_text("deployed")
    expect(page.locator("#pipeline-error")).to_be_hidden()
    # The build's log was streamed into the page.
    expect(page.locator("#build-log-empty")).to_have_count(0)
    assert page.locator("#build-log").inner_text().strip()
    # Links to the generated sources.
    notebook_href = page.locator("#notebook-link").get_attribute("href")
    notebook_id = notebook_href.rsplit("/", 1)[1]
    expect(page.locator("#download-main")).to_have_attribute(
        "href", f"/api/v1/notebooks/{notebook_id}/download/main.py"
    )
    page.screenshot(path="/tmp/notebook_deployed.png", full_page=True)

    # Open app: the app (in a new tab) shows the notebook's output.
    with page.context.expect_page() as opened:
        pipeline.get_by_role("link", name="Open app").click()
    app = opened.value
    app.wait_for_load_state()
    expect(app.locator("body")).to_contain_text(f"{GREETING} and 42", timeout=30_000)
    assert app.url.startswith(f"{hangar.url}/apps/notebook-{notebook_id}-"), app.url
    user_id = app.url.rstrip("/").rsplit("-", 1)[1]
    app.close()

    # The history lists it, deployed, with its generated files.
    row = page.locator("#history-rows tr", has_text="hello")
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-status", "deployed")
    expect(row.get_by_role("link", name="Dockerfile")).to_have_attribute(
        "href", f"/api/v1/notebooks/{notebook_id}/download/Dockerfile"
    )
    main_py = page.request.get(f"{hangar.url}/api/v1/notebooks/{notebook_id}/download/main.py")
    assert main_py.ok and GREETING in main_py.text()

    # The notebook's page: parsed as an outputs notebook with no dependencies, one build, one deployment.
    row.get_by_role("link", name="hello").click()
    page.wait_for_url(f"**/notebooks/{notebook_id}")
    expect(page.locator("#notebook-status")).to_have_text("deployed")
    expect(page.locator("#builds tbody tr")).to_have_count(1)
    expect(page.locator("#notebook-deployments tbody tr")).to_have_count(1)
    expect(page.get_by_role("link", name="Open app")).to_be_visible()
    # Link it to a repository file, then unlink it. The secret is never shown again.
    expect(page.locator("#notebook")).to_have_attribute("data-links-loaded", "true")
    expect(page.locator("#repository-empty")).to_be_visible()
    page.get_by_label("Repository URL").fill("https://github.com/example/notebooks")
    page.get_by_label("Branch").fill("release")
    page.get_by_label("Notebook path").fill("apps/hello.ipynb")
    page.get_by_label("Webhook secret").fill("s3cret-for-hooks")
    page.get_by_role("button", name="Link repository").click()
    link = page.locator("#repository-list .repo-item")
    expect(link).to_contain_text("https://github.com/example/notebooks")
    expect(link).to_contain_text("release")
    expect(link.locator(".webhook-url")).to_have_text(f"{hangar.url}/api/v1/webhooks/github")
    expect(page.get_by_role("button", name="Replace link")).to_be_visible()
    assert "s3cret-for-hooks" not in page.content()
    page.once("dialog", lambda dialog: dialog.accept())
    link.get_by_role("button", name="Unlink").click()
    expect(link).to_have_count(0)
    expect(page.locator("#repository-empty")).to_be_visible()

    # /deployments: the app is listed, deployed, under the notebook's name.
    page.goto(hangar.url + "/deployments")
    first = page.locator('#deployment-rows tr[data-revision="1"]')
    expect(first).to_have_count(1)
    expect(first).to_have_attribute("data-status", "deployed")
    expect(first.get_by_role("link", name="hello")).to_have_attribute("href", f"/notebooks/{notebook_id}")
    expect(first.get_by_role("link", name="Open app")).to_be_visible()
    # Logs shows the app's log.
    first.get_by_role("button", name="Logs").click()
    expect(page.locator("#deployment-rows pre[data-logs-for]")).not_to_have_text("Loading…", timeout=10_000)
    # Redeploy makes revision 2 of the same service, which the list follows until it is deployed.
    first.get_by_role("button", name="Redeploy").click()
    second = page.locator('#deployment-rows tr[data-revision="2"]')
    expect(second).to_have_attribute("data-status", "deployed", timeout=PIPELINE_TIMEOUT_MS)
    expect(second).to_have_attribute("data-service", f"notebook-{notebook_id}-{user_id}")
    # Stop stops it (after a confirmation), and its Open app link goes.
    page.once("dialog", lambda dialog: dialog.accept())
    second.get_by_role("button", name="Stop").click()
    expect(second).to_have_attribute("data-status", "stopped", timeout=30_000)
    expect(second.get_by_role("link", name="Open app")).to_have_count(0)
    assert console_errors == []


def test_a_failing_build_names_its_step_and_keeps_its_log(
    page: Page, hangar: ServedHangar, console_errors: list[str]
) -> None:
    """A dependency that does not exist on PyPI: pip fails, so the build step fails, and the page
    says so, with pip's reason, while the steps before it stay done. A reload in between resumes
    following the same pipeline."""
    _register(page, hangar.url, "unlucky")
    page.goto(hangar.url + "/notebooks")
    broken = notebook_json("import hangar_surely_missing_pkg_q7x\nprint('unreachable')")
    page.set_input_files(
        "#notebook-file",
        files=[{"name": "broken.ipynb", "mimeType": "application/x-ipynb+json", "buffer": broken.encode()}],
    )
    expect(page.locator("#selected-file")).to_have_text("Selected: broken.ipynb")
    page.get_by_role("button", name="Deploy").click()

    pipeline = page.locator("#pipeline")
    expect(pipeline).to_have_attribute("data-pipeline-id", re.compile(r"^pipeline-"))
    pipeline_id = pipeline.get_attribute("data-pipeline-id")
    # A reload picks the pipeline up again from the address.
    page.reload()
    expect(pipeline).to_have_attribute("data-pipeline-id", pipeline_id)
    expect(page.locator("#pipeline-id")).to_have_text(pipeline_id)
    expect(page.locator("#pipeline-notebook")).to_have_text("broken.ipynb")
    expect(pipeline).to_have_attribute("data-status", "failed", timeout=PIPELINE_TIMEOUT_MS)
    expect(page.locator("#pipeline-verb")).to_have_text("Could not deploy")
    for step in ("parse", "dependencies", "upload"):
        expect(pipeline.locator(f'.step[data-step="{step}"]')).to_have_attribute("data-state", "done")
    expect(pipeline.locator('.step[data-step="build"]')).to_have_attribute("data-state", "failed")
    expect(pipeline.locator('.step[data-step="deploy"]')).to_have_attribute("data-state", "pending")
    error = page.locator("#pipeline-error")
    expect(error).to_be_visible()
    expect(error).to_have_attribute("role", "alert")
    expect(error).to_contain_text("Build step failed: ")
    expect(error).to_contain_text(MISSING_PACKAGE)
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuetext", "Failed at Build")
    expect(pipeline.get_by_role("link", name="Open app")).to_be_hidden()
    # pip's own words reached the build log.
    expect(page.locator("#build-log")).to_contain_text(MISSING_PACKAGE)
    # The history shows it failed, and offers no app to open.
    row = page.locator("#history-rows tr", has_text="broken")
    expect(row).to_have_attribute("data-status", "failed")
    expect(row.get_by_role("link", name="Open app")).to_have_count(0)
    assert console_errors == []


SEED_HISTORY = """
from apps.accounts.models import User
from apps.deployments.models import Pipeline
from apps.notebooks.models import Notebook

owner = User.objects.get(username="historian")
for i in range(23):
    notebook = Notebook.objects.create(
        owner=owner, name=f"nb{i:02d}", filename=f"nb{i:02d}.ipynb", file="nb.ipynb", status="failed"
    )
    Pipeline.objects.create(
        owner=owner, notebook=notebook, pipeline_id=f"pipeline-{notebook.pk}-{i}", status="failed",
        current_step="parse", error_message="not a notebook",
    )
"""


def test_history_pages_and_an_unknown_pipeline(page: Page, hangar: ServedHangar, console_errors: list[str]) -> None:
    """23 pipelines (written straight to the served database) make three pages of history."""
    _register(page, hangar.url, "historian")
    env = clean_env(DATABASE_URL=f"sqlite:///{hangar.log_path.parent / 'hangar.sqlite3'}")
    subprocess.run([sys.executable, "manage.py", "shell", "-c", SEED_HISTORY], cwd=ROOT, env=env, check=True)
    page.goto(hangar.url + "/notebooks")
    rows = page.locator("#history-rows tr")
    expect(page.locator("#history-range")).to_have_text("1\N{EN DASH}10 of 23")
    expect(rows).to_have_count(10)
    expect(rows.first).to_contain_text("nb22")
    expect(page.get_by_role("button", name="Previous")).to_be_disabled()
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#history-range")).to_have_text("11\N{EN DASH}20 of 23")
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#history-range")).to_have_text("21\N{EN DASH}23 of 23")
    expect(rows).to_have_count(3)
    expect(rows.last).to_contain_text("nb00")
    expect(page.get_by_role("button", name="Next")).to_be_disabled()
    page.get_by_role("button", name="Previous").click()
    expect(page.locator("#history-range")).to_have_text("11\N{EN DASH}20 of 23")

    # An address naming no pipeline of this user says so.
    page.goto(hangar.url + "/notebooks?pipeline=pipeline-0-0")
    expect(page.locator("#deploy-notice")).to_have_text("Pipeline pipeline-0-0 was not found.")
    # Only the answers that said so (the status read and the socket's 404) were logged.
    assert all("404" in error for error in console_errors), console_errors
