"""Host folders that become a workload's ``/workspace``, and confinement of paths inside them."""

import shutil
from pathlib import Path, PurePosixPath

from django.conf import settings

from apps.core.errors import ErrorCode, HangarError


def workspace_dir(kind: str, key: str) -> Path:
    """The host folder for one workspace (``kind`` is e.g. ``environment``, ``session``, ``user``)."""
    path = Path(settings.RUNTIME_ROOT) / "workspaces" / kind / str(key)
    path.mkdir(parents=True, exist_ok=True)
    return path


def remove_workspace(kind: str, key: str) -> None:
    """Delete a workspace folder and everything in it."""
    shutil.rmtree(Path(settings.RUNTIME_ROOT) / "workspaces" / kind / str(key), ignore_errors=True)


def _bad_path(detail: str) -> HangarError:
    return HangarError(detail, error_code=ErrorCode.BAD_REQUEST, status_code=400)


def confined_path(root: Path, relative: str) -> Path:
    """``relative`` resolved inside ``root``; 400 for absolute paths, ``..`` or a symlink escape."""
    if not relative or "\x00" in relative:
        raise _bad_path("A file path is required")
    pure = PurePosixPath(relative)
    if pure.is_absolute() or ".." in pure.parts:
        raise _bad_path("Paths must be relative to the workspace and may not contain '..'")
    root = root.resolve()
    candidate = (root / pure).resolve()
    if candidate != root and root not in candidate.parents:
        raise _bad_path("Path escapes the workspace")
    return candidate


def storage_bytes(root: Path) -> int:
    """Bytes used by the files under ``root`` (symlinks are not followed)."""
    total = 0
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            total += path.stat().st_size
    return total
