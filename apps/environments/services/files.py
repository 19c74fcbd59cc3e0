"""Writes to the user's files folder (001's /user-files): upload and delete, within the tier caps."""

import contextlib
import os
import tempfile
from datetime import UTC, datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest

from apps.activity.services import activity_record
from apps.core.errors import ErrorCode, HangarError
from apps.environments.files import clean_filename, sandbox_path, user_files_dir
from apps.runtime.workspaces import confined_path, storage_bytes


def too_large(detail: str) -> HangarError:
    """The 413 every cap answers."""
    return HangarError(detail, error_code=ErrorCode.PAYLOAD_TOO_LARGE, status_code=413)


def _mib(size: int) -> str:
    return f"{size / 1024**2:.0f} MB"


def user_file_upload(*, user: Any, upload: UploadedFile, request: HttpRequest | None = None) -> dict[str, Any]:
    """Store ``upload`` in the user's folder under its sanitised name, replacing a file of that name.

    413 past the tier's per-file cap or storage quota. The file is written to a temporary name and
    renamed into place, so a failed upload never leaves half a file, and a symlink with the same
    name is replaced rather than written through.
    """
    limits = user.tier_limits
    name = clean_filename(upload.name, strip_directories=True)
    if upload.size > limits["max_upload_bytes"]:
        raise too_large(f"File exceeds the {_mib(limits['max_upload_bytes'])} per-file limit")
    folder = user_files_dir(user)
    confined_path(folder, name)
    target = folder.resolve() / name
    replaced = target.stat().st_size if target.is_file() and not target.is_symlink() else 0
    if storage_bytes(folder) - replaced + upload.size > limits["storage_quota_bytes"]:
        raise too_large(f"Upload would exceed your {_mib(limits['storage_quota_bytes'])} storage quota")

    descriptor, temporary = tempfile.mkstemp(prefix=".upload-", dir=folder)
    written = 0
    try:
        with os.fdopen(descriptor, "wb") as handle:
            for chunk in upload.chunks():
                written += len(chunk)
                # The declared size can lie; the bytes actually received are what count.
                if written > limits["max_upload_bytes"]:
                    raise too_large(f"File exceeds the {_mib(limits['max_upload_bytes'])} per-file limit")
                handle.write(chunk)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    uploaded_at = datetime.now(UTC)
    activity_record(user=user, action="file_uploaded", details=f"Uploaded {name}", request=request)
    return {"filename": name, "size_bytes": written, "path": sandbox_path(name), "uploaded_at": uploaded_at.isoformat()}


def user_file_delete(*, user: Any, filename: str, request: HttpRequest | None = None) -> None:
    """Delete one file (404 when missing). A symlink is removed itself; its target is never touched."""
    name = clean_filename(filename, strip_directories=False)
    target = user_files_dir(user).resolve() / name
    if not (target.is_symlink() or target.is_file()):
        raise HangarError("File not found", error_code=ErrorCode.NOT_FOUND, status_code=404)
    target.unlink()
    activity_record(user=user, action="file_deleted", details=f"Deleted {name}", request=request)
