"""GitHub and GitLab webhooks against a local bare git repository (no internet)."""

import json
import uuid
from urllib.parse import urlencode

import pytest
from django.conf import settings

from apps.builds.models import Build
from apps.deployments import tasks_pipelines
from apps.deployments.models import Deployment, Pipeline, RepositoryLink, WebhookDelivery
from apps.deployments.services.pipelines import pipeline_start
from apps.deployments.services.repository_links import repository_link_set
from apps.deployments.services.webhooks import NotebookBusy, repository_link_sync
from apps.deployments.tests.pipeline_support import (  # noqa: F401
    BareRepo,
    github_signature,
    make_notebook,
    media_root,
    notebook_json,
    notebook_text,
)

pytestmark = pytest.mark.django_db

SECRET = "webhook-secret-1"
PATH = "notebooks/app.ipynb"


@pytest.fixture
def repo(tmp_path) -> BareRepo:
    repo = BareRepo(tmp_path / "git")
    repo.commit({PATH: notebook_json("print('first')"), "README.md": b"hi\n"}, message="first")
    return repo


@pytest.fixture
def notebook(user):
    return make_notebook(user, content=notebook_json("print('original')"))


@pytest.fixture
def link(user, notebook, repo) -> RepositoryLink:
    link, _ = repository_link_set(
        owner=user, notebook=notebook, repo_url=repo.url, branch="main", path=PATH, secret=SECRET
    )
    return link


def _push_payload(repo: BareRepo, *, ref: str = "refs/heads/main", after: str = "", changed=None) -> dict:
    payload = {
        "ref": ref,
        "before": "0" * 40,
        "after": after or "a" * 40,
        "repository": {"clone_url": repo.url, "html_url": repo.url, "full_name": "owner/repo"},
    }
    if changed is not None:
        payload["commits"] = [{"id": after, "added": [], "removed": [], "modified": changed}]
    return payload


def _github(client, payload, *, event="push", secret=SECRET, delivery=None, signature=None, raw=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {"HTTP_X_GITHUB_EVENT": event, "HTTP_X_GITHUB_DELIVERY": delivery or str(uuid.uuid4())}
    if signature is not False:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature or github_signature(secret, body)
    return client.generic("POST", "/api/v1/webhooks/github", body, content_type="application/json", **headers)


def _gitlab(client, payload, *, token=SECRET, event="Push Hook", delivery=None):
    headers = {"HTTP_X_GITLAB_EVENT": event, "HTTP_X_GITLAB_EVENT_UUID": delivery or str(uuid.uuid4())}
    if token is not None:
        headers["HTTP_X_GITLAB_TOKEN"] = token
    return client.post("/api/v1/webhooks/gitlab", json.dumps(payload), content_type="application/json", **headers)


def test_ping_with_a_good_signature_answers_200(api_client, link, repo):
    response = _github(api_client, {"zen": "Keep it simple.", "repository": {"clone_url": repo.url}}, event="ping")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert WebhookDelivery.objects.filter(provider="github", event="ping").count() == 1


@pytest.mark.parametrize("signature", ["sha256=" + "0" * 64, "sha1=abc", "garbage", False])
def test_bad_or_missing_signature_is_401(api_client, link, repo, signature):
    response = _github(api_client, _push_payload(repo), signature=signature)
    assert response.status_code == 401
    body = response.json()
    assert body["error_code"] == "WEBHOOK_SIGNATURE_INVALID"
    assert set(body) >= {"detail", "error_code", "timestamp"}
    assert not WebhookDelivery.objects.exists()


def test_signature_with_another_secret_or_for_an_unlinked_repository_is_401(api_client, link, repo):
    assert _github(api_client, _push_payload(repo), secret="not-the-secret").status_code == 401
    payload = _push_payload(repo)
    payload["repository"] = {"clone_url": "https://github.com/someone/else.git"}
    assert _github(api_client, payload).status_code == 401


def test_malformed_json_is_400(api_client, link):
    response = _github(api_client, None, raw=b"{not json")
    assert response.status_code == 400
    assert response.json()["error_code"] == "MALFORMED_JSON"
    assert _github(api_client, None, raw=b"[1, 2]").status_code == 400
    gitlab = api_client.post("/api/v1/webhooks/gitlab", "nope", content_type="application/json")
    assert gitlab.status_code == 400


def test_push_to_another_branch_is_ignored(api_client, link, repo, django_capture_on_commit_callbacks):
    repo.commit({PATH: notebook_json("print('dev')")}, branch="dev")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _github(api_client, _push_payload(repo, ref="refs/heads/dev"))
    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert callbacks == []
    assert not Pipeline.objects.exists()


def test_push_that_does_not_touch_the_linked_path_is_ignored(api_client, link, repo):
    response = _github(api_client, _push_payload(repo, changed=["README.md"]))
    assert response.status_code == 200
    assert response.json()["status"] == "ignored"


def test_push_to_the_linked_branch_takes_the_new_notebook_and_starts_a_pipeline(
    api_client, link, repo, notebook, django_capture_on_commit_callbacks
):
    new_content = notebook_json("print('second revision')")
    commit = repo.commit({PATH: new_content}, message="second")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _github(api_client, _push_payload(repo, after=commit, changed=[PATH]))
    assert response.status_code == 202, response.json()
    assert response.json()["pipelines_queued"] == 1
    assert response.json()["notebook_ids"] == [notebook.pk]
    assert len(callbacks) == 1
    # Run the queued sync task (Celery is eager); the pipeline it starts is only queued, not run.
    with django_capture_on_commit_callbacks(execute=False) as pipeline_callbacks:
        callbacks[0]()
    notebook.refresh_from_db()
    assert notebook_text(notebook) == new_content
    pipeline = Pipeline.objects.get(notebook=notebook)
    assert pipeline.trigger == "webhook"
    assert pipeline.status == "processing" and pipeline.current_step == "parse"
    assert pipeline.pipeline_id.startswith(f"pipeline-{notebook.pk}-")
    assert len(pipeline_callbacks) >= 1  # the parse step is queued once the transaction commits
    link.refresh_from_db()
    assert link.last_commit == commit


def test_a_commit_already_taken_is_not_taken_again(api_client, link, repo, django_capture_on_commit_callbacks):
    commit = repo.commit({PATH: notebook_json("print('x')")})
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            _github(api_client, _push_payload(repo, after=commit))
        with django_capture_on_commit_callbacks(execute=False):
            callbacks[0]()
    assert Pipeline.objects.count() == 1


def test_duplicate_delivery_is_acknowledged_once(api_client, link, repo, django_capture_on_commit_callbacks):
    delivery = str(uuid.uuid4())
    with django_capture_on_commit_callbacks(execute=False) as first:
        assert _github(api_client, _push_payload(repo), delivery=delivery).status_code == 202
    with django_capture_on_commit_callbacks(execute=False) as second:
        response = _github(api_client, _push_payload(repo), delivery=delivery)
    assert response.status_code == 200
    assert response.json()["status"] == "duplicate"
    assert len(first) == 1 and second == []
    assert WebhookDelivery.objects.get(delivery_id=delivery).pipelines_started == 1


def test_a_missing_file_fails_the_pipeline_with_the_reason(
    api_client, user, notebook, repo, django_capture_on_commit_callbacks
):
    repository_link_set(
        owner=user, notebook=notebook, repo_url=repo.url, branch="main", path="missing.ipynb", secret=SECRET
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert _github(api_client, _push_payload(repo)).status_code == 202
    with django_capture_on_commit_callbacks(execute=False):
        callbacks[0]()
    pipeline = Pipeline.objects.get(notebook=notebook)
    assert pipeline.status == "failed"
    assert pipeline.error_message.startswith("parse failed: could not fetch the notebook")
    assert "missing.ipynb" in pipeline.error_message


def test_unreachable_repository_fails_the_pipeline_with_gits_reason(
    api_client, link, repo, tmp_path, django_capture_on_commit_callbacks
):
    RepositoryLink.objects.filter(pk=link.pk).update(repo_url=f"file://{tmp_path}/gone.git")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert _github(api_client, _push_payload(repo)).status_code == 202
    with django_capture_on_commit_callbacks(execute=False):
        callbacks[0]()
    pipeline = Pipeline.objects.get()
    assert pipeline.status == "failed"
    assert "git clone" in pipeline.error_message


def test_gitlab_token_push_and_duplicate(api_client, user, repo, django_capture_on_commit_callbacks):
    notebook = make_notebook(user, name="lab")
    repository_link_set(
        owner=user, notebook=notebook, repo_url=repo.url, branch="main", path=PATH, secret=SECRET, provider="gitlab"
    )
    commit = repo.commit({PATH: notebook_json("print('from gitlab')")})
    payload = {
        "object_kind": "push",
        "ref": "refs/heads/main",
        "after": commit,
        "project": {"git_http_url": repo.url, "web_url": repo.url},
        "commits": [{"id": commit, "added": [], "modified": [PATH], "removed": []}],
        "total_commits_count": 1,
    }
    assert _gitlab(api_client, payload, token="wrong-token").status_code == 401
    assert _gitlab(api_client, payload, token=None).status_code == 401
    assert _github(api_client, {**payload, "repository": {"clone_url": repo.url}}).status_code == 401
    delivery = str(uuid.uuid4())
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _gitlab(api_client, payload, delivery=delivery)
    assert response.status_code == 202, response.json()
    assert _gitlab(api_client, payload, delivery=delivery).json()["status"] == "duplicate"
    ignored = _gitlab(api_client, payload, event="Tag Push Hook")
    assert ignored.status_code == 200 and ignored.json()["status"] == "ignored"
    with django_capture_on_commit_callbacks(execute=False):
        callbacks[0]()
    notebook.refresh_from_db()
    assert b"from gitlab" in notebook_text(notebook)
    assert Pipeline.objects.get(notebook=notebook).trigger == "webhook"


def test_gitlab_idempotency_key_header(api_client, user, repo):
    notebook = make_notebook(user, name="lab")
    repository_link_set(
        owner=user, notebook=notebook, repo_url=repo.url, branch="main", path=PATH, secret=SECRET, provider="gitlab"
    )
    payload = {"object_kind": "push", "ref": "refs/heads/other", "project": {"git_http_url": repo.url}}
    headers = {"HTTP_X_GITLAB_TOKEN": SECRET, "HTTP_X_GITLAB_EVENT": "Push Hook", "HTTP_IDEMPOTENCY_KEY": "k-1"}
    first = api_client.post("/api/v1/webhooks/gitlab", json.dumps(payload), content_type="application/json", **headers)
    again = api_client.post("/api/v1/webhooks/gitlab", json.dumps(payload), content_type="application/json", **headers)
    assert first.json()["status"] == "ignored"
    assert again.json()["status"] == "duplicate"


def test_secret_of_another_users_link_does_not_verify_for_mine(api_client, other_user, link, repo):
    """Two tenants link the same repository with different secrets: each delivery reaches only the
    links whose secret signed it."""
    other_notebook = make_notebook(other_user, name="theirs")
    repository_link_set(
        owner=other_user, notebook=other_notebook, repo_url=repo.url, branch="main", path=PATH, secret="their-secret"
    )
    response = _github(api_client, _push_payload(repo), secret="their-secret")
    assert response.status_code == 202
    assert response.json()["notebook_ids"] == [other_notebook.pk]


def test_form_encoded_github_payload_is_verified_over_the_raw_body(api_client, link, repo):
    body = urlencode({"payload": json.dumps({"zen": "hi", "repository": {"clone_url": repo.url}})}).encode()
    response = api_client.generic(
        "POST",
        "/api/v1/webhooks/github",
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_GITHUB_EVENT="ping",
        HTTP_X_GITHUB_DELIVERY=str(uuid.uuid4()),
        HTTP_X_HUB_SIGNATURE_256=github_signature(SECRET, body),
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "ok"


def test_other_github_events_are_acknowledged_and_ignored(api_client, link, repo):
    response = _github(api_client, {"action": "opened", "repository": {"clone_url": repo.url}}, event="issues")
    assert response.status_code == 200
    assert response.json()["status"] == "ignored"


def test_a_deleted_branch_is_ignored(api_client, link, repo):
    payload = {**_push_payload(repo, after="0" * 40), "deleted": True}
    response = _github(api_client, payload)
    assert response.status_code == 200
    assert response.json()["reason"] == "the branch was deleted"


def test_a_push_redeploys_with_the_resources_of_the_last_deployment(
    api_client, link, repo, notebook, django_capture_on_commit_callbacks
):
    build = Build.objects.create(owner=notebook.owner, notebook=notebook, build_id="build-x-1", status="success")
    Deployment.objects.create(
        owner=notebook.owner, notebook=notebook, build=build, service_name="n", cpu="2", memory="1Gi", max_instances=3
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _github(api_client, _push_payload(repo))
    with django_capture_on_commit_callbacks(execute=False):
        callbacks[0]()
    options = Pipeline.objects.get(notebook=notebook).options
    assert options == {"cpu": "2", "memory": "1Gi", "min_instances": 0, "max_instances": 3}


def test_a_push_waits_while_the_notebooks_pipeline_runs_then_supersedes_it(
    link, repo, notebook, django_capture_on_commit_callbacks
):
    running = pipeline_start(owner=notebook.owner, notebook=notebook)
    commit = repo.commit({PATH: notebook_json("print('while busy')")})
    with pytest.raises(NotebookBusy):
        repository_link_sync(link_pk=link.pk, delivery="d-1", commit=commit)
    # The task retries later; its last attempt goes ahead and supersedes the running pipeline.
    with django_capture_on_commit_callbacks(execute=False):
        pipeline = repository_link_sync(link_pk=link.pk, delivery="d-1", commit=commit, force=True)
    running.refresh_from_db()
    assert running.status == "failed" and "superseded" in running.error_message
    assert pipeline.status == "processing" and pipeline.trigger == "webhook"
    assert (
        sum(settings.PIPELINE_STEP_TIMEOUTS.values())
        <= tasks_pipelines.SYNC_MAX_RETRIES * tasks_pipelines.SYNC_RETRY_SECONDS
    )
