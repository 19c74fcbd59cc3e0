"""Build writes: create, trigger (create and queue), execute (run to the end), fail, reap.

Every status change goes through :func:`_move`, which applies the model's state machine, saves,
writes the activity log and tells the build's log sockets. ``build_execute`` is what the Celery
task and the one-click pipeline both call; it never raises for a failed build, it records it.
"""

import logging
import shutil
import time
from datetime import timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from apps.activity.models import Activity
from apps.activity.services import activity_record
from apps.builds import logs
from apps.builds import notebooks as notebook_api
from apps.builds.builders import BuildResult, get_builder
from apps.builds.builders import cache as env_cache
from apps.builds.models import Build
from apps.core.errors import ErrorCode, HangarError
from apps.notebooks.models import Notebook
from apps.runtime import registry
from apps.runtime.errors import RuntimeBackendError

logger = logging.getLogger(__name__)

Status = Build.Status
FINAL_STATUSES = (Status.SUCCESS, Status.FAILED)
# A queued or building build older than the time limit plus this is failed by the reaper.
REAPER_GRACE_SECONDS = 120
_ACTION_FOR_STATUS = {
    Status.BUILDING: "build_started",
    Status.SUCCESS: "build_succeeded",
    Status.FAILED: "build_failed",
}
_NOTEBOOK_STATUS_FOR_BUILD = {
    Status.BUILDING: Notebook.Status.BUILDING,
    Status.SUCCESS: Notebook.Status.BUILT,
    Status.FAILED: Notebook.Status.FAILED,
}


# --- Helpers ------------------------------------------------------------------------------------


def status_message(build: Build) -> dict[str, Any]:
    """The socket message that reports a build's status (``complete`` once it is final)."""
    return {
        "type": "complete" if build.status in FINAL_STATUSES else "status",
        "build_id": build.build_id,
        "status": build.status,
        "error_message": build.error_message or None,
        "cache_hit": build.cache_hit,
        "timestamp": timezone.now().isoformat(),
    }


def _move(build: Build, target: str, *, request: HttpRequest | None = None, **fields: Any) -> Build:
    """Apply one transition (409 if illegal), save, record it and tell the sockets after commit."""
    previous = build.status
    build.transition_to(target)
    for name, value in fields.items():
        setattr(build, name, value)
    build.save()
    details = f"Build {build.build_id}: {previous} -> {target}"
    if target == Status.FAILED and build.error_message:
        details += f" ({build.error_message.splitlines()[0][:200]})"
    activity_record(
        user=build.owner,
        action=_ACTION_FOR_STATUS[target],
        details=details,
        status=Activity.Status.FAILURE if target == Status.FAILED else Activity.Status.SUCCESS,
        request=request,
        metadata={"build_id": build.build_id, "notebook_id": build.notebook_id, "status": target},
    )
    message = status_message(build)
    transaction.on_commit(lambda: logs.publish(build.pk, message))
    _move_notebook(build.notebook_id, _NOTEBOOK_STATUS_FOR_BUILD[target])
    return build


def _move_notebook(notebook_pk: int, target: str) -> None:
    """Follow the build on the notebook's own status when its state machine allows the move."""
    notebook = Notebook.objects.select_for_update().filter(pk=notebook_pk).first()
    if notebook is not None and notebook.status != target and notebook.can_transition(target):
        notebook.transition_to(target)
        notebook.save(update_fields=["status", "updated_at"])


def _lock(build_pk: int) -> Build | None:
    """The build, row-locked until the surrounding transaction ends."""
    return Build.objects.select_for_update(of=("self",)).select_related("owner").filter(pk=build_pk).first()


# --- Create and trigger -------------------------------------------------------------------------


def build_create(*, owner: Any, notebook: Notebook, request: HttpRequest | None = None) -> Build:
    """A queued build of a parsed notebook (400 ``NOTEBOOK_NOT_PARSED`` otherwise); nothing is queued.

    ``build_id`` is ``build-<notebook>-<epoch seconds>``; two builds in the same second get
    consecutive seconds, so the id stays unique and keeps its documented shape.
    """
    notebook_api.require_parsed(notebook=notebook)
    builder = get_builder()
    epoch = int(time.time())
    for attempt in range(100):
        build = Build(owner=owner, notebook=notebook, build_id=f"build-{notebook.pk}-{epoch + attempt}")
        build.builder = builder.name
        build.image_name = builder.image_name(build)
        try:
            with transaction.atomic():
                build.save()
        except IntegrityError:
            continue
        activity_record(
            user=owner,
            action="build_queued",
            details=f"Build {build.build_id} of notebook {notebook.pk} queued",
            request=request,
            metadata={"build_id": build.build_id, "notebook_id": notebook.pk, "status": build.status},
        )
        return build
    raise HangarError("Could not allocate a build id; try again", error_code=ErrorCode.CONFLICT, status_code=409)


def build_trigger(*, owner: Any, notebook: Notebook, request: HttpRequest | None = None) -> Build:
    """Create a queued build and run it in a Celery task once the transaction commits."""
    from apps.builds import tasks

    with transaction.atomic():
        build = build_create(owner=owner, notebook=notebook, request=request)
        transaction.on_commit(lambda: tasks.run_build.delay(build.pk))
    return build


# --- Execute ------------------------------------------------------------------------------------


def build_execute(*, build: Build) -> Build:
    """Run a queued build to the end, synchronously: it ends ``success`` or ``failed``.

    Safe to call twice: a build that is not queued is returned as it is. A failure of any kind is
    recorded on the build (``error_message``, the log), never raised.
    """
    with transaction.atomic():
        locked = _lock(build.pk)
        if locked is None or locked.status != Status.QUEUED:
            return locked or build
        _move(locked, Status.BUILDING, started_at=timezone.now())
    log = logs.BuildLog(build_pk=locked.pk, build_id=locked.build_id)
    log.write(f"Build {locked.build_id} started with the {locked.builder} builder")
    try:
        result = _run_builder(locked, log)
    except SoftTimeLimitExceeded:
        result = BuildResult(ok=False, error_message=f"Build timed out after {settings.BUILD_TIMEOUT_SECONDS} s")
        log.write(result.error_message)
    except HangarError as exc:
        # The notebook can no longer give its sources (its file is gone, it was replaced meanwhile).
        result = BuildResult(ok=False, error_message=f"Could not prepare the sources: {exc.detail}")
        log.write(result.error_message)
    except Exception:
        logger.exception("Build %s failed unexpectedly", locked.build_id)
        result = BuildResult(ok=False, error_message="The build failed: internal error")
        log.write(result.error_message)
    return _finish(locked.pk, result)


def _run_builder(build: Build, log: logs.BuildLog) -> BuildResult:
    source = logs.build_dir(build.build_id) / "src"
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir(parents=True)
    notebook_api.write_sources(notebook=build.notebook, dest=source)
    build.source_path = str(source)
    Build.objects.filter(pk=build.pk).update(source_path=build.source_path)
    log.write("Sources: " + ", ".join(sorted(p.name for p in source.iterdir())))

    def on_external(external_id: str, external_log_url: str) -> None:
        Build.objects.filter(pk=build.pk).update(external_id=external_id, external_log_url=external_log_url)

    return get_builder(build.builder).build(build, log, on_external=on_external)


def _finish(build_pk: int, result: BuildResult) -> Build:
    with transaction.atomic():
        build = _lock(build_pk)
        if build.status != Status.BUILDING:
            return build  # the reaper failed it meanwhile; its reason stands
        fields = {
            "finished_at": timezone.now(),
            "cache_key": result.cache_key,
            "cache_hit": result.cache_hit,
            "env_path": result.env_path,
            "error_message": "" if result.ok else (result.error_message or "The build failed"),
        }
        for name in ("image_name", "external_id", "external_log_url"):
            if getattr(result, name):
                fields[name] = getattr(result, name)
        return _move(build, Status.SUCCESS if result.ok else Status.FAILED, **fields)


# --- Failure and reaping ------------------------------------------------------------------------


def build_fail(*, build_pk: int, reason: str) -> Build | None:
    """Fail a queued or building build with ``reason`` and stop its workload; a final one stays."""
    with transaction.atomic():
        build = _lock(build_pk)
        if build is None or build.status in FINAL_STATUSES:
            return build
        _stop_build_workload(build)
        logs.BuildLog(build_pk=build.pk, build_id=build.build_id).write(reason)
        return _move(build, Status.FAILED, error_message=reason[:2000], finished_at=timezone.now())


def _stop_build_workload(build: Build) -> None:
    if build.builder != "local":
        return
    try:
        registry.get_backend().stop(build.build_id)
    except RuntimeBackendError:
        logger.warning("Could not stop the workload of build %s", build.build_id, exc_info=True)
    env_cache.discard_staging(build.build_id)


def builds_fail_stuck() -> list[str]:
    """Fail every build queued or building for longer than the time limit: nothing builds forever.

    Returns the ``build_id`` of each build it failed.
    """
    limit = settings.BUILD_TIMEOUT_SECONDS + REAPER_GRACE_SECONDS
    cutoff = timezone.now() - timedelta(seconds=limit)
    stuck = Build.objects.filter(status__in=(Status.QUEUED, Status.BUILDING)).filter(
        Q(started_at__lt=cutoff) | Q(started_at__isnull=True, created_at__lt=cutoff)
    )
    failed = []
    for build_pk in stuck.values_list("pk", flat=True):
        build = build_fail(build_pk=build_pk, reason=f"Build did not finish within {limit} s")
        if build is not None and build.status == Status.FAILED:
            failed.append(build.build_id)
    return failed
