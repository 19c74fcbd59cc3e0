"""The work of each pipeline step, done through the notebooks, builds and deployments services.

Each function takes the pipeline, does its step, records what it made on the pipeline row, and
raises :class:`HangarError` with the user's reason when the step fails. Steps may run again after
a worker died mid-step (``acks_late``), so each reuses what an earlier run already finished.
"""

from django.db import transaction
from packaging.requirements import InvalidRequirement, Requirement

from apps.core.errors import ErrorCode, HangarError
from apps.deployments import notebooks_api
from apps.deployments.models import Pipeline


def _failure(detail: str) -> HangarError:
    return HangarError(detail, error_code=ErrorCode.BAD_REQUEST, status_code=400)


def step_parse(pipeline: Pipeline) -> None:
    """Extract the code cells and the app from the notebook (``notebook_parse``)."""
    notebook = notebooks_api.notebook_parse(notebook=pipeline.notebook)
    if notebook.status == notebook.Status.FAILED:
        raise _failure(notebook.error_message or "the notebook could not be parsed")


def requirement_lines(requirements_txt: str) -> list[str]:
    """The requirement lines of a requirements.txt, without comments and blank lines."""
    lines = []
    for raw in requirements_txt.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def step_dependencies(pipeline: Pipeline) -> None:
    """Check the dependencies parsing found: every generated requirement must be a valid PEP 508
    requirement, so the build does not start with a requirements file pip would refuse."""
    notebook = pipeline.notebook
    notebook.refresh_from_db()
    for line in requirement_lines(notebook.requirements_txt):
        if line.startswith("-"):
            raise _failure(f"requirements.txt holds a pip option, which is not allowed: {line!r}")
        try:
            Requirement(line)
        except InvalidRequirement as exc:
            raise _failure(f"invalid requirement {line!r}: {exc}") from None


def step_upload(pipeline: Pipeline) -> None:
    """Hand the generated sources to the builder: a queued build of the parsed notebook, whose
    builder writes main.py, requirements.txt and the Dockerfile into its source folder."""
    if pipeline.build_id is not None:
        return  # an earlier run of this step already made the build
    from apps.builds.services import build_create

    notebook = pipeline.notebook
    notebook.refresh_from_db()
    if not notebook.main_py.strip():
        raise _failure("parsing generated no main.py to build")
    with transaction.atomic():
        build = build_create(owner=pipeline.owner, notebook=notebook)
        Pipeline.objects.filter(pk=pipeline.pk).update(build=build)
    pipeline.build = build


def step_build(pipeline: Pipeline) -> None:
    """Build the container image or environment (``build_execute``, synchronous)."""
    from apps.builds.services import build_create, build_execute

    build = pipeline.build
    if build is None:
        raise _failure("no build was created by the upload step")
    build.refresh_from_db()
    if build.status not in (build.Status.QUEUED, build.Status.SUCCESS, build.Status.FAILED):
        # A worker died mid-build: that build cannot resume, so a fresh one takes its place.
        build = build_create(owner=pipeline.owner, notebook=pipeline.notebook)
        Pipeline.objects.filter(pk=pipeline.pk).update(build=build)
    if build.status == build.Status.QUEUED:
        build = build_execute(build=build)
    if build.status != build.Status.SUCCESS:
        raise _failure(build.error_message or f"build {build.build_id} ended {build.status}")


def step_deploy(pipeline: Pipeline) -> None:
    """Deploy the build with the pipeline's options (``deployment_create`` then ``deployment_execute``)."""
    from apps.deployments.services.deployments import deployment_create, deployment_execute

    deployment = pipeline.deployment
    if deployment is not None:
        deployment.refresh_from_db()
        if deployment.status == deployment.Status.DEPLOYED:
            return
    options = pipeline.options
    deployment = deployment_create(
        owner=pipeline.owner,
        notebook=pipeline.notebook,
        build=pipeline.build,
        cpu=str(options.get("cpu", "1")),
        memory=str(options.get("memory", "512Mi")),
        min_instances=int(options.get("min_instances", 0)),
        max_instances=int(options.get("max_instances", 10)),
    )
    Pipeline.objects.filter(pk=pipeline.pk).update(deployment=deployment)
    deployment = deployment_execute(deployment=deployment)
    if deployment.status != deployment.Status.DEPLOYED:
        raise _failure(deployment.error_message or f"deployment ended {deployment.status}")
