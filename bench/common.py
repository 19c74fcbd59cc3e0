"""Shared helpers for Hangar's benchmarks: statistics, the printed table, JSON results, a short
runtime root, Django set-up for runtime-level runs, and a real served Hangar with an API client.

Every script in ``bench/`` runs standalone from the repository root
(``.venv/bin/python bench/<name>.py``); importing this module makes the repository importable.
"""

import contextlib
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# --- statistics ---------------------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile (0-100) with linear interpolation between closest ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(values: list[float]) -> dict[str, float]:
    """n, min, p50, p95, p99, max and mean of ``values``."""
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "min": min(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values),
        "mean": sum(values) / len(values),
    }


def ms_since(started: float) -> float:
    """Milliseconds elapsed since ``started`` (a ``time.perf_counter()`` value)."""
    return (time.perf_counter() - started) * 1000


# --- reporting ----------------------------------------------------------------------------------


@dataclass
class Figure:
    """One measured figure; with a ``target`` (an upper bound) it is judged PASS or FAIL."""

    name: str
    value: float
    unit: str
    target: float | None = None

    @property
    def verdict(self) -> str:
        if self.target is None:
            return "-"
        if math.isnan(self.value):
            return "FAIL"
        return "PASS" if self.value <= self.target else "FAIL"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "target": self.target,
            "verdict": self.verdict,
        }


@dataclass
class Report:
    """A benchmark's figures, notes and raw data; printed as a table and written as JSON."""

    name: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, value: float, unit: str, target: float | None = None) -> Figure:
        figure = Figure(name, value, unit, target)
        self.figures.append(figure)
        return figure

    def add_summary(self, prefix: str, values: list[float], unit: str, targets: dict[str, float]) -> None:
        """p50, p95 and max of ``values`` as figures, each with its target when one is given."""
        stats = summarize(values)
        for key in ("p50", "p95", "max"):
            self.add(f"{prefix} {key}", stats.get(key, math.nan), unit, targets.get(key))

    def print(self) -> None:
        width = max([len(f.name) for f in self.figures] + [20])
        print()
        print(f"== {self.title} ==")
        print(f"{'figure':<{width}}  {'value':>12}  {'target':>12}  result")
        print(f"{'-' * width}  {'-' * 12}  {'-' * 12}  ------")
        for f in self.figures:
            target = f"<= {_fmt(f.target)} {f.unit}" if f.target is not None else ""
            print(f"{f.name:<{width}}  {_fmt(f.value) + ' ' + f.unit:>12}  {target:>12}  {f.verdict}")
        for note in self.notes:
            print(f"  note: {note}")

    def write(self) -> Path:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        path = RESULTS_DIR / f"{self.name}.json"
        body = {
            "benchmark": self.name,
            "title": self.title,
            "when": datetime.now(UTC).isoformat(),
            "host": {"cpus": os.cpu_count(), "python": platform.python_version(), "kernel": platform.release()},
            "figures": [f.as_dict() for f in self.figures],
            "notes": self.notes,
            "data": self.data,
        }
        path.write_text(json.dumps(body, indent=2, default=str))
        print(f"  results: {path.relative_to(ROOT)}")
        return path


def _fmt(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.2f}"


# --- a short runtime root and Django ------------------------------------------------------------


def short_temp_dir(prefix: str) -> Path:
    """A folder directly under /tmp: unix socket paths inside it must stay under 108 bytes."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))


def django_setup(runtime_root: Path, database: Path | None = None, *, migrate: bool = False) -> None:
    """Configure Django in this process on ``runtime_root`` (and a SQLite ``database``)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["RUNTIME_ROOT"] = str(runtime_root)
    if database is not None:
        os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)


def stop_all_workloads(runtime_root: Path) -> list[str]:
    """Stop every live workload under ``runtime_root`` (the last-resort cleanup); returns their ids."""
    from apps.runtime.backends.local import LocalBackend

    backend = LocalBackend()
    alive = backend.list_workloads()
    for workload_id in alive:
        with contextlib.suppress(Exception):
            backend.stop(workload_id)
    return alive


def used_memory_bytes() -> int:
    """System-wide used memory: total minus available."""
    import psutil

    memory = psutil.virtual_memory()
    return memory.total - memory.available


def settle_memory(seconds: float = 2.0) -> int:
    """Used memory after letting the system settle (drop page cache so it does not skew the delta)."""
    os.sync()
    with contextlib.suppress(OSError):
        Path("/proc/sys/vm/drop_caches").write_text("1\n")
    time.sleep(seconds)
    return used_memory_bytes()


# --- a real served Hangar -----------------------------------------------------------------------

ADMIN_EMAIL = "bench-admin@example.com"
# A throwaway admin of a throwaway database.
ADMIN_PASSWORD = "bench-admin-Pass-1"


def _manage(args: list[str], env: dict[str, str], log: Path) -> None:
    command = [sys.executable, "manage.py", *args]  # our own interpreter and manage.py, fixed arguments
    with log.open("a") as out:
        code = subprocess.call(command, cwd=ROOT, env=env, stdout=out, stderr=out)  # noqa: S603
    if code != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def hangar(workdir: Path, runtime_root: Path, **extra_env: str) -> Iterator["Api"]:
    """Migrate and seed (templates plus an admin) a fresh SQLite database, serve it for real with
    ``tests.served.served_hangar``, and yield an API client signed in as an enterprise-tier user.
    The server's output is copied to ``bench/results/<script>.serve.log``."""
    from tests.served import clean_env, served_hangar

    database = workdir / "hangar.sqlite3"
    server_env = {"RUNTIME_ROOT": str(runtime_root), "ACCESS_TOKEN_MINUTES": "240", **extra_env}
    env = clean_env(
        DATABASE_URL=f"sqlite:///{database}",
        HANGAR_ADMIN_EMAIL=ADMIN_EMAIL,
        HANGAR_ADMIN_PASSWORD=ADMIN_PASSWORD,
        **server_env,
    )
    _manage(["migrate", "--noinput"], env, workdir / "setup.log")
    _manage(["seed"], env, workdir / "setup.log")
    try:
        with served_hangar(workdir, database=database, **server_env) as served:
            yield Api.enterprise_user(served.url)
    finally:
        # Keep the server's output (with any traceback) next to the results, for diagnosis.
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            shutil.copyfile(workdir / "serve.log", RESULTS_DIR / f"{Path(sys.argv[0]).stem}.serve.log")


class Api:
    """A small JSON client for one signed-in user of a served Hangar."""

    def __init__(self, base_url: str, token: str = "") -> None:
        import requests

        self.base_url = base_url
        self.token = token
        self.session = requests.Session()
        self.user: dict[str, Any] = {}

    def request(self, method: str, path: str, *, expect: tuple[int, ...] = (200,), **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = self.session.request(method, self.base_url + path, headers=headers, timeout=60, **kwargs)
        if response.status_code not in expect:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json() if response.content else None

    def login(self, email: str, password: str) -> None:
        answer = self.request("POST", "/api/v1/auth/login", json={"email": email, "password": password})
        self.token = answer["access_token"]
        self.user = answer["user"]

    @classmethod
    def enterprise_user(cls, base_url: str) -> "Api":
        """Register a user through the API and have the seeded admin raise it to enterprise (50
        environments, rate limits x10)."""
        name = f"bench{uuid.uuid4().hex[:8]}"
        password = f"Pw-{uuid.uuid4().hex}"
        api = cls(base_url)
        email = f"{name}@example.com"
        user = api.request(
            "POST",
            "/api/v1/auth/register",
            expect=(201,),
            json={"username": name, "email": email, "password": password},
        )
        admin = cls(base_url)
        admin.login(ADMIN_EMAIL, ADMIN_PASSWORD)
        admin.request("PUT", f"/api/v1/admin/users/{user['id']}", json={"tier": "enterprise"})
        api.login(email, password)
        return api

    def ws_url(self, path: str) -> str:
        return self.base_url.replace("http://", "ws://", 1) + path + f"?token={self.token}"

    def template_id(self, name: str = "python-3.11") -> str:
        templates = self.request("GET", "/api/v1/templates")
        items = templates.get("templates", templates.get("results", [])) if isinstance(templates, dict) else templates
        for template in items:
            if template["name"] == name:
                return str(template["id"])
        raise RuntimeError(f"no template {name!r} in {templates!r:.500}")

    def create_environment(self, name: str, template_id: str) -> dict[str, Any]:
        return self.request(
            "POST", "/api/v1/environments", expect=(201,), json={"name": name, "template_id": template_id}
        )

    def delete_environment(self, environment_id: str) -> None:
        self.request("DELETE", f"/api/v1/environments/{environment_id}", expect=(204, 404))

    def environments(self) -> list[dict[str, Any]]:
        return self.request("GET", "/api/v1/environments")

    def delete_all_environments(self) -> None:
        with contextlib.suppress(Exception):
            for environment in self.environments():
                with contextlib.suppress(Exception):
                    self.delete_environment(environment["id"])


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.01) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
