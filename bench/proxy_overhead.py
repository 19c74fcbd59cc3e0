"""What Hangar's /apps/ proxy adds to a request, versus hitting the app's port directly.

What is measured: a stdlib app (``apps/deployments/tests/apps/stdlib_app.py``, HTTP/1.1
keep-alive) is deployed for real through ``POST /api/v1/deployments`` on a served Hangar
(``manage.py serve``: daphne plus the embedded worker; the build is made here as the local builder
makes it: the sources and a venv by /usr/bin/python3). Then ``GET /`` is timed N times on one
keep-alive connection straight to the sandbox's published host port, and N times on one keep-alive
connection to daphne at ``/apps/<service_name>/``, interleaved so that drift hits both alike.
Both paths cross slirp4netns into the sandbox; the difference is daphne plus the proxy.

Target: the added p50 (proxied p50 minus direct p50) <= 2 ms.

Usage: ``.venv/bin/python bench/proxy_overhead.py [--requests 1000]``.
"""

import argparse
import http.client
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import common  # also makes the repository importable
from common import ROOT, Report

NAME = "proxy_overhead"
TARGET_ADDED_P50_MS = 2.0
APP = ROOT / "apps" / "deployments" / "tests" / "apps" / "stdlib_app.py"
SETUP = """
import json
from apps.builds.models import Build
from apps.notebooks.models import Notebook
notebook = Notebook.objects.create(owner_id={user_id}, name="bench", filename="bench.ipynb",
                                   file="notebooks/bench.ipynb", status="built")
build = Build.objects.create(owner_id={user_id}, notebook=notebook, build_id=f"build-{{notebook.pk}}-1",
                             status="success", source_path={source!r}, env_path={env!r})
print("SETUP" + json.dumps({{"notebook_id": notebook.pk, "build_id": build.build_id}}))
"""


def make_build_files(workdir: Path) -> tuple[Path, Path]:
    source = workdir / "source"
    source.mkdir()
    shutil.copy(APP, source / "main.py")
    (source / "requirements.txt").write_text("")
    venv = workdir / "venv"
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip", str(venv)], check=True)  # noqa: S603
    return source, venv


def create_build(workdir: Path, runtime_root: Path, user_id: int, source: Path, venv: Path) -> dict:
    from tests.served import clean_env

    env = clean_env(DATABASE_URL=f"sqlite:///{workdir / 'hangar.sqlite3'}", RUNTIME_ROOT=str(runtime_root))
    script = SETUP.format(user_id=user_id, source=str(source), env=str(venv))
    done = subprocess.run(  # noqa: S603 (our interpreter, our manage.py)
        [sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(done.stdout + done.stderr)
    return json.loads(done.stdout.split("SETUP", 1)[1])


def deploy(api, build: dict) -> dict:
    created = api.request(
        "POST", "/api/v1/deployments", expect=(201,), json={**build, "cpu": "1", "memory": "256Mi", "min_instances": 1}
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        deployment = api.request("GET", f"/api/v1/deployments/{created['id']}")
        if deployment["status"] != "deploying":
            if deployment["status"] != "deployed":
                raise RuntimeError(f"deploy failed: {deployment}")
            return deployment
        time.sleep(0.1)
    raise RuntimeError("deploy did not finish")


def timed_get(connection: http.client.HTTPConnection, path: str, expect: int = 200) -> float:
    started = time.perf_counter()
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    elapsed = common.ms_since(started)
    if response.status != expect:
        raise RuntimeError(f"GET {path}: {response.status}")
    return elapsed


def measure(direct_port: int, served_port: int, service_name: str, count: int) -> dict[str, list[float]]:
    """Interleaved timings: straight to the app, through the proxy, and daphne's floor (the
    proxy's own JSON 404 for an unknown app, which never leaves the process)."""
    direct = http.client.HTTPConnection("127.0.0.1", direct_port, timeout=10)
    proxied = http.client.HTTPConnection("127.0.0.1", served_port, timeout=10)
    floor = http.client.HTTPConnection("127.0.0.1", served_port, timeout=10)
    path = f"/apps/{service_name}/"
    probes = [
        ("direct", lambda: timed_get(direct, "/")),
        ("proxied", lambda: timed_get(proxied, path)),
        ("floor", lambda: timed_get(floor, "/apps/notebook-0-0/", expect=404)),
    ]
    for _ in range(100):  # warm up the connections, the route cache and the pool
        for _name, probe in probes:
            probe()
    timings: dict[str, list[float]] = {name: [] for name, _probe in probes}
    for index in range(count):
        rotated = probes[index % 3 :] + probes[: index % 3]
        for name, probe in rotated:
            timings[name].append(probe())
    for connection in (direct, proxied, floor):
        connection.close()
    return timings


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    workdir = common.short_temp_dir("bpo-")
    runtime_root = common.short_temp_dir("bpr-")
    common.django_setup(runtime_root)  # for the cleanup, which reads the runtime's state here
    report = Report(NAME, "App proxy overhead: GET / through /apps/<service_name>/ versus the app's port")
    try:
        source, venv = make_build_files(workdir)
        with common.hangar(workdir, runtime_root) as api:
            build = create_build(workdir, runtime_root, api.user["id"], source, venv)
            deployment = deploy(api, build)
            state = json.loads((runtime_root / "run" / f"dep-{deployment['id']}" / "state.json").read_text())
            served_port = int(api.base_url.rsplit(":", 1)[1])
            timings = measure(state["host_port"], served_port, deployment["service_name"], args.requests)
        direct, proxied = common.summarize(timings["direct"]), common.summarize(timings["proxied"])
        floor = common.summarize(timings["floor"])
        report.add("direct p50", direct["p50"], "ms")
        report.add("direct p95", direct["p95"], "ms")
        report.add("proxied p50", proxied["p50"], "ms")
        report.add("proxied p95", proxied["p95"], "ms")
        report.add("added p50", proxied["p50"] - direct["p50"], "ms", TARGET_ADDED_P50_MS)
        report.add("added p95", proxied["p95"] - direct["p95"], "ms")
        report.add("daphne floor p50 (404, no upstream)", floor["p50"], "ms")
        report.notes.append(f"{args.requests} requests each way, interleaved, one keep-alive connection each")
        report.notes.append("both paths cross slirp4netns into the sandbox; the proxied one adds daphne and the proxy")
        report.data = {"direct": direct, "proxied": proxied, "floor": floor}
    except Exception as exc:
        # The served helper appends the whole server log to its error; that log is kept on disk.
        print(f"proxy_overhead failed: {str(exc).split('--- server output ---')[0][:2000]}", file=sys.stderr)
        print(f"server log: bench/results/{NAME}.serve.log", file=sys.stderr)
        return 1
    finally:
        stopped = common.stop_all_workloads(runtime_root)
        if stopped:
            report.notes.append(f"cleaned up {len(stopped)} workload(s)")
        common.remove_tree(workdir)
        common.remove_tree(runtime_root)
    report.print()
    report.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
