"""Per-workload resource limits through cgroups, v1 (this host) or v2 (most current hosts).

Every process of a workload, the sandbox and its slirp4netns alike, joins the workload's cgroups
before it runs, so the limits cover all of them and ``kill_all`` can find every one.
"""

import contextlib
import os
import signal
import time
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
PARENT = "hangar"
_V1_CONTROLLERS = ("memory", "pids", "cpu", "cpuacct")


def mode() -> str:
    """``v2`` (unified), ``v1`` (per-controller hierarchies), or ``none`` (no writable cgroups)."""
    if (ROOT / "cgroup.controllers").exists():
        return "v2" if os.access(ROOT, os.W_OK) else "none"
    if all((ROOT / c).is_dir() for c in ("memory", "pids", "cpu")) and os.access(ROOT / "memory", os.W_OK):
        return "v1"
    return "none"


def _dirs(workload_id: str) -> dict[str, Path]:
    """The workload's cgroup folder per controller (one folder for v2)."""
    if mode() == "v2":
        return {"unified": ROOT / PARENT / workload_id}
    return {c: ROOT / c / PARENT / workload_id for c in _V1_CONTROLLERS if (ROOT / c).is_dir()}


def _write(path: Path, value: str) -> None:
    path.write_text(value)


def create(workload_id: str, *, memory_bytes: int, pids: int, cpu: float) -> list[str]:
    """Create the cgroups with their limits; returns the ``cgroup.procs`` files a process joins."""
    current = mode()
    if current == "none":
        return []
    if current == "v2":
        parent = ROOT / PARENT
        parent.mkdir(exist_ok=True)
        # Controllers must be delegated to the parent before its children can use them.
        with contextlib.suppress(OSError):
            _write(ROOT / "cgroup.subtree_control", "+memory +pids +cpu")
            _write(parent / "cgroup.subtree_control", "+memory +pids +cpu")
    dirs = _dirs(workload_id)
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    period = 100_000
    quota = max(int(cpu * period), 1000)
    if current == "v2":
        unified = dirs["unified"]
        _write(unified / "memory.max", str(memory_bytes))
        with contextlib.suppress(OSError):
            _write(unified / "memory.swap.max", "0")
        _write(unified / "pids.max", str(pids))
        _write(unified / "cpu.max", f"{quota} {period}")
    else:
        _write(dirs["memory"] / "memory.limit_in_bytes", str(memory_bytes))
        with contextlib.suppress(OSError):
            _write(dirs["memory"] / "memory.memsw.limit_in_bytes", str(memory_bytes))
        _write(dirs["pids"] / "pids.max", str(pids))
        _write(dirs["cpu"] / "cpu.cfs_period_us", str(period))
        _write(dirs["cpu"] / "cpu.cfs_quota_us", str(quota))
    return [str(path / "cgroup.procs") for path in dirs.values()]


def pids(workload_id: str) -> list[int]:
    """Every process in the workload's cgroups."""
    found: set[int] = set()
    for path in _dirs(workload_id).values():
        with contextlib.suppress(OSError):
            found.update(int(line) for line in (path / "cgroup.procs").read_text().split())
    return sorted(found)


def kill_all(workload_id: str, *, timeout: float = 2.0) -> bool:
    """SIGKILL every process in the workload's cgroups until none is left; True when empty."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = pids(workload_id)
        if not remaining:
            return True
        if time.monotonic() > deadline:
            return False
        for pid in remaining:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.01)


def remove(workload_id: str) -> None:
    """Delete the (empty) cgroups."""
    for path in _dirs(workload_id).values():
        with contextlib.suppress(OSError):
            path.rmdir()


def oom_kills(workload_id: str) -> int:
    """How many processes the kernel killed for exceeding the memory limit."""
    dirs = _dirs(workload_id)
    if "unified" in dirs:
        path = dirs["unified"] / "memory.events"
    elif "memory" in dirs:
        path = dirs["memory"] / "memory.oom_control"
    else:
        return 0
    with contextlib.suppress(OSError):
        for line in path.read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
    return 0


def usage(workload_id: str) -> dict[str, int]:
    """Memory in bytes, CPU time in nanoseconds and process count, as the kernel accounts them."""
    dirs = _dirs(workload_id)
    result = {"memory_bytes": 0, "cpu_ns": 0, "pids": 0}
    with contextlib.suppress(OSError, ValueError):
        if "unified" in dirs:
            unified = dirs["unified"]
            result["memory_bytes"] = int((unified / "memory.current").read_text())
            stat = dict(line.split() for line in (unified / "cpu.stat").read_text().splitlines())
            result["cpu_ns"] = int(stat.get("usage_usec", 0)) * 1000
            result["pids"] = int((unified / "pids.current").read_text())
        else:
            result["memory_bytes"] = int((dirs["memory"] / "memory.usage_in_bytes").read_text())
            if "cpuacct" in dirs:
                result["cpu_ns"] = int((dirs["cpuacct"] / "cpuacct.usage").read_text())
            result["pids"] = int((dirs["pids"] / "pids.current").read_text())
    return result
