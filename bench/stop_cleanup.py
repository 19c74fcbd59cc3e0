"""Stop to no process left, on the local backend (real bubblewrap sandboxes, real cgroups).

What is measured: 20 runs. Each starts a workload with ``LocalBackend.start`` and calls
``LocalBackend.stop``; the time runs from calling ``stop`` until the workload's cgroups hold no
process (``apps.runtime.backends.cgroups.pids(id) == []``, polled every millisecond after ``stop``
returns). As a cross-check, every PID that was in the cgroups before ``stop`` must be gone
afterwards (zombies awaiting their reaper excepted). Runs alternate between two kinds of workload:

- ``plain``: network ``none``, only the agent;
- ``busy``: network ``egress`` (so a slirp4netns runs too) and a published port, three background
  processes started with ``exec`` (``sleep``, a shell loop, a ``python3`` child) and an open
  terminal running ``sleep`` in the foreground.

Target (issue 3): <= 1 s (judged on the maximum; p50 printed too).

Usage: ``.venv/bin/python bench/stop_cleanup.py [--runs 20]``.
"""

import argparse
import asyncio
import sys
import time
import uuid
from pathlib import Path

import common  # also makes the repository importable
from common import Report

NAME = "stop_cleanup"
TARGET_MS = 1000.0
BACKGROUND = "sleep 1000 & (while :; do sleep 1; done) & python3 -c 'import time; time.sleep(1000)' & echo started"


def make_spec(runtime_root: Path, kind: str):
    from apps.runtime.spec import NetworkPolicy, WorkloadSpec

    workload_id = f"bstop-{uuid.uuid4().hex[:10]}"
    workspace = runtime_root / "ws" / workload_id
    workspace.mkdir(parents=True)
    busy = kind == "busy"
    return WorkloadSpec(
        id=workload_id,
        owner_id=1,
        kind="bench",
        image="python:3.11-slim",
        workspace=str(workspace),
        network=NetworkPolicy.EGRESS if busy else NetworkPolicy.NONE,
        port=8080 if busy else None,
    )


async def _open_busy_terminal(backend, workload_id: str):
    pty = await backend.open_pty(workload_id, session="main")
    await pty.write(b"sleep 1000\n")
    await asyncio.sleep(0.1)
    await pty.close()  # detached: the agent keeps the shell (and its sleep) for the grace period


def make_busy(backend, workload_id: str) -> None:
    code, output = backend.exec(workload_id, ["sh", "-c", BACKGROUND], timeout=10)
    if code != 0:
        raise RuntimeError(f"background processes did not start: {output}")
    asyncio.run(_open_busy_terminal(backend, workload_id))


def _alive(pid: int) -> bool:
    """True if ``pid`` still runs (a zombie waiting for its reaper does not count)."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def one_run(backend, runtime_root: Path, kind: str) -> dict:
    """Start, (make busy), stop; ms until stop returned and until the cgroups were empty."""
    from apps.runtime.backends import cgroups

    spec = make_spec(runtime_root, kind)
    backend.start(spec)
    try:
        if kind == "busy":
            make_busy(backend, spec.id)
        before = cgroups.pids(spec.id)
        began = time.perf_counter()
        backend.stop(spec.id)
        stop_returned = common.ms_since(began)
        emptied = common.wait_until(lambda: cgroups.pids(spec.id) == [], timeout=10, interval=0.001)
        empty_ms = common.ms_since(began)
        survivors = [pid for pid in before if _alive(pid)]
    finally:
        backend.stop(spec.id)
    return {
        "kind": kind,
        "processes_before": len(before),
        "survivors": survivors,
        "stop_returned_ms": stop_returned,
        "no_process_ms": empty_ms if emptied else float("nan"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    workdir = common.short_temp_dir("hb-stop-")
    runtime_root = workdir / "rt"
    report = Report(NAME, f"Stop -> no process left ({args.runs} runs, local backend)")
    runs: list[dict] = []
    try:
        common.django_setup(runtime_root, workdir / "bench.sqlite3", migrate=True)
        from apps.runtime.backends import cgroups
        from apps.runtime.backends.local import LocalBackend

        backend = LocalBackend()
        for n in range(args.runs):
            kind = "plain" if n % 2 == 0 else "busy"
            runs.append(one_run(backend, runtime_root, kind))
            run = runs[-1]
            print(
                f"  run {n + 1:>3} ({kind:<5}, {run['processes_before']:>2} processes): "
                f"stop returned {run['stop_returned_ms']:6.1f} ms, no process at {run['no_process_ms']:6.1f} ms",
                flush=True,
            )
        report.notes.append(f"cgroups mode: {cgroups.mode()}")
    finally:
        leftovers = common.stop_all_workloads(runtime_root) if "django" in sys.modules else []
        common.remove_tree(workdir)
    totals = [run["no_process_ms"] for run in runs]
    survivors = sum(len(run["survivors"]) for run in runs)
    report.add("processes surviving stop", survivors, "", 0)
    report.add("stop -> no process p50", common.percentile(totals, 50), "ms")
    report.add("stop -> no process max", max(totals, default=float("nan")), "ms", TARGET_MS)
    for kind in ("plain", "busy"):
        values = [run["no_process_ms"] for run in runs if run["kind"] == kind]
        report.add(f"  {kind} p50", common.percentile(values, 50), "ms")
        report.add(f"  {kind} max", max(values, default=float("nan")), "ms")
    report.data = {"runs": runs, "summary": common.summarize(totals), "leftover_workloads": leftovers}
    report.print()
    report.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
