"""Deployment writes: create, trigger, execute (start and switch traffic), stop, redeploy.

A deployment is one revision of a notebook's app. Revisions of one notebook share its
``service_name`` and so its URL; the proxy routes to the newest deployed one. ``deployment_execute``
starts a revision beside the one serving, switches traffic when the new one is healthy, and only
then retires the old one, so a redeploy has no downtime and a failed one leaves the old serving.
Every status change goes through :func:`move_deployment` (state machine plus activity log).
"""

import logging
import time
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone

from apps.activity.models import Activity
from apps.activity.services import activity_record
from apps.builds.models import Build
from apps.core.errors import ErrorCode, HangarError, NotFound
from apps.deployments.deployers import DeployFailed, default_name, get_deployer
from apps.deployments.models import Deployment
from apps.deployments.proxy import routes
from apps.deployments.quantities import parse_cpu, parse_memory
from apps.notebooks.models import Notebook

logger = logging.getLogger(__name__)

Status = Deployment.Status
MAX_INSTANCES_LIMIT = 100
_ACTION_FOR_STATUS = {
    Status.DEPLOYED: "deployment_deployed",
    Status.FAILED: "deployment_failed",
    Status.STOPPED: "deployment_stopped",
}


# --- helpers ------------------------------------------------------------------------------------


def service_name_for(notebook: Notebook) -> str:
    """The notebook's stable service name (``notebook-<notebook id>-<owner id>``), kept by redeploys."""
    return f"notebook-{notebook.pk}-{notebook.owner_id}"


def proxy_url(service_name: str, *, base_url: str = "") -> str:
    """The app's public URL: ``{APPS_PUBLIC_URL or PUBLIC_URL or the request's origin}/apps/<name>/``."""
    base = (settings.APPS_PUBLIC_URL or settings.PUBLIC_URL or base_url).rstrip("/")
    return f"{base}/apps/{service_name}/"


def record(deployment: Deployment, action: str, details: str, *, failed: bool = False, request=None) -> None:
    """One activity entry about ``deployment``."""
    activity_record(
        user=deployment.owner,
        action=action,
        details=details,
        status=Activity.Status.FAILURE if failed else Activity.Status.SUCCESS,
        request=request,
        metadata={
            "deployment_id": deployment.pk,
            "service_name": deployment.service_name,
            "revision": deployment.revision,
            "status": deployment.status,
        },
    )


def move_deployment(
    deployment: Deployment, target: str, *, reason: str = "", request: HttpRequest | None = None
) -> Deployment:
    """Apply one transition (409 if illegal), save, and record it."""
    previous = deployment.status
    deployment.transition_to(target)
    if target in (Status.STOPPED, Status.FAILED):
        deployment.instances = 0
        deployment.stopped_at = timezone.now()
    deployment.save()
    details = f"Deployment {deployment.pk} ({deployment.service_name} r{deployment.revision}): {previous} -> {target}"
    record(
        deployment,
        _ACTION_FOR_STATUS.get(target, "deployment_updated"),
        details + (f" ({reason.splitlines()[0][:200]})" if reason else ""),
        failed=target == Status.FAILED,
        request=request,
    )
    return deployment


def lock_deployment(deployment_id: int) -> Deployment | None:
    """The deployment, row-locked until the surrounding transaction ends."""
    return (
        Deployment.objects.select_for_update(of=("self",))
        .select_related("owner", "build", "notebook")
        .filter(pk=deployment_id)
        .first()
    )


def publish_on_commit(service_name: str) -> None:
    """Share the service's new route once the transaction commits."""
    transaction.on_commit(lambda: routes.publish(service_name))


def _move_notebook(notebook_id: int, target: str) -> None:
    """Follow the notebook's status through deploys, where its state machine allows it."""
    notebook = Notebook.objects.select_for_update().filter(pk=notebook_id).first()
    if notebook is not None and notebook.status != target and notebook.can_transition(target):
        notebook.transition_to(target)
        notebook.save(update_fields=["status", "updated_at"])


def validate_resources(*, cpu: str, memory: str, min_instances: int, max_instances: int) -> None:
    """400 ``VALIDATION_ERROR`` naming the field for bad quantities or instance bounds."""
    errors: dict[str, list[str]] = {}
    for field, parse, value in (("cpu", parse_cpu, cpu), ("memory", parse_memory, memory)):
        try:
            parse(value)
        except ValueError as exc:
            errors[field] = [str(exc)]
    if not 1 <= max_instances <= MAX_INSTANCES_LIMIT:
        errors["max_instances"] = [f"Must be between 1 and {MAX_INSTANCES_LIMIT}."]
    if not 0 <= min_instances <= max_instances:
        errors["min_instances"] = ["Must be between 0 and max_instances."]
    if errors:
        field, messages = next(iter(errors.items()))
        raise HangarError(f"{field}: {messages[0]}", error_code=ErrorCode.VALIDATION_ERROR, status_code=400)


# --- create, trigger, execute -------------------------------------------------------------------


def deployment_create(
    *,
    owner: Any,
    notebook: Notebook,
    build: Build,
    cpu: str = "1",
    memory: str = "512Mi",
    min_instances: int = 0,
    max_instances: int = 10,
    request: HttpRequest | None = None,
) -> Deployment:
    """A new revision of ``notebook``'s app, in ``deploying`` (nothing is started yet).

    404 when the notebook or build is not the owner's; 400 when the build belongs to another
    notebook, 400 ``BUILD_NOT_READY`` unless it succeeded; 400 for bad resources.
    """
    if notebook.owner_id != owner.pk or build.owner_id != owner.pk:
        raise NotFound("Notebook or build not found")
    if build.notebook_id != notebook.pk:
        raise HangarError(
            f"Build {build.build_id} is not a build of notebook {notebook.pk}",
            error_code=ErrorCode.BAD_REQUEST,
            status_code=400,
        )
    if build.status != Build.Status.SUCCESS:
        raise HangarError(
            f"Build {build.build_id} is not ready to deploy. Current status: {build.status}",
            error_code=ErrorCode.BUILD_NOT_READY,
            status_code=400,
        )
    validate_resources(cpu=cpu, memory=memory, min_instances=min_instances, max_instances=max_instances)
    service_name = service_name_for(notebook)
    base_url = request.build_absolute_uri("/") if request is not None else ""
    with transaction.atomic():
        # Lock the notebook so two deploys at once cannot take the same revision number.
        Notebook.objects.select_for_update().filter(pk=notebook.pk).first()
        latest = Deployment.objects.filter(service_name=service_name).aggregate(top=Max("revision"))["top"] or 0
        deployment = Deployment.objects.create(
            owner=owner,
            notebook=notebook,
            build=build,
            service_name=service_name,
            revision=latest + 1,
            deployer=default_name(),
            cpu=str(cpu),
            memory=str(memory),
            min_instances=min_instances,
            max_instances=max_instances,
            service_url=proxy_url(service_name, base_url=base_url),
        )
        _move_notebook(notebook.pk, Notebook.Status.DEPLOYING)
        record(
            deployment,
            "deployment_created",
            f"Deploying build {build.build_id} as {service_name} revision {deployment.revision}",
            request=request,
        )
    return deployment


def deployment_trigger(**kwargs: Any) -> Deployment:
    """``deployment_create``, then run it in a Celery task once the transaction commits."""
    from apps.deployments import tasks

    with transaction.atomic():
        deployment = deployment_create(**kwargs)
        transaction.on_commit(lambda: tasks.execute_deployment.delay(deployment.pk))
    return deployment


def deployment_execute(*, deployment: Deployment) -> Deployment:
    """Start the revision and, once healthy, switch traffic to it and retire the previous one.

    Runs to completion: ``deployed``, or ``failed`` with the app's log in ``error_message``. Never
    raises for a failed app. Safe to run twice (only a ``deploying`` revision is touched).
    """
    with transaction.atomic():
        current = lock_deployment(deployment.pk)
        if current is None or current.status != Status.DEPLOYING:
            return current or deployment
    deployer = get_deployer(current.deployer)
    try:
        revision = deployer.start(current)
    except DeployFailed as exc:
        return deployment_fail(deployment_id=current.pk, message=exc.error_message())
    except Exception:
        logger.exception("Deploying %s failed", current.pk)
        stop_quietly(current)
        return deployment_fail(deployment_id=current.pk, message="The deployment failed: internal error")
    superseded = _switch(current.pk, revision)
    if superseded is None:
        # Stopped (or failed) while it was starting: do not leave it running.
        stop_quietly(current)
        return Deployment.objects.get(pk=current.pk)
    if superseded:
        # The old revisions serve whoever still routes to them from a process's memory.
        time.sleep(settings.DEPLOY_DRAIN_SECONDS)
        for old in superseded:
            _retire_quietly(old)
    return Deployment.objects.get(pk=current.pk)


def _switch(deployment_id: int, revision: Any) -> list[Deployment] | None:
    """Mark the revision deployed and the older deployed ones stopped; None if it is no longer
    deploying. Returns the superseded revisions, whose instances the caller retires."""
    with transaction.atomic():
        deployment = lock_deployment(deployment_id)
        if deployment is None or deployment.status != Status.DEPLOYING:
            return None
        now = timezone.now()
        deployment.instances = 1
        deployment.runtime_state = {**revision.state, "target": revision.target}
        if revision.service_url:
            deployment.service_url = revision.service_url
        deployment.deployed_at = now
        deployment.last_request_at = now
        deployment.error_message = ""
        move_deployment(deployment, Status.DEPLOYED)
        superseded = list(
            Deployment.objects.select_for_update()
            .filter(service_name=deployment.service_name, status=Status.DEPLOYED)
            .exclude(pk=deployment.pk)
        )
        for old in superseded:
            move_deployment(old, Status.STOPPED, reason=f"superseded by revision {deployment.revision}")
        _move_notebook(deployment.notebook_id, Notebook.Status.DEPLOYED)
        publish_on_commit(deployment.service_name)
    return superseded


def deployment_fail(*, deployment_id: int, message: str) -> Deployment:
    """Mark ``failed`` with ``message``; the notebook fails too unless another revision serves."""
    with transaction.atomic():
        deployment = lock_deployment(deployment_id)
        if deployment is None or deployment.status in (Status.FAILED, Status.STOPPED):
            return deployment
        deployment.error_message = message[:20000]
        move_deployment(deployment, Status.FAILED, reason=message)
        serving = Deployment.objects.filter(service_name=deployment.service_name, status=Status.DEPLOYED).exists()
        _move_notebook(deployment.notebook_id, Notebook.Status.DEPLOYED if serving else Notebook.Status.FAILED)
        publish_on_commit(deployment.service_name)
    return deployment


def stop_quietly(deployment: Deployment) -> None:
    """Stop the revision's instances during cleanup; a failure is logged, not raised."""
    try:
        get_deployer(deployment.deployer).stop(deployment)
    except Exception:
        logger.warning("Could not stop deployment %s", deployment.pk, exc_info=True)


def _retire_quietly(deployment: Deployment) -> None:
    try:
        get_deployer(deployment.deployer).retire(deployment)
    except Exception:
        logger.warning("Could not retire deployment %s", deployment.pk, exc_info=True)


# --- stop, redeploy -----------------------------------------------------------------------------


def deployment_stop(*, deployment: Deployment, request: HttpRequest | None = None) -> Deployment:
    """Stop the revision (409 for a failed one); its URL answers 503 until a new deploy."""
    with transaction.atomic():
        deployment = lock_deployment(deployment.pk)
        if deployment.status == Status.STOPPED:
            return deployment
        move_deployment(deployment, Status.STOPPED, reason="stop requested", request=request)
        publish_on_commit(deployment.service_name)
    stop_quietly(deployment)
    return deployment


def deployment_redeploy(*, deployment: Deployment, request: HttpRequest | None = None) -> Deployment:
    """A new revision from the same build and settings, started beside the current one."""
    return deployment_trigger(
        owner=deployment.owner,
        notebook=deployment.notebook,
        build=deployment.build,
        cpu=deployment.cpu,
        memory=deployment.memory,
        min_instances=deployment.min_instances,
        max_instances=deployment.max_instances,
        request=request,
    )
