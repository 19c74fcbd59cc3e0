"""Environment writes: create, update, start, stop, restart, delete, heartbeat, and the provisioning
that the Celery task runs (start the sandbox, run the template's startup commands as the
installation, then ``running``).

Every status change goes through :func:`_move`, which applies the model's state machine, saves,
writes the activity log and tells the log sockets.
"""

import contextlib
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from apps.activity.models import Activity
from apps.activity.services import activity_record
from apps.core.crypto import DecryptionError, decrypt_text
from apps.core.errors import ErrorCode, HangarError
from apps.environments import streams
from apps.environments.files import SANDBOX_FILES_PATH, user_files_dir
from apps.environments.models import Environment, InstallationLogLine, InvalidTransition, Template, UserEnvVar
from apps.environments.resources import parse_bytes, parse_cpu
from apps.environments.selectors import environment_count_for
from apps.environments.services.templates import template_count_use
from apps.runtime import registry
from apps.runtime.errors import RuntimeBackendError, WorkloadNotFound
from apps.runtime.spec import NetworkPolicy, WorkloadSpec
from apps.runtime.workspaces import remove_workspace, workspace_dir

logger = logging.getLogger(__name__)

Status = Environment.Status
# Installation output kept per command, so a chatty installer cannot flood the database.
_MAX_LINES_PER_COMMAND = 2000
_MAX_LINE_CHARS = 4000
_ACTION_FOR_STATUS = {
    Status.CREATING: "environment_starting",
    Status.INSTALLING: "environment_installing",
    Status.RUNNING: "environment_running",
    Status.STOPPED: "environment_stopped",
    Status.ERROR: "environment_error",
    Status.TERMINATED: "environment_deleted",
}


# --- Helpers ------------------------------------------------------------------------------------


def _record(
    environment: Environment,
    action: str,
    details: str,
    *,
    failed: bool = False,
    request: HttpRequest | None = None,
) -> None:
    activity_record(
        user=environment.owner,
        action=action,
        details=details,
        status=Activity.Status.FAILURE if failed else Activity.Status.SUCCESS,
        request=request,
        metadata={"environment_id": environment.id, "status": environment.status},
    )


def move_environment(
    environment: Environment,
    target: str,
    *,
    reason: str = "",
    stop_reason: str | None = None,
    request: HttpRequest | None = None,
) -> Environment:
    """Apply one state-machine transition (409 if illegal), save, log it and tell the log sockets."""
    previous = environment.transition_to(target, reason=reason)
    if stop_reason is not None:
        environment.stop_reason = stop_reason
    environment.save()
    details = f"Environment {environment.id}: {previous} -> {target}" + (f" ({reason})" if reason else "")
    _record(environment, _ACTION_FOR_STATUS[target], details, failed=target == Status.ERROR, request=request)
    message = {
        "type": streams.INSTALLATION_STATUS,
        "environment_id": environment.id,
        "status": target,
        "previous_status": previous,
        "reason": reason,
        "installation_completed": environment.installation_completed,
        "timestamp": timezone.now().isoformat(),
    }
    transaction.on_commit(lambda: streams.logs_publish(environment.id, message))
    return environment


def lock_environment(environment_id: str) -> Environment | None:
    """The environment, row-locked until the surrounding transaction ends."""
    return (
        Environment.objects.select_for_update(of=("self",))
        .select_related("template", "owner")
        .filter(pk=environment_id)
        .first()
    )


def _queue_provision(environment_id: str) -> None:
    from apps.environments import tasks

    transaction.on_commit(lambda: tasks.provision_environment.delay(environment_id))


def _stop_workload(environment_id: str) -> None:
    """Stop the workload; one that is already gone is fine."""
    with contextlib.suppress(WorkloadNotFound):
        registry.get_backend().stop(environment_id)


def stop_workload_quietly(environment_id: str) -> None:
    """Stop the workload during cleanup, where a failure must not mask the original problem."""
    try:
        _stop_workload(environment_id)
    except RuntimeBackendError:
        logger.warning("Could not stop workload %s during cleanup", environment_id, exc_info=True)


def _state_conflict(environment: Environment, detail: str) -> InvalidTransition:
    return InvalidTransition(environment.status, "", detail=f"{detail} (it is {environment.status})")


def _tier_limit(user: Any, key: str, default: Any = None) -> Any:
    return settings.HANGAR_TIERS.get(user.tier, {}).get(key, default)


# --- Create, update -----------------------------------------------------------------------------


def environment_check_template(*, template: Template) -> None:
    """Refuse a template this Hangar cannot run: 400 ``IMAGE_UNAVAILABLE``, before anything exists."""
    if template.status == Template.Status.DEPRECATED:
        raise HangarError(
            f"Template '{template.name}' is deprecated", error_code=ErrorCode.BAD_REQUEST, status_code=400
        )
    runtime = settings.RUNTIME_BACKEND
    if template.runtimes and runtime not in template.runtimes:
        raise HangarError(
            f"Template '{template.name}' cannot run on the '{runtime}' runtime",
            error_code="IMAGE_UNAVAILABLE",
            status_code=400,
        )
    try:
        registry.get_backend().check_image(template.docker_image)
    except RuntimeBackendError as exc:
        unavailable = exc.code == "IMAGE_UNAVAILABLE"
        raise HangarError(exc.user_message, error_code=exc.code, status_code=400 if unavailable else 503) from None


def environment_create(
    *,
    owner: Any,
    template: Template,
    name: str,
    description: str = "",
    environment_variables: dict[str, str] | None = None,
    application_id: str = "",
    request: HttpRequest | None = None,
) -> Environment:
    """Create an environment and queue its provisioning.

    Refused with 400 ``IMAGE_UNAVAILABLE`` when the runtime cannot provide the template's image
    and with 403 ``ENVIRONMENT_LIMIT_REACHED`` past the owner's tier limit.
    """
    environment_check_template(template=template)
    with transaction.atomic():
        # Lock the owner so two concurrent creates cannot both slip under the limit.
        get_user_model().objects.select_for_update().filter(pk=owner.pk).first()
        limit = _tier_limit(owner, "max_environments", 3)
        if environment_count_for(user=owner) >= limit:
            raise HangarError(
                f"Your {owner.tier} plan allows {limit} environments; delete one first",
                error_code="ENVIRONMENT_LIMIT_REACHED",
                status_code=403,
            )
        environment = Environment.objects.create(
            owner=owner,
            template=template,
            name=name,
            description=description,
            application_id=application_id,
            docker_image=template.docker_image,
            port=template.default_port,
            resources=dict(template.default_resources),
            environment_variables=dict(environment_variables or {}),
            runtime=settings.RUNTIME_BACKEND,
            last_activity=timezone.now(),
        )
        template_count_use(template=template)
        _record(environment, "environment_created", f"Created environment {environment.id}", request=request)
        _queue_provision(environment.id)
    return environment


@transaction.atomic
def environment_update(
    *, environment: Environment, data: dict[str, Any], request: HttpRequest | None = None
) -> Environment:
    """Change name, description or environment variables (the latter apply at the next start)."""
    environment = lock_environment(environment.pk)
    for field in ("name", "description", "environment_variables"):
        if field in data:
            setattr(environment, field, data[field])
    environment.save()
    _record(environment, "environment_updated", f"Updated environment {environment.id}", request=request)
    return environment


# --- Lifecycle ----------------------------------------------------------------------------------


@transaction.atomic
def environment_start(*, environment: Environment, request: HttpRequest | None = None) -> Environment:
    """Start a stopped environment (409 otherwise); provisioning runs in a task."""
    environment = lock_environment(environment.pk)
    if environment.status != Status.STOPPED:
        raise _state_conflict(environment, "Only a stopped environment can be started")
    move_environment(environment, Status.CREATING, reason="start requested", stop_reason="", request=request)
    _queue_provision(environment.id)
    return environment


@transaction.atomic
def environment_stop(
    *, environment: Environment, reason: str = "user_request", request: HttpRequest | None = None
) -> Environment:
    """Stop a running environment (409 otherwise); no process of it remains afterwards."""
    environment = lock_environment(environment.pk)
    if environment.status != Status.RUNNING:
        raise _state_conflict(environment, "Only a running environment can be stopped")
    return stop_locked_environment(environment, reason=reason, request=request)


def stop_locked_environment(
    environment: Environment, *, reason: str, request: HttpRequest | None = None
) -> Environment:
    """Stop the workload of a row-locked running environment and record ``reason``; a backend that
    fails to stop it leaves the environment in error rather than claiming it stopped."""
    try:
        _stop_workload(environment.id)
    except RuntimeBackendError as exc:
        logger.warning("Stopping %s failed: %s", environment.id, exc.detail)
        return move_environment(
            environment, Status.ERROR, reason=f"Stop failed: {exc.user_message}", stop_reason=reason
        )
    return move_environment(environment, Status.STOPPED, reason=reason, stop_reason=reason, request=request)


@transaction.atomic
def environment_restart(*, environment: Environment, request: HttpRequest | None = None) -> Environment:
    """Restart from running, stopped or error (409 otherwise): stop, then provision again."""
    environment = lock_environment(environment.pk)
    if environment.status not in (Status.RUNNING, Status.STOPPED, Status.ERROR):
        raise _state_conflict(environment, "Only a running, stopped or failed environment can be restarted")
    if environment.status == Status.RUNNING:
        environment = stop_locked_environment(environment, reason="restart", request=request)
    else:
        stop_workload_quietly(environment.id)
    move_environment(environment, Status.CREATING, reason="restart requested", stop_reason="", request=request)
    _queue_provision(environment.id)
    return environment


@transaction.atomic
def environment_delete(*, environment: Environment, request: HttpRequest | None = None) -> None:
    """Stop the workload, remove its workspace, and mark the environment terminated (final)."""
    environment = lock_environment(environment.pk)
    if environment.status == Status.TERMINATED:
        return
    stop_workload_quietly(environment.id)
    remove_workspace("environment", environment.id)
    move_environment(environment, Status.TERMINATED, reason="deleted", stop_reason="deleted", request=request)


def environment_touch(*, environment: Environment) -> None:
    """Record activity (heartbeat, terminal input), which holds off the idle timeout."""
    Environment.objects.filter(pk=environment.pk).update(last_activity=timezone.now())


def environment_heartbeat(*, user: Any, environment: Environment | None = None) -> int:
    """001's heartbeat: touch one environment, or every live one of the user. Returns how many."""
    now = timezone.now()
    queryset = Environment.objects.filter(owner=user, status__in=Environment.LIVE_STATUSES)
    if environment is not None:
        queryset = Environment.objects.filter(pk=environment.pk, owner=user)
    return queryset.update(last_activity=now)


@transaction.atomic
def environment_fail(*, environment_id: str, reason: str) -> Environment | None:
    """Mark an environment ``error`` with ``reason`` and stop its workload; a deleted one stays."""
    environment = lock_environment(environment_id)
    if environment is None or environment.status in (Status.TERMINATED, Status.ERROR):
        return environment
    stop_workload_quietly(environment.id)
    return move_environment(environment, Status.ERROR, reason=reason[:500])


# --- Provisioning (run by the Celery task) ------------------------------------------------------


def environment_spec(*, environment: Environment) -> WorkloadSpec:
    """The workload for ``environment``: template resources and network, the user's files mounted
    at /workspace/files, and the template's, the user's and the environment's variables (in that
    order of precedence, last wins)."""
    template = environment.template
    resources = environment.resources or template.default_resources
    variables = {str(k): str(v) for k, v in (template.environment_variables or {}).items()}
    variables.update(user_env_vars_decrypted(user=environment.owner))
    variables.update({str(k): str(v) for k, v in (environment.environment_variables or {}).items()})
    return WorkloadSpec(
        id=environment.id,
        owner_id=environment.owner_id,
        kind="environment",
        image=environment.docker_image,
        workspace=str(workspace_dir("environment", environment.id)),
        env=variables,
        mounts={SANDBOX_FILES_PATH: str(user_files_dir(environment.owner))},
        cpu=parse_cpu(resources.get("cpu", "500m")),
        memory_bytes=parse_bytes(resources.get("memory", "1Gi")),
        disk_bytes=parse_bytes(resources.get("storage", "10Gi")),
        network=NetworkPolicy(template.network_policy),
        port=environment.port or None,
    )


def user_env_vars_decrypted(*, user: Any) -> dict[str, str]:
    """The user's variables in clear, for injection into a workload only."""
    variables = {}
    for variable in UserEnvVar.objects.filter(user=user):
        try:
            variables[variable.key] = decrypt_text(variable.value_encrypted)
        except DecryptionError:
            # A key was retired without re-encrypting; skip the variable rather than fail the start.
            logger.warning("Cannot decrypt env var %s of user %s; skipped", variable.key, user.pk)
    return variables


def environment_provision(*, environment_id: str) -> Environment | None:
    """Bring a ``creating`` environment to ``running``: start the sandbox, install on first start.

    Safe to run twice: anything not in ``creating``/``installing`` is left alone, and a redelivered
    run of an interrupted installation starts over from a fresh sandbox.
    """
    with transaction.atomic():
        environment = lock_environment(environment_id)
        if environment is None or environment.status not in (Status.CREATING, Status.INSTALLING):
            return environment
        resuming = environment.status == Status.INSTALLING
    backend = registry.get_backend()
    try:
        spec = environment_spec(environment=environment)
        if resuming:
            _stop_workload(environment.id)
        state = backend.start(spec)
        observed = backend.status(environment.id)
    except (RuntimeBackendError, ValueError) as exc:
        message = exc.user_message if isinstance(exc, RuntimeBackendError) else str(exc)
        environment_fail(environment_id=environment_id, reason=f"Could not start: {message}")
        return _reload(environment_id)
    except Exception:
        # Anything unexpected still ends the attempt in error, never stuck in creating.
        logger.exception("Starting environment %s failed", environment_id)
        environment_fail(environment_id=environment_id, reason="Could not start: internal error")
        return _reload(environment_id)

    with transaction.atomic():
        environment = lock_environment(environment_id)
        if environment is None or environment.status not in (Status.CREATING, Status.INSTALLING):
            # Deleted or failed while the sandbox came up: do not leave it running.
            stop_workload_quietly(environment_id)
            return environment
        now = timezone.now()
        environment.runtime_state = state if isinstance(state, dict) else {}
        environment.host_port = observed.host_port
        environment.started_at = now
        environment.last_activity = now
        environment.save()
        needs_install = not environment.installation_completed
        if needs_install and environment.status == Status.CREATING:
            move_environment(environment, Status.INSTALLING, reason="running startup commands")

    if needs_install and not _install(environment):
        return _reload(environment_id)

    with transaction.atomic():
        environment = lock_environment(environment_id)
        if environment is None or environment.status not in (Status.CREATING, Status.INSTALLING):
            stop_workload_quietly(environment_id)
            return environment
        move_environment(environment, Status.RUNNING)
    return environment


def _reload(environment_id: str) -> Environment | None:
    return Environment.objects.select_related("template", "owner").filter(pk=environment_id).first()


def _install_line(environment: Environment, message: str, *, level: str = "INFO") -> InstallationLogLine:
    return InstallationLogLine(
        environment=environment, message=message[:_MAX_LINE_CHARS], level=level, timestamp=timezone.now()
    )


def _publish_lines(environment: Environment, lines: list[InstallationLogLine]) -> None:
    InstallationLogLine.objects.bulk_create(lines)
    for line in lines:
        streams.logs_publish(
            environment.id, {"type": streams.INSTALLATION_LOG, "environment_id": environment.id, **line.as_log()}
        )


def _install(environment: Environment) -> bool:
    """Run the template's startup commands in the sandbox; True when every one exits 0.

    Each command and its output go to the installation log (kept with the environment's logs)
    and to the log sockets as they happen.
    """
    commands = [str(command) for command in environment.template.startup_commands or []]
    backend = registry.get_backend()
    timeout = settings.ENVIRONMENT_INSTALL_COMMAND_TIMEOUT_SECONDS
    streams.logs_publish(
        environment.id,
        {
            "type": streams.INSTALLATION_STATUS,
            "environment_id": environment.id,
            "status": Status.INSTALLING,
            "message": f"Running {len(commands)} startup command(s)",
            "timestamp": timezone.now().isoformat(),
        },
    )
    for command in commands:
        _publish_lines(environment, [_install_line(environment, f"$ {command}")])
        try:
            exit_code, output = backend.exec(environment.id, ["/bin/sh", "-c", command], timeout=timeout)
        except RuntimeBackendError as exc:
            exit_code, output = None, exc.user_message
        except Exception:
            logger.exception("Startup command of %s failed", environment.id)
            exit_code, output = None, "internal error"
        output_lines = (output or "").splitlines()[-_MAX_LINES_PER_COMMAND:]
        level = "INFO" if exit_code == 0 else "ERROR"
        _publish_lines(environment, [_install_line(environment, line, level=level) for line in output_lines])
        if exit_code != 0:
            outcome = "could not run" if exit_code is None else f"exited with {exit_code}"
            reason = f"Startup command '{command}' {outcome}"
            _publish_lines(environment, [_install_line(environment, reason, level="ERROR")])
            streams.logs_publish(
                environment.id,
                {
                    "type": streams.INSTALLATION_ERROR,
                    "environment_id": environment.id,
                    "message": reason,
                    "timestamp": timezone.now().isoformat(),
                },
            )
            environment_fail(environment_id=environment.id, reason=reason)
            return False
    with transaction.atomic():
        locked = lock_environment(environment.id)
        if locked is None or locked.status != Status.INSTALLING:
            return False
        locked.installation_completed = True
        locked.save(update_fields=["installation_completed", "updated_at"])
    environment.installation_completed = True
    _publish_lines(environment, [_install_line(environment, "Installation completed")])
    streams.logs_publish(
        environment.id,
        {
            "type": streams.INSTALLATION_COMPLETE,
            "environment_id": environment.id,
            "message": "Installation completed",
            "timestamp": timezone.now().isoformat(),
        },
    )
    return True
