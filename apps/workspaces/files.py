"""File operations inside one workspace folder, confined to it.

The sandbox's own code can create symlinks in its workspace at any moment, so a path checked with
``confined_path`` could be swapped for a symlink before we open it. Every operation therefore
walks the checked path one component at a time with ``O_NOFOLLOW`` relative to an open directory:
a component that turned into a symlink fails instead of being followed out of the workspace.
"""

import contextlib
import errno
import os
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from apps.core.errors import ErrorCode, HangarError, NotFound
from apps.runtime.workspaces import confined_path

# A workspace listing stops here, so a sandbox that creates a million files cannot stall the API.
MAX_LISTED_ITEMS = 10_000
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True)
class WorkspaceItem:
    """A file or folder, with its path relative to the workspace root (002's WorkspaceItem)."""

    name: str
    type: str
    path: str

    def as_dict(self) -> dict:
        """The documented ``{"name", "type", "path"}``."""
        return {"name": self.name, "type": self.type, "path": self.path}


def bad_request(detail: str) -> HangarError:
    """A 400 with Hangar's error shape."""
    return HangarError(detail, error_code=ErrorCode.BAD_REQUEST, status_code=400)


def _relative_parts(root: Path, relative: str) -> tuple[str, ...]:
    """The components of ``relative`` once confined and resolved inside ``root``."""
    resolved = confined_path(root, relative)
    parts = resolved.relative_to(root.resolve()).parts
    if not parts:
        raise bad_request("The path names the workspace itself, not a file")
    return parts


def _symlink_error(relative: str) -> HangarError:
    return bad_request(f"Path '{relative}' changed to a symlink and was not followed")


@contextlib.contextmanager
def _open_parent(root: Path, parts: tuple[str, ...], relative: str, *, create: bool) -> Iterator[int]:
    """An fd of the folder holding ``parts[-1]``, creating missing folders when ``create``."""
    fd = os.open(root.resolve(), _DIR_FLAGS)
    try:
        for part in parts[:-1]:
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o755, dir_fd=fd)
            try:
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                raise NotFound(f"File '{relative}' not found") from None
            except NotADirectoryError:
                raise bad_request(f"'{part}' in '{relative}' is a file, not a folder") from None
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise _symlink_error(relative) from None
                raise
            os.close(fd)
            fd = child
        yield fd
    finally:
        os.close(fd)


def normalized(relative: str) -> str:
    """The path as 002 reports it: POSIX, without ``./`` or trailing slashes."""
    return str(PurePosixPath(relative))


def file_object(relative: str, content: str) -> dict:
    """002's file object ``{"name", "path", "content"}``."""
    clean = normalized(relative)
    return {"name": PurePosixPath(clean).name, "path": clean, "content": content}


def read_text(root: Path, relative: str, *, max_bytes: int) -> str:
    """The content of a text file; 404 if missing, 400 for folders, binary files or oversize."""
    parts = _relative_parts(root, relative)
    with _open_parent(root, parts, relative, create=False) as parent:
        try:
            fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=parent)
        except FileNotFoundError:
            raise NotFound(f"File '{relative}' not found") from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _symlink_error(relative) from None
            raise
        try:
            info = os.fstat(fd)
            if stat.S_ISDIR(info.st_mode):
                raise bad_request(f"'{relative}' is a folder, not a file")
            if not stat.S_ISREG(info.st_mode):
                raise bad_request(f"'{relative}' is not a regular file")
            if info.st_size > max_bytes:
                raise bad_request(f"File '{relative}' is larger than {max_bytes} bytes and cannot be opened here")
        except BaseException:
            os.close(fd)
            raise
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(max_bytes + 1)
    if b"\x00" in data:
        raise bad_request(f"File '{relative}' is binary and cannot be shown as text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request(f"File '{relative}' is not UTF-8 text and cannot be shown") from None


def write_text(root: Path, relative: str, content: str) -> bool:
    """Create or replace a file, creating its folders; True if the file is new."""
    parts = _relative_parts(root, relative)
    with _open_parent(root, parts, relative, create=True) as parent:
        try:
            existing = os.stat(parts[-1], dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            existing = None
        if existing is not None and stat.S_ISDIR(existing.st_mode):
            raise bad_request(f"'{relative}' is a folder, not a file")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            fd = os.open(parts[-1], flags, 0o644, dir_fd=parent)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _symlink_error(relative) from None
            raise
        with os.fdopen(fd, "wb") as handle:
            handle.write(content.encode("utf-8"))
    return existing is None


def touch(root: Path, relative: str) -> bool:
    """Create an empty file if it does not exist (creating folders); True if it was created."""
    parts = _relative_parts(root, relative)
    with _open_parent(root, parts, relative, create=True) as parent:
        try:
            fd = os.open(
                parts[-1], os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=parent
            )
        except FileExistsError:
            os.utime(parts[-1], dir_fd=parent, follow_symlinks=False)
            return False
        os.close(fd)
    return True


def delete(root: Path, relative: str) -> str:
    """Delete a file, a folder with its contents, or a symlink itself; returns the item's type.

    Only the parent folder must lie inside the workspace: a symlink pointing outside is removed
    as a link and its target is never touched.
    """
    pure = PurePosixPath(relative)
    if not relative or "\x00" in relative or pure.is_absolute() or ".." in pure.parts:
        confined_path(root, relative)  # raises the same 400 as every other route
    if not pure.name:
        raise bad_request("The path names the workspace itself, not a file")
    parent = confined_path(root, str(pure.parent)).relative_to(root.resolve()).parts
    parts = (*parent, pure.name)
    with _open_parent(root, parts, relative, create=False) as parent_fd:
        try:
            info = os.stat(pure.name, dir_fd=parent_fd, follow_symlinks=False)
        except FileNotFoundError:
            raise NotFound(f"File '{relative}' not found") from None
        if stat.S_ISDIR(info.st_mode):
            shutil.rmtree(pure.name, dir_fd=parent_fd)
            return "folder"
        os.unlink(pure.name, dir_fd=parent_fd)
    return "file"


def _is_inside(root: Path, path: Path) -> bool:
    try:
        target = path.resolve()
    except (OSError, RuntimeError):
        return False
    return target == root or root in target.parents


def list_items(root: Path) -> list[WorkspaceItem]:
    """Every file and folder, depth first and sorted by name, each folder before its children.

    Symlinks are listed only when they point inside the workspace, and never descended into.
    """
    root = root.resolve()
    items: list[WorkspaceItem] = []

    def walk(folder: Path, prefix: str) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError:
            return
        for entry in entries:
            if len(items) >= MAX_LISTED_ITEMS:
                return
            path = f"{prefix}{entry.name}"
            if entry.is_symlink():
                if not _is_inside(root, Path(entry.path)):
                    continue
                kind = "folder" if entry.is_dir() else "file"
                items.append(WorkspaceItem(entry.name, kind, path))
            elif entry.is_dir(follow_symlinks=False):
                items.append(WorkspaceItem(entry.name, "folder", path))
                walk(Path(entry.path), f"{path}/")
            elif entry.is_file(follow_symlinks=False):
                items.append(WorkspaceItem(entry.name, "file", path))

    walk(root, "")
    return items


def file_count(root: Path) -> int:
    """How many files (not folders) the workspace holds."""
    return sum(1 for item in list_items(root) if item.type == "file")
