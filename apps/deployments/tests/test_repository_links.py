"""Repository links: /api/v1/notebooks/{id}/repository and /api/v1/repositories."""

import pytest

from apps.activity.models import Activity
from apps.core.crypto import MASK, decrypt_text
from apps.deployments.models import RepositoryLink
from apps.deployments.services.repository_links import repo_key
from apps.deployments.tests.pipeline_support import make_notebook, media_root  # noqa: F401

pytestmark = pytest.mark.django_db

SECRET = "s3cret-value-1"


def _url(notebook) -> str:
    return f"/api/v1/notebooks/{notebook.pk}/repository"


def _body(**overrides):
    body = {
        "repo_url": "https://github.com/Owner/Repo.git",
        "branch": "main",
        "path": "notebooks/app.ipynb",
        "secret": SECRET,
    }
    body.update(overrides)
    return body


@pytest.fixture
def notebook(user):
    return make_notebook(user)


def test_link_is_created_then_replaced_and_the_secret_is_only_stored_encrypted(user_client, notebook):
    response = user_client.post(_url(notebook), _body(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["secret"] == MASK
    assert SECRET not in str(body)
    assert body["notebook_id"] == notebook.pk
    assert body["webhook_url"].endswith("/api/v1/webhooks/github")
    link = RepositoryLink.objects.get(notebook=notebook)
    assert SECRET not in link.secret_encrypted
    assert decrypt_text(link.secret_encrypted) == SECRET
    assert link.repo_key == "github.com/owner/repo"

    replaced = user_client.post(_url(notebook), _body(branch="release/1.0", provider="gitlab"), format="json")
    assert replaced.status_code == 200
    assert replaced.json()["branch"] == "release/1.0"
    assert RepositoryLink.objects.filter(notebook=notebook).count() == 1
    assert Activity.objects.filter(user=notebook.owner, action="repository_linked").count() == 2

    shown = user_client.get(_url(notebook)).json()
    assert shown["provider"] == "gitlab" and shown["secret"] == MASK
    listed = user_client.get("/api/v1/repositories").json()
    assert [item["id"] for item in listed] == [link.pk]


def test_delete_unlinks(user_client, notebook):
    user_client.post(_url(notebook), _body(), format="json")
    assert user_client.delete(_url(notebook)).status_code == 204
    response = user_client.get(_url(notebook))
    assert response.status_code == 404
    assert response.json()["error_code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("repo_url", "http://github.com/owner/repo.git"),
        ("repo_url", "ext::sh -c touch% /tmp/pwned"),
        ("repo_url", "https://user:token@github.com/owner/repo.git"),
        ("repo_url", "https://github.com/"),
        ("repo_url", "--upload-pack=touch /tmp/x"),
        ("repo_url", "file://relative/path"),
        ("repo_url", "git@-oProxyCommand:owner/repo.git"),
        ("repo_url", "ssh://-oProxyCommand/owner/repo.git"),
        ("branch", "../main"),
        ("branch", "-delete"),
        ("branch", "feature..x"),
        ("branch", "bad branch"),
        ("path", "../secrets.ipynb"),
        ("path", "/etc/passwd.ipynb"),
        ("path", "notebooks/app.py"),
        ("path", "a//b.ipynb"),
        ("secret", "short"),
        ("provider", "bitbucket"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(user_client, notebook, field, value):
    response = user_client.post(_url(notebook), _body(**{field: value}), format="json")
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["error_code"] == "VALIDATION_ERROR"
    assert field in body["errors"]
    assert not RepositoryLink.objects.exists()


def test_missing_fields_and_malformed_json(user_client, notebook):
    response = user_client.post(_url(notebook), {"branch": "main"}, format="json")
    assert response.status_code == 400
    assert {"repo_url", "path", "secret"} <= set(response.json()["errors"])
    malformed = user_client.post(_url(notebook), "{not json", content_type="application/json")
    assert malformed.status_code == 400
    assert malformed.json()["error_code"] == "MALFORMED_JSON"


def test_file_urls_only_when_the_setting_allows_them(user_client, notebook, settings, tmp_path):
    settings.WEBHOOK_ALLOW_FILE_REPOS = False
    refused = user_client.post(_url(notebook), _body(repo_url=f"file://{tmp_path}/repo.git"), format="json")
    assert refused.status_code == 400
    assert "repo_url" in refused.json()["errors"]
    settings.WEBHOOK_ALLOW_FILE_REPOS = True
    allowed = user_client.post(_url(notebook), _body(repo_url=f"file://{tmp_path}/repo.git"), format="json")
    assert allowed.status_code == 201


def test_ssh_urls_are_accepted_and_share_the_https_key(user_client, notebook):
    response = user_client.post(_url(notebook), _body(repo_url="git@github.com:Owner/Repo.git"), format="json")
    assert response.status_code == 201
    assert RepositoryLink.objects.get().repo_key == repo_key("https://github.com/owner/repo")


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/owner/repo",
        "https://github.com/owner/repo.git",
        "https://GitHub.com/Owner/Repo/",
        "git@github.com:owner/repo.git",
        "ssh://git@github.com:22/owner/repo.git",
        "git://github.com/owner/repo.git",
    ],
)
def test_repo_key_normalises_every_form(url):
    assert repo_key(url) == "github.com/owner/repo"


def test_another_user_cannot_see_or_touch_a_link(user_client, other_client, notebook):
    user_client.post(_url(notebook), _body(), format="json")
    assert other_client.get(_url(notebook)).status_code == 404
    assert other_client.post(_url(notebook), _body(secret="attacker-secret"), format="json").status_code == 404
    assert other_client.delete(_url(notebook)).status_code == 404
    assert other_client.get("/api/v1/repositories").json() == []
    assert decrypt_text(RepositoryLink.objects.get().secret_encrypted) == SECRET


def test_anonymous_is_refused(api_client, notebook):
    response = api_client.get(_url(notebook))
    assert response.status_code == 401
    assert api_client.get("/api/v1/repositories").status_code == 401


def test_unknown_notebook_is_404(user_client):
    assert user_client.get("/api/v1/notebooks/999999/repository").status_code == 404
