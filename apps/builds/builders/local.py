"""The local builder: the app's Python environment, built for real by pip inside a sandbox.

pip runs as user code through the runtime: a ``build`` workload with internet egress, the cache
entry under construction mounted read-write at ``/opt/venv`` and the requirements in its
workspace. The result is a venv made by the sandbox's own Python at ``/opt/venv``, which a
deployment mounts read-only at the same path. Builds with the same cache key share one venv.
"""

import contextlib
import inspect
import logging
import shutil
import threading
import time
from pathlib import Path

from django.conf import settings

from apps.builds.builders import cache
from apps.builds.builders.base import Builder, BuildResult, ExternalCallback
from apps.builds.logs import BuildLog, build_dir
from apps.builds.models import Build
from apps.runtime import registry
from apps.runtime.base import RuntimeBackend
from apps.runtime.errors import RuntimeBackendError
from apps.runtime.spec import NetworkPolicy, WorkloadSpec

logger = logging.getLogger(__name__)

SANDBOX_VENV = "/opt/venv"
BUILD_IMAGE = "python:3.11-slim"
LOG_SOURCE = "build"
_POLL_SECONDS = 0.2
_MARKER = shutil.ignore_patterns(cache.COMPLETE_MARKER)
_ERROR_LINES = 6
_PIP = f"{SANDBOX_VENV}/bin/pip install --no-input --disable-pip-version-check -r requirements.txt"


def workload_id(build: Build) -> str:
    """The runtime workload that builds ``build`` (so the reaper can stop it too)."""
    return build.build_id


def install_command(requirements: str, *, fresh: bool) -> list[str]:
    """pip-install the requirements (if any), first creating the venv with the sandbox's python3
    when it is ``fresh`` (not copied from the base environment)."""
    steps = [f"python3 -m venv {SANDBOX_VENV}"] if fresh else []
    if requirements.strip():
        steps.append(_PIP)
    return ["/bin/sh", "-c", "set -e; " + "; ".join(steps)]


def error_summary(lines: list[str], exit_code: int | None) -> str:
    """The last meaningful lines of pip's output: its ``ERROR:`` lines, else the tail."""
    errors = [line.strip() for line in lines if line.strip().startswith("ERROR:")]
    tail = errors[-_ERROR_LINES:] or [line.strip() for line in lines if line.strip()][-_ERROR_LINES:]
    head = f"pip install failed (exit code {exit_code})" if exit_code is not None else "pip install failed"
    return (head + (":\n" + "\n".join(tail) if tail else ""))[:2000]


class LocalBuilder(Builder):
    """Builds (or reuses) the venv for a build's requirements on this host."""

    name = "local"

    def image_name(self, build: Build) -> str:
        """A local name: the venv is not an image, but deployments refer to builds by it."""
        return f"hangar.local/notebook-{build.notebook_id}:{build.build_id}"

    def build(self, build: Build, log: BuildLog, *, on_external: ExternalCallback | None = None) -> BuildResult:
        """Reuse the cache entry of the build's requirements, or build it in a sandbox.

        A new entry starts as a copy of the base environment (a bare venv with pip, itself a cache
        entry), so only pip's own work is repeated per requirement set.
        """
        deadline = time.monotonic() + settings.BUILD_TIMEOUT_SECONDS
        requirements_file = Path(build.source_path) / "requirements.txt"
        requirements = cache.normalise_requirements(
            requirements_file.read_text() if requirements_file.is_file() else ""
        )
        key = cache.cache_key(requirements)
        log.write(f"Python {cache.sandbox_python_version()}, cache key {key}")
        if cache.is_complete(key):
            return self._hit(key, log)
        base = None
        if requirements:
            prepared = self._ensure(build, log, cache.cache_key(""), "", deadline, base=None)
            if not prepared.ok:
                return BuildResult(ok=False, error_message=prepared.error_message, cache_key=key)
            base = Path(prepared.env_path)
        return self._ensure(build, log, key, requirements, deadline, base=base)

    def _ensure(
        self, build: Build, log: BuildLog, key: str, requirements: str, deadline: float, *, base: Path | None
    ) -> BuildResult:
        """The entry of ``key``: found, built by another build while we waited, or built now."""
        if cache.is_complete(key):
            return self._found(key)
        try:
            with cache.locked(key, timeout=max(deadline - time.monotonic(), 0)):
                if cache.is_complete(key):
                    # Another build finished it while we waited for the lock.
                    return self._hit(key, log) if requirements else self._found(key)
                return self._build_env(build, log, key, requirements, deadline, base=base)
        except cache.LockTimeout:
            limit = settings.BUILD_TIMEOUT_SECONDS
            message = f"Timed out after {limit} s waiting for another build of the same requirements"
            log.write(message)
            return BuildResult(ok=False, error_message=message, cache_key=key)

    @staticmethod
    def _found(key: str) -> BuildResult:
        return BuildResult(ok=True, cache_key=key, env_path=str(cache.entry(key)))

    def _hit(self, key: str, log: BuildLog) -> BuildResult:
        log.write(f"Cache hit: reusing the environment built for {key[:12]}")
        return BuildResult(ok=True, cache_key=key, cache_hit=True, env_path=str(cache.entry(key)))

    def _build_env(
        self, build: Build, log: BuildLog, key: str, requirements: str, deadline: float, *, base: Path | None
    ) -> BuildResult:
        work = build_dir(build.build_id) / "work"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        (work / "requirements.txt").write_text(requirements)
        staged = cache.staging(key, build.build_id)
        if base is not None:
            # The venv's paths are all /opt/venv inside sandboxes, so a copy of it is a valid venv.
            shutil.copytree(base, staged, symlinks=True, dirs_exist_ok=True, ignore=_MARKER)
        spec = WorkloadSpec(
            id=workload_id(build),
            owner_id=build.owner_id,
            kind="build",
            image=BUILD_IMAGE,
            workspace=str(work),
            env={"PYTHONUNBUFFERED": "1", "PIP_NO_CACHE_DIR": "1"},
            mounts={SANDBOX_VENV: str(staged)},
            memory_bytes=settings.BUILD_MEMORY_MB * 1024**2,
            pids=512,
            network=NetworkPolicy.EGRESS if requirements else NetworkPolicy.NONE,
        )
        command = install_command(requirements, fresh=base is None)
        log.write(("Building a new environment: " if requirements else "Preparing the base environment: ") + command[2])
        backend = registry.get_backend()
        try:
            backend.start(spec)
            exit_code, lines, failure = _run_streamed(backend, spec.id, command, log, deadline)
        except RuntimeBackendError as exc:
            logger.warning("Build %s could not run: %s", build.build_id, exc.detail)
            exit_code, lines, failure = None, [], f"The build sandbox failed: {exc.user_message}"
        finally:
            stop_workload(backend, spec.id)
            shutil.rmtree(work, ignore_errors=True)
        if exit_code == 0 and failure is None:
            final = cache.publish(key, staged)
            log.write("Environment ready" if requirements else "Base environment ready")
            return BuildResult(ok=True, cache_key=key, env_path=str(final))
        shutil.rmtree(staged, ignore_errors=True)
        message = failure or error_summary(lines, exit_code)
        log.write(message)
        return BuildResult(ok=False, error_message=message, cache_key=key)


def stop_workload(backend: RuntimeBackend, workload: str) -> None:
    """Stop the build workload; a failure to stop is logged, never raised over the build result."""
    try:
        backend.stop(workload)
    except RuntimeBackendError:
        logger.warning("Could not stop build workload %s", workload, exc_info=True)


def _run_streamed(
    backend: RuntimeBackend, workload: str, argv: list[str], log: BuildLog, deadline: float
) -> tuple[int | None, list[str], str | None]:
    """Run ``argv`` in the workload, copying its output into ``log`` line by line as it is written.

    Returns the exit code, the output lines and a failure reason (a timeout or a runtime error).
    """
    timeout = max(deadline - time.monotonic(), 1)
    streams = "log_source" in inspect.signature(backend.exec).parameters
    kwargs = {"log_source": LOG_SOURCE} if streams else {}
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["result"] = backend.exec(workload, argv, timeout=timeout, **kwargs)
        except RuntimeBackendError as exc:
            outcome["error"] = exc
        except Exception as exc:  # reported as the build's failure, never lost in a thread
            logger.exception("Build command in %s failed", workload)
            outcome["error"] = RuntimeBackendError("internal error", detail=str(exc))

    runner = threading.Thread(target=run, name=f"build-{workload}", daemon=True)
    runner.start()
    lines: list[str] = []
    while runner.is_alive() and time.monotonic() < deadline:
        runner.join(_POLL_SECONDS)
        if streams:
            _forward(backend, workload, log, lines)
    if runner.is_alive():
        if streams:
            _forward(backend, workload, log, lines)
        return None, lines, f"Build timed out after {settings.BUILD_TIMEOUT_SECONDS} s"
    if streams:
        _forward(backend, workload, log, lines)
    if "error" in outcome:
        return None, lines, f"The build sandbox failed: {outcome['error'].user_message}"
    exit_code, output = outcome["result"]
    if not streams:
        lines.extend(output.splitlines())
        if output:
            log.write(output)
    return exit_code, lines, None


def _forward(backend: RuntimeBackend, workload: str, log: BuildLog, lines: list[str]) -> None:
    """Copy the command's log entries that ``lines`` does not hold yet into the build log."""
    with contextlib.suppress(RuntimeBackendError):
        entries = [entry.message for entry in backend.logs(workload, tail=0) if entry.source == LOG_SOURCE]
        for message in entries[len(lines) :]:
            lines.append(message)
            log.write(message)
