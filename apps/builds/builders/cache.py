"""The local builder's environment cache: one finished venv per cache key, shared by every build
whose requirements, sandbox Python and builder version are the same.

An entry is built in a temporary folder and renamed into place only when it is complete (with a
marker file inside), so a reader never sees half an environment. A file lock per key makes a
second build of the same key wait for the first and then reuse its result.
"""

import contextlib
import fcntl
import functools
import hashlib
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

# Bump when the way environments are built changes: old cache entries then stop matching.
BUILDER_VERSION = "hangar-venv-1"
COMPLETE_MARKER = ".hangar-complete"
SANDBOX_PYTHON = "/usr/bin/python3"
_INLINE_COMMENT = re.compile(r"\s+#.*$")


class LockTimeout(Exception):
    """Another build held the key's lock for longer than we may wait."""


def normalise_requirements(text: str) -> str:
    """Requirements without comments, blank lines or repeated spaces, deduplicated and sorted, so
    cosmetic differences do not defeat the cache."""
    lines = set()
    for raw in text.splitlines():
        line = _INLINE_COMMENT.sub("", raw).strip()
        if line and not line.startswith("#"):
            lines.add(" ".join(line.split()))
    return "".join(f"{line}\n" for line in sorted(lines, key=lambda line: (line.lower(), line)))


@functools.cache
def sandbox_python_version() -> str:
    """The version of the Python that sandboxes run (the host's /usr/bin/python3, not Hangar's)."""
    try:
        result = subprocess.run(  # noqa: S603 - a fixed argv, no user input
            [SANDBOX_PYTHON, "-c", "import sys; print(sys.version.split()[0])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return result.stdout.strip()


def cache_key(requirements: str) -> str:
    """sha256 of the normalised requirements, the sandbox Python version and the builder version."""
    material = f"{normalise_requirements(requirements)}\0{sandbox_python_version()}\0{BUILDER_VERSION}"
    return hashlib.sha256(material.encode()).hexdigest()


def root() -> Path:
    """The cache folder (created on first use)."""
    path = Path(settings.BUILD_CACHE_ROOT)
    path.mkdir(parents=True, exist_ok=True)
    return path


def entry(key: str) -> Path:
    """Where the finished environment of ``key`` lives."""
    return root() / key


def is_complete(key: str) -> bool:
    """True when the environment of ``key`` has been built completely."""
    return (entry(key) / COMPLETE_MARKER).is_file()


def staging(key: str, build_id: str) -> Path:
    """A fresh, empty folder to build ``key`` in (mounted read-write at /opt/venv)."""
    path = root() / f".tmp-{key}-{build_id}"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir()
    return path


def publish(key: str, staged: Path) -> Path:
    """Mark ``staged`` complete and rename it into place atomically; returns the entry."""
    (staged / COMPLETE_MARKER).write_text(f"{BUILDER_VERSION}\n")
    final = entry(key)
    if is_complete(key):
        # Only possible if the lock was bypassed; keep the entry that readers may already use.
        shutil.rmtree(staged, ignore_errors=True)
    else:
        shutil.rmtree(final, ignore_errors=True)  # a leftover without its marker is not an entry
        staged.rename(final)
    return final


@contextlib.contextmanager
def locked(key: str, *, timeout: float) -> Iterator[None]:
    """Hold the key's file lock; raise :class:`LockTimeout` after ``timeout`` seconds of waiting."""
    with (root() / f".lock-{key}").open("a") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockTimeout(key) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def discard_staging(build_id: str) -> None:
    """Remove what an interrupted build of ``build_id`` left half-built."""
    for path in root().glob(f".tmp-*-{build_id}"):
        shutil.rmtree(path, ignore_errors=True)
