"""The Cloud Build builder: the generated Dockerfile built by Google Cloud Build and pushed to
Artifact Registry as ``{region}-docker.pkg.dev/{project}/{repo}/notebook-{id}:{build_id}``.

The sources go up as a tarball to ``GCP_BUILD_BUCKET`` (Cloud Build has no inline source), the build
is submitted with one docker step, then polled until it ends. No Google project is reachable from
these machines, so this module is tested only at the client boundary.
"""

import io
import logging
import tarfile
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from google.api_core import exceptions as google_exceptions
from google.cloud.devtools import cloudbuild_v1
from google.protobuf import duration_pb2

from apps.builds.builders.base import Builder, BuildResult, ExternalCallback
from apps.builds.logs import BuildLog
from apps.builds.models import Build

logger = logging.getLogger(__name__)

POLL_SECONDS = 5.0
DOCKER_BUILDER = "gcr.io/cloud-builders/docker"
_RemoteStatus = cloudbuild_v1.Build.Status
_RUNNING = {_RemoteStatus.STATUS_UNKNOWN, _RemoteStatus.PENDING, _RemoteStatus.QUEUED, _RemoteStatus.WORKING}


def cloudbuild_client() -> cloudbuild_v1.CloudBuildClient:
    """A Cloud Build client with the application default credentials."""
    return cloudbuild_v1.CloudBuildClient()


def storage_client() -> Any:
    """A Cloud Storage client for the project."""
    from google.cloud import storage

    return storage.Client(project=settings.GCP_PROJECT_ID)


def map_status(status: int) -> str:
    """Cloud Build's status as one of ours: ``building``, ``success`` or ``failed``."""
    if status == _RemoteStatus.SUCCESS:
        return Build.Status.SUCCESS
    if status in _RUNNING:
        return Build.Status.BUILDING
    return Build.Status.FAILED


def console_url(remote_id: str) -> str:
    """The Google Cloud console page of a build, with its logs."""
    return f"https://console.cloud.google.com/cloud-build/builds/{remote_id}?project={settings.GCP_PROJECT_ID}"


def source_tarball(source_path: str) -> bytes:
    """The build's sources (main.py, requirements.txt, Dockerfile, app files) as a .tar.gz."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in sorted(Path(source_path).rglob("*")):
            if path.is_file() and not path.is_symlink():
                archive.add(path, arcname=str(path.relative_to(source_path)), recursive=False)
    return buffer.getvalue()


def build_request(*, image: str, bucket: str, object_name: str, notebook_id: int) -> cloudbuild_v1.Build:
    """The Cloud Build request: build the sources' Dockerfile and push the image."""
    return cloudbuild_v1.Build(
        source=cloudbuild_v1.Source(storage_source=cloudbuild_v1.StorageSource(bucket=bucket, object_=object_name)),
        steps=[cloudbuild_v1.BuildStep(name=DOCKER_BUILDER, args=["build", "-t", image, "."])],
        images=[image],
        timeout=duration_pb2.Duration(seconds=settings.BUILD_TIMEOUT_SECONDS),
        tags=["hangar", f"notebook-{notebook_id}"],
    )


class CloudBuildBuilder(Builder):
    """Submits the build to Cloud Build and follows it to the end."""

    name = "cloudbuild"

    def image_name(self, build: Build) -> str:
        """The Artifact Registry image the build pushes."""
        registry = f"{settings.GCP_REGION}-docker.pkg.dev/{settings.GCP_PROJECT_ID}/{settings.GCP_ARTIFACT_REPOSITORY}"
        return f"{registry}/notebook-{build.notebook_id}:{build.build_id}"

    def build(self, build: Build, log: BuildLog, *, on_external: ExternalCallback | None = None) -> BuildResult:
        """Upload the sources, submit, poll; Google's errors become a failed build, never a crash."""
        image = build.image_name or self.image_name(build)
        if not settings.GCP_PROJECT_ID or not settings.GCP_BUILD_BUCKET:
            return _failed(log, "Cloud Build is not configured: set GCP_PROJECT_ID and GCP_BUILD_BUCKET", image)
        try:
            remote_id = self._submit(build, log, image)
        except google_exceptions.GoogleAPIError as exc:
            logger.warning("Cloud Build submission of %s failed: %s", build.build_id, exc)
            return _failed(log, f"Cloud Build refused the build: {exc}", image)
        log_url = console_url(remote_id)
        log.write(f"Cloud Build {remote_id} submitted; logs: {log_url}")
        if on_external is not None:
            on_external(remote_id, log_url)
        result = self._follow(remote_id, log, image)
        result.external_id, result.external_log_url = remote_id, log_url
        return result

    def _submit(self, build: Build, log: BuildLog, image: str) -> str:
        object_name = f"sources/{build.build_id}.tar.gz"
        data = source_tarball(build.source_path)
        blob = storage_client().bucket(settings.GCP_BUILD_BUCKET).blob(object_name)
        blob.upload_from_string(data, content_type="application/gzip")
        log.write(f"Uploaded {len(data)} bytes of sources to gs://{settings.GCP_BUILD_BUCKET}/{object_name}")
        request = build_request(
            image=image, bucket=settings.GCP_BUILD_BUCKET, object_name=object_name, notebook_id=build.notebook_id
        )
        operation = cloudbuild_client().create_build(project_id=settings.GCP_PROJECT_ID, build=request)
        return operation.metadata.build.id

    def _follow(self, remote_id: str, log: BuildLog, image: str) -> BuildResult:
        client = cloudbuild_client()
        deadline = time.monotonic() + settings.BUILD_TIMEOUT_SECONDS
        last_status = None
        while True:
            try:
                remote = client.get_build(project_id=settings.GCP_PROJECT_ID, id=remote_id)
            except google_exceptions.GoogleAPIError as exc:
                return _failed(log, f"Could not follow Cloud Build {remote_id}: {exc}", image)
            if remote.status != last_status:
                last_status = remote.status
                log.write(f"Cloud Build status: {_RemoteStatus(remote.status).name}")
            outcome = map_status(remote.status)
            if outcome == Build.Status.SUCCESS:
                return BuildResult(ok=True, image_name=image)
            if outcome == Build.Status.FAILED:
                reason = remote.status_detail or _RemoteStatus(remote.status).name
                return _failed(log, f"Cloud Build ended {_RemoteStatus(remote.status).name}: {reason}", image)
            if time.monotonic() >= deadline:
                _cancel(client, remote_id)
                return _failed(log, f"Build timed out after {settings.BUILD_TIMEOUT_SECONDS} s", image)
            time.sleep(POLL_SECONDS)


def _cancel(client: cloudbuild_v1.CloudBuildClient, remote_id: str) -> None:
    try:
        client.cancel_build(project_id=settings.GCP_PROJECT_ID, id=remote_id)
    except google_exceptions.GoogleAPIError:
        logger.warning("Could not cancel Cloud Build %s", remote_id, exc_info=True)


def _failed(log: BuildLog, message: str, image: str) -> BuildResult:
    log.write(message)
    return BuildResult(ok=False, error_message=message, image_name=image)
