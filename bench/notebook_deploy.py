"""Notebook upload to a deployed app answering 200, on the embedded default, through a real served
Hangar (daphne, the embedded Celery worker, the local builder and deployer on real sandboxes, the
``/apps/`` proxy).

What is measured, per run: the wall time from sending ``POST /api/v1/pipeline/deploy`` (a small
Flask notebook, multipart, the documented default resources) until ``GET /api/v1/pipeline/status``
says ``deployed`` and then until the app's ``service_url`` answers 200 through Hangar's proxy.
That is what a user of the one-click deploy waits for: upload, parse, dependencies, the build (pip
installing Flask into a fresh environment, or reusing the cached one), the sandbox start and the
app's first answer. The status is polled every 20 ms; the times at which each step was first seen
completed give the per-step breakdown.

- Cold: the build cache folder is emptied before the run, so pip downloads and installs Flask from
  PyPI (pip's own cache is not shared with build sandboxes). ``--cold-runs`` runs (default 2).
- Warm: the same requirements again, so the build reuses the cached environment. ``--warm-runs``
  runs (default 5), each a new upload of the notebook. Target: p50 <= 3 s.

Each run's deployment is stopped after it is measured, so the sandboxes do not pile up.

Usage: ``.venv/bin/python bench/notebook_deploy.py [--cold-runs 2] [--warm-runs 5]``
"""

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import common  # also makes the repository importable
from common import Api, Report

NAME = "notebook_deploy"
WARM_TARGET_S = 3.0
RUN_TIMEOUT_S = 300.0
POLL_S = 0.02
STEPS = ("parse", "dependencies", "upload", "build", "deploy")
GREETING = "Hello from Flask on Hangar"


def flask_notebook() -> bytes:
    """A three-cell Flask notebook: the app, a route, and the ``app.run()`` Hangar neutralises."""
    sources = [
        "from flask import Flask\n\napp = Flask(__name__)",
        f"@app.route('/')\ndef index():\n    return {GREETING!r}",
        "if __name__ == '__main__':\n    app.run(port=5000)",
    ]
    cells = [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": source}
        for source in sources
    ]
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "cells": cells,
    }
    return json.dumps(notebook).encode()


def deploy(api: Api, content: bytes, n: int) -> dict[str, Any]:
    """Start a one-click deploy; returns the API's answer."""
    return api.request(
        "POST",
        "/api/v1/pipeline/deploy",
        expect=(200, 201, 202),
        files={"file": (f"flask_app_{n}.ipynb", content, "application/x-ipynb+json")},
        data={"cpu": "1", "memory": "512Mi", "min_instances": "0", "max_instances": "10"},
    )


def wait_deployed(api: Api, pipeline_id: str, began: float) -> tuple[dict[str, Any], dict[str, float]]:
    """Poll the status until deployed; the final status and when (s since ``began``) each step was
    first seen completed."""
    seen: dict[str, float] = {}
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        status = api.request("GET", f"/api/v1/pipeline/status/{pipeline_id}")
        now = time.perf_counter() - began
        for step in status.get("steps_completed") or []:
            seen.setdefault(step, now)
        if status["status"] == "deployed":
            return status, seen
        if status["status"] == "failed":
            raise RuntimeError(f"pipeline {pipeline_id} failed at {status['current_step']}: {status['error_message']}")
        time.sleep(POLL_S)
    raise TimeoutError(f"pipeline {pipeline_id} not deployed after {RUN_TIMEOUT_S} s")


def wait_answering(api: Api, url: str) -> str:
    """GET the app until it answers 200; returns its body."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = api.session.get(url, timeout=30)
        if response.status_code == 200:
            return response.text
        time.sleep(POLL_S)
    raise TimeoutError(f"{url} did not answer 200 within 60 s")


def one_run(api: Api, content: bytes, n: int) -> dict[str, Any]:
    """Deploy, wait until the app answers, check its page, stop it; the times in seconds."""
    began = time.perf_counter()
    started = deploy(api, content, n)
    answered = time.perf_counter() - began
    status, steps = wait_deployed(api, started["pipeline_id"], began)
    deployed = time.perf_counter() - began
    # The URL is built from PUBLIC_URL; this server listens on its own port, so keep the path only.
    url = api.base_url + urlsplit(status["service_url"]).path
    body = wait_answering(api, url)
    total = time.perf_counter() - began
    if GREETING not in body:
        raise RuntimeError(f"the app at {url} answered without its greeting: {body[:300]!r}")
    build = api.request("GET", f"/api/v1/builds/{status['build_id']}")
    api.request("POST", f"/api/v1/deployments/{status['deployment_id']}/stop", expect=(200, 409))
    return {
        "total_s": total,
        "deployed_s": deployed,
        "upload_answered_s": answered,
        "steps_seen_s": steps,
        "cache_hit": build.get("cache_hit"),
        "pipeline_id": started["pipeline_id"],
    }


def empty_folder(path: Path) -> None:
    """Remove everything inside ``path`` (the builder recreates the folder on first use)."""
    if path.exists():
        for child in path.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()


def step_breakdown(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """p50 of the time each step took (from the previous one seen completed), in s."""
    result: dict[str, dict[str, float]] = {}
    for run in runs:
        previous = run["upload_answered_s"]
        for step in STEPS:
            at = run["steps_seen_s"].get(step)
            if at is None:
                continue
            result.setdefault(step, {"values": []})["values"].append(at - previous)
            previous = at
    return {step: common.summarize(entry["values"]) for step, entry in result.items()}


def _print_run(kind: str, n: int, run: dict[str, Any]) -> None:
    print(f"  {kind} run {n + 1}: {run['total_s']:6.2f} s (cache hit: {run['cache_hit']})", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cold-runs", type=int, default=2)
    parser.add_argument("--warm-runs", type=int, default=5)
    args = parser.parse_args()
    workdir = common.short_temp_dir("hb-nbd-")
    runtime_root = workdir / "rt"
    cache_root = workdir / "build-cache"
    folders = {
        "BUILDS_ROOT": str(workdir / "builds"),
        "BUILD_CACHE_ROOT": str(cache_root),
        "MEDIA_ROOT": str(workdir / "media"),
    }
    content = flask_notebook()
    report = Report(NAME, "Notebook upload -> deployed -> app answers 200 (Flask, embedded default)")
    cold: list[dict[str, Any]] = []
    warm: list[dict[str, Any]] = []
    try:
        with common.hangar(workdir, runtime_root, **folders) as api:
            for n in range(args.cold_runs):
                empty_folder(cache_root)
                cold.append(one_run(api, content, n))
                print(
                    f"  cold run {n + 1}: {cold[-1]['total_s']:6.2f} s (cache hit: {cold[-1]['cache_hit']})", flush=True
                )
            for n in range(args.warm_runs):
                warm.append(one_run(api, content, args.cold_runs + n))
                print(
                    f"  warm run {n + 1}: {warm[-1]['total_s']:6.2f} s (cache hit: {warm[-1]['cache_hit']})", flush=True
                )
    finally:
        common.django_setup(runtime_root)
        leftovers = common.stop_all_workloads(runtime_root)
        common.remove_tree(workdir)
    cold_totals = [run["total_s"] for run in cold]
    warm_totals = [run["total_s"] for run in warm]
    report.add("cold: upload -> app answers, p50", common.summarize(cold_totals).get("p50", float("nan")), "s")
    report.add("cold: upload -> app answers, max", common.summarize(cold_totals).get("max", float("nan")), "s")
    report.add(
        "warm: upload -> app answers, p50", common.summarize(warm_totals).get("p50", float("nan")), "s", WARM_TARGET_S
    )
    report.add("warm: upload -> app answers, max", common.summarize(warm_totals).get("max", float("nan")), "s")
    report.add(
        "warm: upload -> status deployed, p50",
        common.summarize([run["deployed_s"] for run in warm]).get("p50", float("nan")),
        "s",
    )
    report.add(
        "warm: POST /pipeline/deploy answered, p50",
        common.summarize([run["upload_answered_s"] for run in warm]).get("p50", float("nan")),
        "s",
    )
    warm_steps = step_breakdown(warm)
    cold_steps = step_breakdown(cold)
    for step in STEPS:
        if step in warm_steps:
            report.add(f"warm: step {step}, p50", warm_steps[step]["p50"], "s")
    for step in STEPS:
        if step in cold_steps:
            report.add(f"cold: step {step}, p50", cold_steps[step]["p50"], "s")
    report.notes.append("notebook: Flask, 3 cells (requirements: flask); resources: 1 CPU, 512Mi, 0-10 instances")
    report.notes.append("cold = build cache folder emptied before the run (pip downloads Flask from PyPI)")
    report.notes.append(f"cache hits: cold {[r['cache_hit'] for r in cold]}, warm {[r['cache_hit'] for r in warm]}")
    report.data = {
        "cold": cold,
        "warm": warm,
        "steps": {"cold": cold_steps, "warm": warm_steps},
        "leftovers": leftovers,
    }
    report.print()
    report.write()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
