"""50 idle environments at once: extra memory per environment, and the list API meanwhile.

What is measured, in two parts:

1. API level, through a real served Hangar (``tests.served.served_hangar``), as an enterprise-tier
   user (tier limit: 50 environments): create 50 python-3.11 environments with
   ``POST /api/v1/environments`` and wait until all are ``running`` (no terminal open: idle).
   - System-wide used memory (``psutil.virtual_memory()``: total - available) before and after,
     each after a sync, a page-cache drop and a short settle; the delta divided by 50. This
     includes what the server itself grows by, and any other activity on the host.
   - The sum of PSS (``Process.memory_full_info().pss``) of every process in the workloads'
     cgroups (bwrap, the agent, slirp4netns), divided by 50: the sandboxes' own share.
   - ``GET /api/v1/environments`` latency over 200 sequential requests while the 50 run.
2. Runtime level: 50 workloads started with ``LocalBackend.start`` directly (the same spec an
   environment gets: network ``egress`` and port 8080 published), with the same two memory figures.

Targets (issue 3): extra resident memory per environment <= 15 MB; list p95 <= 100 ms.

Usage: ``.venv/bin/python bench/idle_environments.py [--count 50] [--requests 200]``.
"""

import argparse
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import common  # also makes the repository importable
import psutil
from common import Api, Report

NAME = "idle_environments"
MB = 1024**2
TARGET_MB = 15.0
TARGET_LIST_P95_MS = 100.0


def pss_of_workloads(workload_ids: list[str]) -> tuple[int, dict[str, int], int]:
    """Total PSS of every process in the workloads' cgroups, PSS per process name, process count."""
    from apps.runtime.backends import cgroups

    total, by_name, count = 0, defaultdict(int), 0
    for workload_id in workload_ids:
        for pid in cgroups.pids(workload_id):
            try:
                process = psutil.Process(pid)
                pss = process.memory_full_info().pss
                by_name[process.name()] += pss
            except psutil.Error:
                continue
            total += pss
            count += 1
    return total, dict(by_name), count


def memory_figures(report: Report, label: str, before: int, after: int, workload_ids: list[str]) -> dict:
    """Add the two per-environment memory figures of one part; returns the raw numbers."""
    count = max(len(workload_ids), 1)
    pss, by_name, processes = pss_of_workloads(workload_ids)
    report.add(f"{label}: used-memory delta / env", (after - before) / count / MB, "MB", TARGET_MB)
    report.add(f"{label}: cgroup PSS / env", pss / count / MB, "MB", TARGET_MB)
    return {
        "used_before_bytes": before,
        "used_after_bytes": after,
        "pss_total_bytes": pss,
        "pss_by_process_name_bytes": by_name,
        "processes": processes,
        "workloads": len(workload_ids),
    }


def server_process() -> psutil.Process | None:
    """The ``manage.py serve`` child that ``served_hangar`` started."""
    for child in psutil.Process().children(recursive=True):
        if "serve" in child.cmdline():
            return child
    return None


def wait_all_running(api: Api, count: int, stall: float = 30, timeout: float = 600) -> dict[str, str]:
    """Status per environment id once ``count`` are running, or once nothing has changed for
    ``stall`` seconds (an environment stuck in ``creating``/``installing`` must not hang the run)."""
    deadline = time.monotonic() + timeout
    last: dict[str, str] = {}
    changed = time.monotonic()
    while time.monotonic() < deadline:
        statuses = {e["id"]: e["status"] for e in api.environments()}
        if sum(status == "running" for status in statuses.values()) >= count:
            return statuses
        if statuses != last:
            last, changed = statuses, time.monotonic()
        elif time.monotonic() - changed > stall:
            return statuses
        time.sleep(0.5)
    return last


def create_with_retry(api: Api, name: str, template_id: str, errors: list[str], tries: int = 10) -> None:
    """Create one environment; a 500 (SQLite "database is locked" under the worker's writes) is
    recorded in ``errors`` and retried after a short pause, so the memory figures still come out."""
    for attempt in range(tries):
        try:
            api.create_environment(name, template_id)
            return
        except RuntimeError as exc:
            if ": 500 " not in str(exc) or attempt == tries - 1:
                raise
            errors.append(str(exc)[:200])
            time.sleep(0.1)


def list_latencies(api: Api, requests: int) -> list[float]:
    timings = []
    for _ in range(requests):
        began = time.perf_counter()
        api.request("GET", "/api/v1/environments")
        timings.append(common.ms_since(began))
    return timings


def api_part(report: Report, workdir: Path, runtime_root: Path, count: int, requests: int) -> dict[str, Any]:
    with common.hangar(workdir, runtime_root) as api:
        server = server_process()
        template_id = api.template_id("python-3.11")
        server_rss_before = server.memory_info().rss if server else 0
        before = common.settle_memory()
        try:
            began = time.perf_counter()
            errors: list[str] = []
            for n in range(count):
                create_with_retry(api, f"idle-{n}", template_id, errors)
            statuses = wait_all_running(api, count)
            settled_s = common.ms_since(began) / 1000
            ids = list(statuses)  # every created environment: a stuck one's sandbox runs too
            after = common.settle_memory(5)
            memory = memory_figures(report, "API", before, after, ids)
            server_rss_after = server.memory_info().rss if server else 0
            timings = list_latencies(api, requests)
            report.add_summary(
                f"GET /api/v1/environments ({count} running)", timings, "ms", {"p95": TARGET_LIST_P95_MS}
            )
        finally:
            api.delete_all_environments()
    not_running = {i: status for i, status in statuses.items() if status != "running"}
    report.add("API: creates answered 500 (retried)", len(errors), "", 0)
    report.add("API: environments not running", len(not_running), "", 0)
    report.notes.append(f"API: {count} environments created; settled after {settled_s:.1f} s")
    if not_running:
        report.notes.append(f"API: not running: {sorted(not_running.values())}")
    report.notes.append(
        f"API: server RSS grew {(server_rss_after - server_rss_before) / MB:.1f} MB "
        f"({(server_rss_after - server_rss_before) / count / MB:.2f} MB/env), included in the used-memory delta"
    )
    return {
        **memory,
        "create_errors": errors,
        "list_ms": timings,
        "server_rss_before": server_rss_before,
        "server_rss_after": server_rss_after,
    }


def runtime_part(report: Report, runtime_root: Path, count: int) -> dict[str, Any]:
    from apps.runtime.backends.local import LocalBackend
    from apps.runtime.spec import NetworkPolicy, WorkloadSpec

    backend = LocalBackend()
    ids: list[str] = []
    before = common.settle_memory()
    try:
        for _ in range(count):
            workload_id = f"bidle-{uuid.uuid4().hex[:10]}"
            workspace = runtime_root / "ws" / workload_id
            workspace.mkdir(parents=True)
            spec = WorkloadSpec(
                id=workload_id,
                owner_id=1,
                kind="bench",
                image="python:3.11-slim",
                workspace=str(workspace),
                network=NetworkPolicy.EGRESS,
                port=8080,
            )
            ids.append(workload_id)
            backend.start(spec)
        after = common.settle_memory(5)
        return memory_figures(report, "runtime", before, after, ids)
    finally:
        for workload_id in ids:
            backend.stop(workload_id)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    workdir = common.short_temp_dir("hb-idle-")
    runtime_root = workdir / "rt"
    report = Report(NAME, f"{args.count} idle environments at once")
    data: dict[str, Any] = {}
    try:
        common.django_setup(runtime_root, workdir / "bench.sqlite3", migrate=True)
        data["api"] = api_part(report, workdir, runtime_root, args.count, args.requests)
        data["runtime"] = runtime_part(report, runtime_root, args.count)
    finally:
        data["leftover_workloads"] = common.stop_all_workloads(runtime_root)
        common.remove_tree(workdir)
    report.notes.append("used-memory delta is system-wide: other activity on the host adds noise; PSS does not")
    for part in ("api", "runtime"):
        if part in data:
            names = ", ".join(
                f"{name} {size / data[part]['workloads'] / MB:.2f}"
                for name, size in sorted(data[part]["pss_by_process_name_bytes"].items())
            )
            report.notes.append(f"{part}: PSS per env by process (MB): {names}")
    report.data = data
    report.print()
    report.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
