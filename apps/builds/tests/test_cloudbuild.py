"""The Cloud Build builder, tested only at the client boundary: no Google project is reachable from
these machines, so the Cloud Build and Cloud Storage clients are stand-ins that record what they are
asked. Everything on Hangar's side (sources, the request, polling, status mapping, the build's
status and log) is real."""

import io
import tarfile
from types import SimpleNamespace

import pytest
from google.api_core import exceptions as google_exceptions
from google.cloud.devtools import cloudbuild_v1

from apps.builds import logs, services
from apps.builds.builders import cloudbuild, get_builder
from apps.builds.models import Build
from apps.builds.tests.conftest import make_notebook

Remote = cloudbuild_v1.Build.Status


class FakeBlob:
    def __init__(self, store: dict, name: str) -> None:
        self.store, self.name = store, name

    def upload_from_string(self, data: bytes, content_type: str) -> None:
        self.store[self.name] = (data, content_type)


class FakeStorage:
    def __init__(self) -> None:
        self.uploads: dict = {}
        self.buckets: list[str] = []

    def bucket(self, name: str) -> SimpleNamespace:
        self.buckets.append(name)
        return SimpleNamespace(blob=lambda object_name: FakeBlob(self.uploads, object_name))


class FakeCloudBuild:
    """Answers ``create_build`` with an operation and ``get_build`` with the next scripted status."""

    def __init__(self, statuses: list[int], *, detail: str = "", refuse: Exception | None = None) -> None:
        self.statuses = list(statuses)
        self.detail = detail
        self.refuse = refuse
        self.created: list[dict] = []
        self.polled = 0
        self.cancelled: list[str] = []

    def create_build(self, *, project_id: str, build: cloudbuild_v1.Build) -> SimpleNamespace:
        if self.refuse is not None:
            raise self.refuse
        self.created.append({"project_id": project_id, "build": build})
        return SimpleNamespace(metadata=SimpleNamespace(build=SimpleNamespace(id="remote-123")))

    def get_build(self, *, project_id: str, id: str) -> cloudbuild_v1.Build:
        assert (project_id, id) == ("proj-1", "remote-123")
        self.polled += 1
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return cloudbuild_v1.Build(id=id, status=status, status_detail=self.detail if status != Remote.SUCCESS else "")

    def cancel_build(self, *, project_id: str, id: str) -> None:
        self.cancelled.append(id)


@pytest.fixture
def gcp(settings, monkeypatch):
    settings.BUILD_BACKEND = "cloudbuild"
    settings.GCP_PROJECT_ID = "proj-1"
    settings.GCP_REGION = "europe-west1"
    settings.GCP_ARTIFACT_REPOSITORY = "apps"
    settings.GCP_BUILD_BUCKET = "hangar-sources"
    monkeypatch.setattr(cloudbuild, "POLL_SECONDS", 0)
    storage = FakeStorage()
    monkeypatch.setattr(cloudbuild, "storage_client", lambda: storage)
    return SimpleNamespace(storage=storage, monkeypatch=monkeypatch)


def use_cloudbuild(gcp, fake: FakeCloudBuild) -> FakeCloudBuild:
    gcp.monkeypatch.setattr(cloudbuild, "cloudbuild_client", lambda: fake)
    return fake


def test_submits_the_exact_request_and_succeeds_cloudbuild_client_boundary(gcp, user_client, user):
    fake = use_cloudbuild(gcp, FakeCloudBuild([Remote.QUEUED, Remote.WORKING, Remote.SUCCESS]))
    notebook = make_notebook(user)
    triggered = user_client.post(f"/api/v1/builds/trigger/{notebook.pk}").json()
    image = f"europe-west1-docker.pkg.dev/proj-1/apps/notebook-{notebook.pk}:{triggered['build_id']}"
    assert triggered["image_name"] == image and triggered["builder"] == "cloudbuild"

    build = services.build_execute(build=Build.objects.get(pk=triggered["id"]))

    assert build.status == "success" and build.image_name == image
    assert build.external_id == "remote-123"
    assert build.external_log_url == "https://console.cloud.google.com/cloud-build/builds/remote-123?project=proj-1"
    [call] = fake.created
    assert call["project_id"] == "proj-1"
    request = call["build"]
    object_name = f"sources/{build.build_id}.tar.gz"
    assert request.source.storage_source.bucket == "hangar-sources"
    assert request.source.storage_source.object_ == object_name
    assert [(step.name, list(step.args)) for step in request.steps] == [
        ("gcr.io/cloud-builders/docker", ["build", "-t", image, "."])
    ]
    assert list(request.images) == [image]
    assert request.timeout.seconds == 900
    assert list(request.tags) == ["hangar", f"notebook-{notebook.pk}"]
    # The uploaded tarball holds the generated sources, Dockerfile included.
    data, content_type = gcp.storage.uploads[object_name]
    assert content_type == "application/gzip" and gcp.storage.buckets == ["hangar-sources"]
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        assert {"main.py", "requirements.txt", "Dockerfile"} <= set(archive.getnames())
    assert fake.polled == 3
    lines = logs.read_lines(build.build_id)
    assert "Cloud Build status: WORKING" in lines and "Cloud Build status: SUCCESS" in lines

    body = user_client.get(f"/api/v1/builds/{build.pk}").json()
    assert body["status"] == "success" and body["external_log_url"] == build.external_log_url
    assert body["log_url"].endswith(f"/api/v1/builds/{build.pk}/logs")


@pytest.mark.parametrize("remote", [Remote.FAILURE, Remote.INTERNAL_ERROR, Remote.TIMEOUT, Remote.CANCELLED])
def test_a_failed_remote_build_fails_with_its_detail_cloudbuild_client_boundary(gcp, user, remote):
    use_cloudbuild(gcp, FakeCloudBuild([Remote.WORKING, remote], detail="step 0 exited with 1"))
    notebook = make_notebook(user)
    build = services.build_execute(build=services.build_create(owner=user, notebook=notebook))
    assert build.status == "failed"
    assert build.error_message == f"Cloud Build ended {Remote(remote).name}: step 0 exited with 1"
    assert build.external_id == "remote-123"  # known before it failed, kept for the console link


def test_a_refused_submission_fails_the_build_cloudbuild_client_boundary(gcp, user):
    use_cloudbuild(gcp, FakeCloudBuild([Remote.SUCCESS], refuse=google_exceptions.PermissionDenied("no access")))
    build = services.build_execute(build=services.build_create(owner=user, notebook=make_notebook(user)))
    assert build.status == "failed" and build.error_message.startswith("Cloud Build refused the build: 403")
    assert build.external_id == ""


def test_a_remote_build_past_the_limit_is_cancelled_cloudbuild_client_boundary(gcp, settings, user):
    settings.BUILD_TIMEOUT_SECONDS = 0
    fake = use_cloudbuild(gcp, FakeCloudBuild([Remote.WORKING]))
    build = services.build_execute(build=services.build_create(owner=user, notebook=make_notebook(user)))
    assert build.status == "failed" and build.error_message == "Build timed out after 0 s"
    assert fake.cancelled == ["remote-123"]


def test_without_a_project_or_bucket_the_build_fails_with_a_reason(settings, user):
    settings.BUILD_BACKEND = "cloudbuild"
    settings.GCP_PROJECT_ID = ""
    build = services.build_execute(build=services.build_create(owner=user, notebook=make_notebook(user)))
    assert build.status == "failed" and "set GCP_PROJECT_ID and GCP_BUILD_BUCKET" in build.error_message


def test_status_mapping_cloudbuild_client_boundary():
    running = [Remote.STATUS_UNKNOWN, Remote.PENDING, Remote.QUEUED, Remote.WORKING]
    assert {cloudbuild.map_status(s) for s in running} == {"building"}
    assert cloudbuild.map_status(Remote.SUCCESS) == "success"
    ended = [Remote.FAILURE, Remote.INTERNAL_ERROR, Remote.TIMEOUT, Remote.CANCELLED, Remote.EXPIRED]
    assert {cloudbuild.map_status(s) for s in ended} == {"failed"}


def test_the_builder_is_chosen_by_settings(settings):
    settings.BUILD_BACKEND = "local"
    assert get_builder().name == "local"
    settings.BUILD_BACKEND = "cloudbuild"
    assert get_builder().name == "cloudbuild"
