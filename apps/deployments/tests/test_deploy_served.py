"""End to end through a real ``manage.py serve`` (daphne plus the embedded worker): deploy over
the API, then reach the apps through daphne's /apps/ proxy over HTTP and WebSocket. One app is
a stdlib server, the other a real Flask app from a venv with Flask installed from PyPI."""

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests
import websocket

from apps.deployments.tests.support import APPS_DIR
from apps.runtime.backends import sandbox
from tests.served import ROOT, clean_env, served_hangar

pytestmark = pytest.mark.skipif(not sandbox.bubblewrap_available(), reason="bubblewrap is not installed")

SETUP = """
import json
from apps.accounts.tests.factories import UserFactory
from apps.accounts.tokens import tokens_for
from apps.builds.models import Build
from apps.notebooks.models import Notebook
spec = json.load(open({spec!r}))
user = UserFactory()
out = {{"token": tokens_for(user).access, "builds": []}}
for index, app in enumerate(spec["apps"]):
    notebook = Notebook.objects.create(owner=user, name=app["name"], filename="a.ipynb", file="notebooks/a.ipynb",
                                       status="built")
    build = Build.objects.create(owner=user, notebook=notebook, build_id=f"build-{{notebook.pk}}-{{index}}",
                                 status="success", source_path=app["source"], env_path=app["env"])
    out["builds"].append({{"notebook_id": notebook.pk, "build_id": build.build_id}})
print("SETUP" + json.dumps(out))
"""


@pytest.fixture(scope="module")
def flask_venv():
    """A venv made by /usr/bin/python3, with Flask installed from PyPI (as a build would)."""
    root = Path(tempfile.mkdtemp(prefix="hdf-", dir="/tmp"))
    venv = root / "venv"
    subprocess.run(["/usr/bin/python3", "-m", "venv", str(venv)], check=True, timeout=120)
    installed = subprocess.run(
        [str(venv / "bin/pip"), "install", "--quiet", "--disable-pip-version-check", "flask"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if installed.returncode != 0:
        pytest.fail(f"pip could not install flask from PyPI: {installed.stderr[-300:]}")
    yield venv
    shutil.rmtree(root, ignore_errors=True)


def _source(root: Path, app: str) -> str:
    folder = root / "src" / app.removesuffix(".py")
    folder.mkdir(parents=True)
    shutil.copy(APPS_DIR / app, folder / "main.py")
    (folder / "requirements.txt").write_text("flask\n" if "flask" in app else "")
    return str(folder)


def _manage(args: list[str], env: dict, workdir: Path) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _wait_deployed(base: str, headers: dict, deployment_id: int) -> dict:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        body = requests.get(f"{base}/api/v1/deployments/{deployment_id}", headers=headers, timeout=10).json()
        if body["status"] != "deploying":
            return body
        time.sleep(0.2)
    raise AssertionError(f"deployment {deployment_id} still deploying")


def test_deploy_over_http_then_apps_answer_through_daphne(flask_venv):
    root = Path(tempfile.mkdtemp(prefix="hds-", dir="/tmp"))
    try:
        plain = root / "plain-venv"
        subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip", str(plain)], check=True)
        spec = {
            "apps": [
                {"name": "stdlib", "source": _source(root, "stdlib_app.py"), "env": str(plain)},
                {"name": "flask", "source": _source(root, "flask_app.py"), "env": str(flask_venv)},
            ]
        }
        (root / "spec.json").write_text(json.dumps(spec))
        database = root / "hangar.sqlite3"
        server_env = {"RUNTIME_ROOT": str(root / "rt"), "DEPLOY_HEALTH_TIMEOUT_SECONDS": "60"}
        env = clean_env(DATABASE_URL=f"sqlite:///{database}", **server_env)
        _manage(["migrate", "--noinput"], env, root)
        output = _manage(["shell", "-c", SETUP.format(spec=str(root / "spec.json"))], env, root)
        setup = json.loads(output.split("SETUP", 1)[1])
        headers = {"Authorization": f"Bearer {setup['token']}"}

        with served_hangar(root, database=database, **server_env) as served:
            names = []
            for build in setup["builds"]:
                created = requests.post(
                    f"{served.url}/api/v1/deployments",
                    json={**build, "cpu": "0.5", "memory": "256Mi"},
                    headers=headers,
                    timeout=30,
                )
                assert created.status_code == 201, created.text
                deployment = _wait_deployed(served.url, headers, created.json()["id"])
                assert deployment["status"] == "deployed", deployment
                names.append(deployment["service_name"])
            stdlib, flask = names

            page = requests.get(f"{served.url}/apps/{stdlib}/", timeout=10)
            assert page.status_code == 200 and page.text.startswith("hello from the app")
            big = b"x" * (3 * 1024 * 1024)
            echoed = requests.post(f"{served.url}/apps/{stdlib}/echo", data=big, timeout=30)
            assert echoed.status_code == 201 and echoed.content == big
            streamed = requests.get(f"{served.url}/apps/{stdlib}/stream", timeout=10)
            assert streamed.text == "".join(f"part-{i}\n" for i in range(5))

            socket = websocket.create_connection(
                f"{served.url.replace('http', 'ws', 1)}/apps/{stdlib}/ws", timeout=10, subprotocols=["chat"]
            )
            try:
                socket.send("over daphne")
                assert socket.recv() == "echo:over daphne"
            finally:
                socket.close()

            hello = requests.get(f"{served.url}/apps/{flask}/", timeout=10)
            assert hello.status_code == 200 and hello.text == f"flask says hi under /apps/{flask}/"
            redirected = requests.get(f"{served.url}/apps/{flask}/go", allow_redirects=False, timeout=10)
            assert redirected.status_code == 302
            assert redirected.headers["Location"] in (f"/apps/{flask}/", f"{served.url}/apps/{flask}/")
            followed = requests.get(f"{served.url}/apps/{flask}/go", timeout=10)
            assert followed.status_code == 200 and "flask says hi" in followed.text

            unknown = requests.get(f"{served.url}/apps/notebook-424242-1/", timeout=10)
            assert unknown.status_code == 404 and unknown.json()["error_code"] == "NOT_FOUND"
            assert "Traceback" not in served.log()
    finally:
        from django.test import override_settings

        from apps.runtime.backends.local import LocalBackend

        with override_settings(RUNTIME_ROOT=str(root / "rt")):
            backend = LocalBackend()
            for workload in backend.list_workloads():
                backend.stop(workload)
        shutil.rmtree(root, ignore_errors=True)
