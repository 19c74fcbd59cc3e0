"""Every read of this app, scoped to the caller: another tenant's object is a 404."""

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from apps.core.errors import HangarError, NotFound
from apps.environments.files import clean_filename, sandbox_path, user_files_dir
from apps.environments.models import (
    Cluster,
    Environment,
    InstallationLogLine,
    InvalidTransition,
    Template,
    UserEnvVar,
)
from apps.runtime import registry
from apps.runtime.errors import RuntimeBackendError, WorkloadNotFound
from apps.runtime.workspaces import confined_path


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


# --- Templates ------------------------------------------------------------------------------------


def template_list(*, category: str | None = None, status: str | None = None) -> QuerySet[Template]:
    """Every template (templates are shared), optionally by category and status."""
    queryset = Template.objects.all()
    if category:
        queryset = queryset.filter(category=category)
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def template_get(*, template_id: Any) -> Template:
    """One template by id; 404 for unknown or malformed ids."""
    pk = _uuid_or_none(template_id)
    template = Template.objects.filter(pk=pk).first() if pk else None
    if template is None:
        raise NotFound("Template not found")
    return template


def template_for_image(*, image: str) -> Template | None:
    """The usable template whose ``docker_image`` is ``image`` (active before beta), or None."""
    candidates = Template.objects.filter(docker_image=image).exclude(status=Template.Status.DEPRECATED)
    return candidates.order_by("status", "name").first()


# --- Environments ---------------------------------------------------------------------------------


def environment_list(
    *, user: Any, status: str | None = None, template_id: uuid.UUID | None = None
) -> QuerySet[Environment]:
    """The caller's environments, newest first. Terminated ones show only when asked for by status."""
    queryset = Environment.objects.filter(owner=user).select_related("template", "owner")
    # Deleted environments stay for the record; they show only when asked for by status.
    queryset = queryset.filter(status=status) if status else queryset.exclude(status=Environment.Status.TERMINATED)
    if template_id:
        queryset = queryset.filter(template_id=template_id)
    return queryset


def environment_get(*, user: Any, environment_id: str) -> Environment:
    """One of the caller's environments; 404 for another user's, a deleted or an unknown one."""
    environment = (
        Environment.objects.select_related("template", "owner")
        .filter(pk=str(environment_id), owner=user)
        .exclude(status=Environment.Status.TERMINATED)
        .first()
    )
    if environment is None:
        raise NotFound("Environment not found")
    return environment


def environment_active(*, user: Any) -> Environment | None:
    """001's "active environment": the caller's newest live one, else the newest at all."""
    mine = environment_list(user=user)
    return mine.filter(status__in=Environment.LIVE_STATUSES).first() or mine.first()


def environment_latest(*, user: Any) -> Environment:
    """The caller's newest environment (001's DELETE without ``env_id``); 404 when there is none."""
    environment = environment_list(user=user).first()
    if environment is None:
        raise NotFound("Environment not found")
    return environment


def environment_list_all() -> QuerySet[Environment]:
    """Every user's environments except deleted ones, for admins."""
    return Environment.objects.exclude(status=Environment.Status.TERMINATED).select_related("owner", "template")


def environment_count_for(*, user: Any) -> int:
    """How many environments count against the caller's tier limit (all but deleted ones)."""
    return Environment.objects.filter(owner=user).exclude(status=Environment.Status.TERMINATED).count()


def environment_installation_lines(*, environment: Environment, limit: int = 1000) -> list[InstallationLogLine]:
    """The latest ``limit`` installation lines, oldest first."""
    lines = list(environment.installation_lines.order_by("-timestamp", "-id")[:limit])
    lines.reverse()
    return lines


def environment_uptime_minutes(*, environment: Environment, now: datetime | None = None) -> int:
    """Whole minutes since the environment last started, while it runs; else 0."""
    if environment.status != Environment.Status.RUNNING or environment.started_at is None:
        return 0
    return int(((now or timezone.now()) - environment.started_at).total_seconds() // 60)


def _as_aware(moment: datetime) -> datetime:
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)


def environment_logs(*, environment: Environment, lines: int, since: datetime | None = None) -> dict[str, Any]:
    """004's Log Response: the runtime's log entries merged with the installation output, oldest
    first, the last ``lines`` of them; ``has_more`` when older entries were left out."""
    try:
        runtime_entries = registry.get_backend().logs(environment.id, tail=lines + 1, since=since)
    except RuntimeBackendError:
        # A stopped or never-started workload may have no logs left; the installation log remains.
        runtime_entries = []
    entries = [
        {
            "timestamp": _as_aware(entry.timestamp),
            "level": entry.level,
            "message": entry.message,
            "source": entry.source,
        }
        for entry in runtime_entries
    ]
    installation = environment.installation_lines.all()
    if since is not None:
        installation = installation.filter(timestamp__gte=since)
    recent = list(installation.order_by("-timestamp", "-id")[: lines + 1])
    entries += [
        {"timestamp": line.timestamp, "level": line.level, "message": line.message, "source": line.source}
        for line in reversed(recent)
    ]
    entries.sort(key=lambda entry: entry["timestamp"])
    has_more = len(entries) > lines
    entries = entries[-lines:]
    for entry in entries:
        entry["timestamp"] = entry["timestamp"].isoformat()
    return {
        "environment_id": environment.id,
        "environment_name": environment.name,
        "logs": entries,
        "total_lines": len(entries),
        "has_more": has_more,
    }


def environment_metrics(*, environment: Environment) -> dict[str, Any]:
    """Measured CPU, memory, storage and processes of a running environment; 409 otherwise."""
    if environment.status != Environment.Status.RUNNING:
        raise InvalidTransition(
            environment.status, "", detail=f"Metrics need a running environment (it is {environment.status})"
        )
    try:
        metrics = registry.get_backend().metrics(environment.id)
    except WorkloadNotFound:
        raise InvalidTransition(environment.status, "", detail="The environment's workload is not running") from None
    except RuntimeBackendError as exc:
        raise HangarError(exc.user_message, error_code=exc.code, status_code=503) from None

    def percent(used: int, limit: int) -> float | None:
        return round(100.0 * used / limit, 2) if limit else None

    return {
        "environment_id": environment.id,
        "cpu": {"usage_percent": round(metrics.cpu_percent, 2), "limit": environment.resources.get("cpu")},
        "memory": {
            "usage_bytes": metrics.memory_bytes,
            "limit_bytes": metrics.memory_limit_bytes,
            "usage_percent": percent(metrics.memory_bytes, metrics.memory_limit_bytes),
        },
        "storage": {
            "usage_bytes": metrics.storage_bytes,
            "limit_bytes": metrics.storage_limit_bytes,
            "usage_percent": percent(metrics.storage_bytes, metrics.storage_limit_bytes),
        },
        "processes": metrics.pids,
        "uptime_minutes": environment_uptime_minutes(environment=environment),
        "timestamp": timezone.now().isoformat(),
    }


# --- Clusters -------------------------------------------------------------------------------------


def cluster_list() -> QuerySet[Cluster]:
    """Every cluster (admins only reach this)."""
    return Cluster.objects.all()


def cluster_get(*, cluster_id: Any) -> Cluster:
    """One cluster by id; 404 for unknown or malformed ids."""
    pk = _uuid_or_none(cluster_id)
    cluster = Cluster.objects.filter(pk=pk).first() if pk else None
    if cluster is None:
        raise NotFound("Cluster not found")
    return cluster


# --- User environment variables ------------------------------------------------------------------


def user_env_var_list(*, user: Any) -> QuerySet[UserEnvVar]:
    """The caller's variables (still encrypted)."""
    return UserEnvVar.objects.filter(user=user)


def user_env_var_get(*, user: Any, key: str) -> UserEnvVar:
    """One of the caller's variables; 404 when missing."""
    variable = UserEnvVar.objects.filter(user=user, key=key).first()
    if variable is None:
        raise NotFound("Environment variable not found")
    return variable


# --- User files -----------------------------------------------------------------------------------


def user_file_list(*, user: Any) -> list[dict[str, Any]]:
    """The regular files in the caller's folder, by name. Symlinks, folders and dotfiles are left
    out: a symlink may have been made inside a sandbox and must never be followed."""
    folder = user_files_dir(user)
    files = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith(".") or not entry.is_file(follow_symlinks=False):
                continue
            info = entry.stat(follow_symlinks=False)
            files.append(
                {
                    "filename": entry.name,
                    "size_bytes": info.st_size,
                    "path": sandbox_path(entry.name),
                    "created_at": datetime.fromtimestamp(info.st_mtime, tz=UTC).isoformat(),
                }
            )
    return sorted(files, key=lambda item: item["filename"])


def user_file_path(*, user: Any, filename: str) -> Path:
    """The host path of one of the caller's files for download: 400 for a bad name or a path that
    escapes the folder (e.g. a symlink pointing outside), 404 when it is not a regular file."""
    name = clean_filename(filename, strip_directories=False)
    folder = user_files_dir(user)
    confined_path(folder, name)
    path = folder.resolve() / name
    if path.is_symlink() or not path.is_file():
        raise NotFound("File not found")
    return path
