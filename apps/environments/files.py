"""The user's files folder (001's /user-files), mounted at /workspace/files in every environment."""

import re
from pathlib import Path
from typing import Any

from apps.core.errors import ErrorCode, HangarError
from apps.runtime.workspaces import workspace_dir

SANDBOX_FILES_PATH = "/workspace/files"
MAX_FILENAME_BYTES = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def user_files_dir(user: Any) -> Path:
    """The host folder of the user's files (created on demand)."""
    return workspace_dir("user", user.pk)


def _bad_name(detail: str) -> HangarError:
    return HangarError(detail, error_code=ErrorCode.BAD_REQUEST, status_code=400)


def clean_filename(raw: str | None, *, strip_directories: bool) -> str:
    """A safe bare file name, or 400.

    Uploads keep only the last path component of the name the client sent (``strip_directories``);
    names in URLs must already be bare. Names starting with a dot are refused: they are hidden in
    the sandbox and reserved for the upload's temporary files.
    """
    name = (raw or "").strip()
    if strip_directories:
        name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    elif "/" in name or "\\" in name:
        raise _bad_name("File names may not contain path separators")
    if not name or _CONTROL.search(name):
        raise _bad_name("A valid file name is required")
    if set(name) == {"."}:
        raise _bad_name("File names may not be '.' or '..'")
    if name.startswith("."):
        raise _bad_name("File names may not start with a dot")
    if len(name.encode("utf-8")) > MAX_FILENAME_BYTES:
        raise _bad_name(f"File names are limited to {MAX_FILENAME_BYTES} bytes")
    return name


def sandbox_path(name: str) -> str:
    """Where the file appears inside the user's environments."""
    return f"{SANDBOX_FILES_PATH}/{name}"
