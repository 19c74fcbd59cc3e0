"""The generated apps, run for real: ``python main.py`` in the written sources, GET over HTTP.

The outputs kind runs with this test run's interpreter (pandas, matplotlib, scikit-learn and
Pillow are in .venv). Flask and FastAPI are not, and nothing may be installed into .venv, so those
launchers run in one throwaway venv per module that pip-installs flask, fastapi and uvicorn.
"""

import json
import os
import subprocess
import sys
import time
from contextlib import suppress

import pytest

from apps.notebooks import services
from apps.notebooks.tests.helpers import (
    BASE_PATH,
    fixture_bytes,
    free_port,
    get,
    notebook_json,
    parsed_sources,
    running_app,
    upload_fixture,
)

pytestmark = pytest.mark.django_db


# --- the outputs kind -----------------------------------------------------------------------------


def test_outputs_app_serves_the_executed_notebook(user_client, user, tmp_path):
    # Through the API up to the parse, as a user would.
    notebook_id = upload_fixture(user_client, "sales_analysis.ipynb")
    assert user_client.post(f"/api/v1/notebooks/{notebook_id}/parse").json()["app_kind"] == "outputs"
    notebook = services.Notebook.objects.get(pk=notebook_id)
    services.notebook_write_sources(notebook=notebook, dest=tmp_path / "app")

    with running_app(sys.executable, tmp_path / "app") as url:
        status, page = get(url + "/")
        assert status == 200
        assert "<h1>Quarterly sales analysis</h1>" in page  # markdown cell
        assert "Total revenue: 449.5" in page  # stdout
        assert "slope=" in page
        assert '<table border="1" class="dataframe">' in page  # the DataFrame's rich display
        assert "<td>north</td>" in page
        assert '<img src="data:image/png;base64,' in page  # the matplotlib figure
        assert "(8, 8)" in page  # the last expression's value
        assert "ValueError: this cell fails on purpose" in page  # the failing cell's exception...
        assert "still running after the failure" in page  # ...does not stop the next cells
        assert "File &quot;&lt;cell 8&gt;&quot;, line 1" in page  # the cell's own frame...
        assert "in execute" not in page  # ...not the runner's
        assert get(url + "/healthz") == (200, "ok\n")
        assert get(url + "/nothing-here")[0] == 404


def test_outputs_app_listens_at_once_and_is_ready_after_its_cells(user, tmp_path):
    content = notebook_json("import time\ntime.sleep(3)\nprint('slow cell done')", "input('Your name? ')")
    sources = parsed_sources(user, content, "slow.ipynb", tmp_path / "app")
    port = free_port()
    env = {**os.environ, "PORT": str(port), "HANGAR_BASE_PATH": BASE_PATH}
    process = subprocess.Popen([sys.executable, "main.py"], cwd=sources, env=env, stdout=subprocess.DEVNULL)
    try:
        statuses = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and 200 not in statuses:
            with suppress(OSError):
                statuses.append(get(f"http://127.0.0.1:{port}/")[0])
            time.sleep(0.1)
        assert statuses[0] == 503  # listening, still running the notebook
        assert statuses[-1] == 200
        page = get(f"http://127.0.0.1:{port}/")[1]
        assert "slow cell done" in page
        assert "EOFError" in page  # input() does not hang the app
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_syntax_error_cell_is_shown_on_the_page(user, tmp_path):
    sources = parsed_sources(user, fixture_bytes("syntax_error.ipynb"), "syntax_error.ipynb", tmp_path / "app")
    with running_app(sys.executable, sources) as url:
        page = get(url + "/")[1]
    assert "before" in page and "after" in page
    assert "SyntaxError: invalid syntax" in page
    assert "&lt;cell 2&gt;" in page


def test_shell_magics_run_in_the_outputs_app(user, tmp_path):
    sources = parsed_sources(user, fixture_bytes("shell_magics.ipynb"), "shell_magics.ipynb", tmp_path / "app")
    with running_app(sys.executable, sources) as url:
        page = get(url + "/")[1]
    assert "bash says hi" in page  # %%bash, through subprocess, captured at the descriptor level
    assert "plain shell" in page  # !echo
    assert "42" in page  # helpers.py, written by %%writefile, imported by the next cell
    assert (sources / "helpers.py").exists()
    assert (sources / "listing.txt").exists()  # the bash cell ran in the sources folder
    assert "<marquee>" not in page  # %%html was commented out, not rendered


# --- server kinds, in a throwaway venv ------------------------------------------------------------


@pytest.fixture(scope="module")
def web_python(tmp_path_factory) -> str:
    """A venv with flask, fastapi and uvicorn from PyPI (measured: about 80 s on an idle machine)."""
    venv = tmp_path_factory.mktemp("webvenv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    result = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "flask", "fastapi", "uvicorn"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"pip install failed (is PyPI reachable?):\n{result.stderr[-3000:]}"
    return python


def test_flask_app_runs_behind_the_prefix_stripping_proxy(user, tmp_path, web_python):
    sources = parsed_sources(user, fixture_bytes("flask_app.ipynb"), "flask_app.ipynb", tmp_path / "app")
    assert "flask" in (sources / "requirements.txt").read_text().splitlines()
    with running_app(web_python, sources) as url:
        assert get(url + "/") == (200, "<h1>Hello from the notebook</h1>")
        status, body = get(url + "/api/items")
        assert status == 200 and json.loads(body) == {"items": ["apples", "pears"]}
        # The notebook's app.run(port=5000, debug=True) did not take over: PORT is served.
        # url_for() puts the stripped prefix back from X-Forwarded-Prefix (ProxyFix).
        assert get(url + "/where", {"X-Forwarded-Prefix": "/apps/notebook-1"}) == (200, "/apps/notebook-1/api/items")
        assert get(url + "/where") == (200, "/api/items")


def test_fastapi_app_runs_with_its_root_path(user, tmp_path, web_python):
    sources = parsed_sources(user, fixture_bytes("fastapi_app.ipynb"), "fastapi_app.ipynb", tmp_path / "app")
    with running_app(web_python, sources) as url:
        status, body = get(url + "/")
        assert status == 200 and json.loads(body) == {"message": "hello from fastapi"}
        status, docs = get(url + "/docs")
        assert status == 200
        assert "/apps/notebook-1/openapi.json" in docs  # links carry HANGAR_BASE_PATH
        assert get(url + "/openapi.json")[0] == 200
