"""Repository links: a notebook tied to a file on a branch of a git repository.

The link's webhook secret is stored Fernet-encrypted and never returned. Repository URLs are
checked (https, ssh, and file:// only when ``WEBHOOK_ALLOW_FILE_REPOS``) and normalised to a
``repo_key`` so that a webhook finds the link whichever URL of the repository its payload carries.
The notebook is fetched with ``git clone --depth 1 --no-checkout`` and ``git show``, in a temporary
folder, under a timeout; only the https, ssh and (when allowed) file transports are enabled, so a
URL cannot make git run a command (``ext::``).
"""

import os
import posixpath
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from rest_framework.exceptions import ValidationError

from apps.activity.services import activity_record
from apps.core.crypto import encrypt_text
from apps.core.errors import ErrorCode, HangarError
from apps.deployments.models import RepositoryLink

_SCP_LIKE = re.compile(r"^(?:[A-Za-z0-9._-]+@)?(?P<host>[A-Za-z0-9][A-Za-z0-9.-]*):(?P<path>[^/].*)$")
# A host never starts with "-", so it cannot be read as an ssh option.
_HOST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*$")
_REPO_PATH = re.compile(r"^[A-Za-z0-9._~/-]+$")
_BRANCH = re.compile(r"^[A-Za-z0-9._/-]+$")
_NOTEBOOK_PATH = re.compile(r"^[A-Za-z0-9 ._/()+-]+$")


class RepositoryError(HangarError):
    """The repository could not be read (clone failed, timed out, file missing or too large)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, error_code=ErrorCode.BAD_REQUEST, status_code=400)


def _invalid(field: str, message: str) -> ValidationError:
    # A field error like a serializer's: 400 VALIDATION_ERROR with ``errors``.
    return ValidationError({field: [message]})


# --- Validation and normalisation ----------------------------------------------------------------


def repo_key(url: str) -> str:
    """``host/owner/repo`` (lower case, no scheme, user, port, trailing slash or ``.git``), or
    ``file:<path>`` for local repositories; ``""`` for anything that is not a repository URL."""
    url = (url or "").strip()
    scp = _SCP_LIKE.match(url) if "://" not in url else None
    if scp:
        host, path = scp.group("host"), scp.group("path")
    else:
        parts = urlsplit(url)
        if parts.scheme == "file":
            path = posixpath.normpath(parts.path).rstrip("/")
            return f"file:{path.removesuffix('.git')}" if path.startswith("/") else ""
        if parts.scheme not in ("https", "http", "ssh", "git") or not parts.hostname:
            return ""
        host, path = parts.hostname, parts.path
    path = path.strip("/").removesuffix(".git").strip("/")
    if not path:
        return ""
    return f"{host}/{path}".lower()


def validate_repo_url(url: str) -> str:
    """An https, ssh (``ssh://`` or ``git@host:owner/repo``) or, when allowed, ``file://`` URL."""
    url = (url or "").strip()
    if not url or len(url) > 500 or any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise _invalid("repo_url", "Enter a repository URL")
    if url.startswith("-"):
        raise _invalid("repo_url", "Enter a repository URL")
    scp = _SCP_LIKE.match(url) if "://" not in url else None
    if scp:
        if not _REPO_PATH.match(scp.group("path")):
            raise _invalid("repo_url", "The repository path holds characters that are not allowed")
        return url
    parts = urlsplit(url)
    if parts.scheme == "file":
        if not settings.WEBHOOK_ALLOW_FILE_REPOS:
            raise _invalid("repo_url", "file:// repositories are not allowed on this Hangar")
        if parts.netloc or not parts.path.startswith("/") or ".." in parts.path.split("/"):
            raise _invalid("repo_url", "A file:// URL must name an absolute path, e.g. file:///srv/repo.git")
        return url
    if parts.scheme not in ("https", "ssh"):
        raise _invalid("repo_url", "Use an https://, ssh:// or git@host:owner/repo URL")
    if parts.password is not None or (parts.scheme == "https" and parts.username):
        raise _invalid("repo_url", "Do not put credentials in the URL")
    if not parts.hostname or not _HOST.match(parts.hostname) or parts.query or parts.fragment:
        raise _invalid("repo_url", "Enter a repository URL")
    if not repo_key(url) or not _REPO_PATH.match(parts.path):
        raise _invalid("repo_url", "The URL must name a repository, e.g. https://github.com/owner/repo.git")
    return url


def validate_branch(branch: str) -> str:
    """A branch name git accepts (``git check-ref-format --branch``'s main rules)."""
    branch = (branch or "").strip()
    if (
        not branch
        or len(branch) > 200
        or not _BRANCH.match(branch)
        or branch.startswith(("-", "/", "."))
        or branch.endswith(("/", ".", ".lock"))
        or ".." in branch
        or "//" in branch
        or "/." in branch
    ):
        raise _invalid("branch", "Enter a valid branch name, e.g. main")
    return branch


def validate_notebook_path(path: str) -> str:
    """A relative path inside the repository to a ``.ipynb`` file, without ``..``."""
    path = (path or "").strip()
    if not path or len(path) > 500 or not _NOTEBOOK_PATH.match(path):
        raise _invalid("path", "Enter the notebook's path in the repository, e.g. notebooks/app.ipynb")
    if path.startswith("/") or any(part in ("", ".", "..") for part in path.split("/")):
        raise _invalid("path", "The path must be relative, without '..' or empty parts")
    if not path.lower().endswith(".ipynb"):
        raise _invalid("path", "The path must name a .ipynb file")
    return path


# --- Writes --------------------------------------------------------------------------------------


@transaction.atomic
def repository_link_set(
    *,
    owner: Any,
    notebook: Any,
    repo_url: str,
    branch: str,
    path: str,
    secret: str,
    provider: str = RepositoryLink.Provider.GITHUB,
    request: HttpRequest | None = None,
) -> tuple[RepositoryLink, bool]:
    """Link ``notebook`` to ``path`` on ``branch`` of ``repo_url`` (replacing its link, if any);
    returns the link and whether it was created."""
    url = validate_repo_url(repo_url)
    values = {
        "owner": owner,
        "provider": provider,
        "repo_url": url,
        "repo_key": repo_key(url),
        "branch": validate_branch(branch),
        "path": validate_notebook_path(path),
        "secret_encrypted": encrypt_text(secret),
        "last_commit": "",
    }
    link, created = RepositoryLink.objects.select_for_update().update_or_create(notebook=notebook, defaults=values)
    activity_record(
        user=owner,
        action="repository_linked",
        details=f"Notebook {notebook.pk} linked to {link}",
        request=request,
        metadata={"notebook_id": notebook.pk, "repository_link_id": link.pk},
    )
    return link, created


@transaction.atomic
def repository_link_delete(*, link: RepositoryLink, request: HttpRequest | None = None) -> None:
    """Remove a repository link; pushes no longer redeploy the notebook."""
    notebook_id = link.notebook_id
    link.delete()
    activity_record(
        user=link.owner,
        action="repository_unlinked",
        details=f"Notebook {notebook_id} unlinked from its repository",
        request=request,
        metadata={"notebook_id": notebook_id},
    )


# --- Reading the notebook from git ---------------------------------------------------------------


@dataclass(frozen=True)
class FetchedNotebook:
    """A notebook file read from a commit."""

    content: bytes
    commit: str
    filename: str


def _git_env() -> dict[str, str]:
    protocols = "https:ssh:file" if settings.WEBHOOK_ALLOW_FILE_REPOS else "https:ssh"
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": tempfile.gettempdir(),
        "GIT_ALLOW_PROTOCOL": protocols,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_SSH_COMMAND": "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "LC_ALL": "C",
    }


def _git(args: list[str], *, cwd: str | None, timeout: float) -> subprocess.CompletedProcess:
    git = shutil.which("git")
    if git is None:
        raise RepositoryError("git is not installed on this Hangar")
    try:
        return subprocess.run(  # noqa: S603 - fixed git arguments; the URL comes after "--"
            [git, *args], cwd=cwd, env=_git_env(), capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise RepositoryError(f"git {args[0]} timed out after {int(timeout)} s") from None
    except OSError as exc:
        raise RepositoryError(f"git could not run: {exc}") from None


def _stderr(result: subprocess.CompletedProcess) -> str:
    return result.stderr.decode("utf-8", "replace").strip()[-500:]


def repository_fetch_notebook(*, link: RepositoryLink) -> FetchedNotebook:
    """Read the linked notebook at the head of the linked branch; ``RepositoryError`` otherwise."""
    timeout = float(settings.WEBHOOK_GIT_TIMEOUT_SECONDS)
    validate_repo_url(link.repo_url)  # the setting may have changed since the link was made
    with tempfile.TemporaryDirectory(prefix="hangar-webhook-") as workdir:
        clone = os.path.join(workdir, "repo")
        args = ["clone", "--quiet", "--depth", "1", "--no-checkout", "--single-branch"]
        result = _git([*args, "--branch", link.branch, "--", link.repo_url, clone], cwd=workdir, timeout=timeout)
        if result.returncode != 0:
            raise RepositoryError(f"git clone of {link.repo_url} ({link.branch}) failed: {_stderr(result)}")
        head = _git(["rev-parse", "HEAD"], cwd=clone, timeout=timeout)
        commit = head.stdout.decode().strip() if head.returncode == 0 else ""
        spec = f"HEAD:{link.path}"
        kind = _git(["cat-file", "-t", spec], cwd=clone, timeout=timeout)
        if kind.returncode != 0 or kind.stdout.strip() != b"blob":
            raise RepositoryError(f"{link.path} is not a file on {link.branch}")
        size = _git(["cat-file", "-s", spec], cwd=clone, timeout=timeout)
        if size.returncode != 0 or int(size.stdout.strip() or 0) > settings.WEBHOOK_MAX_NOTEBOOK_BYTES:
            raise RepositoryError(f"{link.path} is larger than {settings.WEBHOOK_MAX_NOTEBOOK_BYTES} bytes")
        blob = _git(["cat-file", "blob", spec], cwd=clone, timeout=timeout)
        if blob.returncode != 0:
            raise RepositoryError(f"{link.path} could not be read: {_stderr(blob)}")
    return FetchedNotebook(content=blob.stdout, commit=commit, filename=posixpath.basename(link.path))
