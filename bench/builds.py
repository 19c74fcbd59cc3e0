"""Builds on the embedded default, through a real served Hangar (daphne, the embedded Celery worker,
the local builder running pip in real sandboxes).

What is measured, per run: the wall time from ``POST /api/v1/builds/trigger/{notebook}`` until
``GET /api/v1/builds/{id}`` says ``success`` (polled every 20 ms), and, over the live log socket
``/api/v1/ws/builds/{id}/logs`` opened right after the trigger, how long until the first log line
and the final ``complete`` message arrive.

- Cold: the build cache folder is emptied first, so pip downloads six from PyPI into a new venv made
  by the sandbox's python3. ``--cold-runs`` runs (default 2).
- Warm: the same requirements, so the build reuses the cached venv. ``--warm-runs`` runs (default
  10). Target: p50 <= 1 s from trigger to success.

Usage: ``.venv/bin/python bench/builds.py [--cold-runs 2] [--warm-runs 10]``
"""

import argparse
import json
import time
from pathlib import Path
from typing import Any

import common  # also makes the repository importable
import websocket
from common import Api, Report

NAME = "builds"
WARM_TARGET_S = 1.0
RUN_TIMEOUT_S = 300.0
POLL_S = 0.02


def six_notebook() -> bytes:
    """A one-cell notebook that pip-installs six (small, pure Python) and prints its version."""
    source = "%pip install six==1.16.0\nimport six\nprint(six.__version__)\n"
    cell = {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": source}
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": kernel}, "cells": [cell]}
    return json.dumps(notebook).encode()


def parsed_notebook(api: Api, content: bytes) -> int:
    """Upload and parse the notebook; its id."""
    files = {"file": ("six_app.ipynb", content, "application/x-ipynb+json")}
    notebook = api.request("POST", "/api/v1/notebooks/upload", expect=(200, 201), files=files)
    api.request("POST", f"/api/v1/notebooks/{notebook['id']}/parse", expect=(200,))
    return notebook["id"]


def watch_socket(api: Api, build_id: int, began: float) -> dict[str, float]:
    """Read the build's log socket until ``complete``: when the first line and the end arrived."""
    sock = websocket.create_connection(api.ws_url(f"/api/v1/ws/builds/{build_id}/logs"), timeout=RUN_TIMEOUT_S)
    seen: dict[str, float] = {}
    try:
        while True:
            message = json.loads(sock.recv())
            now = time.perf_counter() - began
            if message["type"] == "log":
                seen.setdefault("first_line_s", now)
            if message["type"] == "complete":
                seen["complete_s"] = now
                seen["status"] = message["status"]
                return seen
    finally:
        sock.close()


def one_run(api: Api, notebook_id: int) -> dict[str, Any]:
    """Trigger a build, follow it over the socket and by polling; the times in seconds."""
    began = time.perf_counter()
    build = api.request("POST", f"/api/v1/builds/trigger/{notebook_id}", expect=(201,))
    answered = time.perf_counter() - began
    socket_times = watch_socket(api, build["id"], began)
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        status = api.request("GET", f"/api/v1/builds/{build['id']}")
        if status["status"] in ("success", "failed"):
            break
        time.sleep(POLL_S)
    total = time.perf_counter() - began
    if status["status"] != "success":
        raise RuntimeError(f"build {build['build_id']} ended {status['status']}: {status['error_message']}")
    return {"total_s": total, "trigger_answered_s": answered, "cache_hit": status["cache_hit"], **socket_times}


def empty_folder(path: Path) -> None:
    """Remove everything inside ``path``."""
    if path.exists():
        for child in path.iterdir():
            if child.is_dir():
                common.remove_tree(child)
            else:
                child.unlink()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cold-runs", type=int, default=2)
    parser.add_argument("--warm-runs", type=int, default=10)
    args = parser.parse_args()
    workdir = common.short_temp_dir("hb-bld-")
    runtime_root = workdir / "rt"
    cache_root = workdir / "build-cache"
    folders = {
        "BUILDS_ROOT": str(workdir / "builds"),
        "BUILD_CACHE_ROOT": str(cache_root),
        "MEDIA_ROOT": str(workdir / "media"),
    }
    report = Report(NAME, "Build: trigger -> success (six, embedded default, local builder)")
    cold: list[dict[str, Any]] = []
    warm: list[dict[str, Any]] = []
    try:
        with common.hangar(workdir, runtime_root, **folders) as api:
            notebook_id = parsed_notebook(api, six_notebook())
            for kind, runs, count in (("cold", cold, args.cold_runs), ("warm", warm, args.warm_runs)):
                for n in range(count):
                    if kind == "cold":
                        empty_folder(cache_root)
                    runs.append(one_run(api, notebook_id))
                    print(f"  {kind} run {n + 1}: {runs[-1]['total_s']:6.2f} s (hit: {runs[-1]['cache_hit']})")
    finally:
        common.django_setup(runtime_root)
        leftovers = common.stop_all_workloads(runtime_root)
        common.remove_tree(workdir)
    for kind, runs in (("cold", cold), ("warm", warm)):
        totals = common.summarize([run["total_s"] for run in runs])
        report.add(
            f"{kind}: trigger -> success, p50",
            totals.get("p50", float("nan")),
            "s",
            WARM_TARGET_S if kind == "warm" else None,
        )
        report.add(f"{kind}: trigger -> success, max", totals.get("max", float("nan")), "s")
        first = common.summarize([run["first_line_s"] for run in runs if "first_line_s" in run])
        report.add(f"{kind}: trigger -> first line on the socket, p50", first.get("p50", float("nan")), "s")
    report.notes += [
        "notebook: one cell, requirements six==1.16.0; cold = build cache emptied (pip downloads from PyPI)",
        f"cache hits: cold {[r['cache_hit'] for r in cold]}, warm {[r['cache_hit'] for r in warm]}",
        f"workloads left running after the runs: {leftovers or 'none'}",
    ]
    report.data = {"cold": cold, "warm": warm}
    report.print()
    report.write()
    return 0 if all(figure.verdict != "FAIL" for figure in report.figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())
