"""The notebook and deployment pages (server side only).

The pages render; their data comes from the JSON API in the browser (tests/browser). Here: a
signed-out browser is sent to /login, the pages render for a user with what their scripts need,
another user's (or an unknown) notebook is a 404, and the dashboard and nav link to them.
"""

import pytest
from django.conf import settings
from django.test import Client

from apps.accounts.models import User
from apps.accounts.tokens import tokens_for
from apps.builds.models import Build
from apps.deployments.models import Deployment
from apps.notebooks.models import Notebook

pytestmark = pytest.mark.django_db

HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # what chromium sends


def browser() -> Client:
    """A client that navigates as a browser does."""
    return Client(headers={"Accept": HTML})


def signed_in(user: User) -> Client:
    """A browser carrying ``user``'s JWT cookies."""
    client = browser()
    pair = tokens_for(user)
    client.cookies[settings.JWT_ACCESS_COOKIE] = pair.access
    client.cookies[settings.JWT_REFRESH_COOKIE] = pair.refresh
    return client


@pytest.fixture
def notebook(user) -> Notebook:
    """A parsed and deployed Flask notebook with one build and one deployment (no file on disk)."""
    notebook = Notebook.objects.create(
        owner=user,
        name="hello_flask",
        filename="hello_flask.ipynb",
        file="notebooks/hello_flask.ipynb",
        size_bytes=2048,
        status=Notebook.Status.DEPLOYED,
        code_cells_count=3,
        dependencies=["flask", "pandas"],
        warnings=["Cell 2 uses a shell command (!pip), which is skipped"],
        app_kind=Notebook.AppKind.FLASK,
    )
    build = Build.objects.create(
        owner=user, notebook=notebook, build_id=f"build-{notebook.pk}-1", status=Build.Status.SUCCESS, cache_hit=True
    )
    Deployment.objects.create(
        owner=user,
        notebook=notebook,
        build=build,
        service_name=f"notebook-{notebook.pk}",
        revision=2,
        status=Deployment.Status.DEPLOYED,
        service_url=f"/apps/notebook-{notebook.pk}/",
    )
    return notebook


def _pages(notebook: Notebook) -> list[tuple[str, str, str]]:
    """(path, template, a marker in the body) of every page."""
    return [
        ("/notebooks", "notebooks.html", 'id="deploy-form"'),
        (f"/notebooks/{notebook.pk}", "notebooks_detail.html", f'data-notebook-id="{notebook.pk}"'),
        ("/deployments", "deployments.html", 'id="deployment-rows"'),
    ]


def test_signed_out_browser_is_sent_to_login(notebook):
    for path, _template, _marker in _pages(notebook):
        response = browser().get(path)
        assert response.status_code == 302, path
        assert response["Location"] == f"{settings.LOGIN_URL}?next={path}", path


def test_pages_render_for_the_user(user, notebook):
    client = signed_in(user)
    for path, template, marker in _pages(notebook):
        response = client.get(path)
        assert response.status_code == 200, path
        assert template in [t.name for t in response.templates], path
        assert marker in response.content.decode(), path
        # The scripts read the CSRF cookie for their unsafe API calls; the page is private.
        assert settings.CSRF_COOKIE_NAME in response.cookies, path
        assert "no-store" in response["Cache-Control"], path


def test_notebooks_page_has_the_drop_zone_the_resource_defaults_and_the_progress_bar(user):
    body = signed_in(user).get("/notebooks").content.decode()
    assert 'id="dropzone"' in body and 'type="file"' in body and 'accept=".ipynb' in body
    assert '<option value="1" selected>1</option>' in body
    assert '<option value="512Mi" selected>512Mi</option>' in body
    assert 'name="min_instances" type="number" min="0" max="100" step="1" value="0"' in body
    assert 'name="max_instances" type="number" min="1" max="100" step="1" value="10"' in body
    # Every label points at a field, and the progress is announced to assistive technology.
    for field in ("notebook-file", "deploy-cpu", "deploy-memory", "deploy-min", "deploy-max"):
        assert f'for="{field}"' in body and f'id="{field}"' in body, field
    assert 'role="progressbar"' in body and 'aria-valuemax="5"' in body
    assert 'aria-live="polite"' in body
    for step in ("parse", "dependencies", "upload", "build", "deploy"):
        assert f'data-step="{step}"' in body, step
    assert 'type="module"' in body and "js/notebooks.js" in body


def test_notebook_detail_shows_what_parsing_found_builds_and_deployments(user, notebook):
    body = signed_in(user).get(f"/notebooks/{notebook.pk}").content.decode()
    assert "hello_flask" in body and "Flask" in body
    assert '<li class="tag">flask</li>' in body and '<li class="tag">pandas</li>' in body
    assert "shell command (!pip)" in body
    assert f"build-{notebook.pk}-1" in body
    assert f"notebook-{notebook.pk}" in body and "r2" in body
    assert f'id="open-app" href="/apps/notebook-{notebook.pk}/"' in body
    for name in ("main.py", "requirements.txt", "Dockerfile"):
        assert f'href="/api/v1/notebooks/{notebook.pk}/download/{name}"' in body, name
    assert 'id="repository-form"' in body and 'for="repo-secret"' in body
    assert "js/notebooks_detail.js" in body


def test_open_app_points_at_the_serving_revision_while_a_redeploy_runs(user, notebook):
    serving = notebook.deployments.get()
    Deployment.objects.create(
        owner=user,
        notebook=notebook,
        build=serving.build,
        service_name=serving.service_name,
        revision=3,
        status=Deployment.Status.DEPLOYING,
    )
    body = signed_in(user).get(f"/notebooks/{notebook.pk}").content.decode()
    assert body.count('id="open-app"') == 1
    assert f'id="open-app" href="/apps/notebook-{notebook.pk}/"' in body
    serving.status = Deployment.Status.STOPPED
    serving.save()
    assert 'id="open-app"' not in signed_in(user).get(f"/notebooks/{notebook.pk}").content.decode()


def test_a_failed_notebook_shows_its_error(user, notebook):
    Notebook.objects.filter(pk=notebook.pk).update(status=Notebook.Status.FAILED, error_message="SyntaxError in cell 2")
    body = signed_in(user).get(f"/notebooks/{notebook.pk}").content.decode()
    assert 'role="alert" id="notebook-error">SyntaxError in cell 2<' in body


def test_another_users_and_unknown_notebooks_are_404(other_user, notebook):
    client = signed_in(other_user)
    assert client.get(f"/notebooks/{notebook.pk}").status_code == 404
    assert client.get(f"/notebooks/{notebook.pk + 1000}").status_code == 404
    assert client.get("/notebooks/not-a-number").status_code == 404
    # Their own list pages render, and hold nothing of the other user's (the API fills them).
    for path in ("/notebooks", "/deployments"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "hello_flask" not in response.content.decode(), path


def test_deployments_page_names_only_the_users_notebooks(user, other_user, notebook):
    Notebook.objects.create(owner=other_user, name="secret_project", filename="s.ipynb", file="notebooks/s.ipynb")
    body = signed_in(user).get("/deployments").content.decode()
    assert f'<script id="notebook-names" type="application/json">{{"{notebook.pk}": "hello_flask"}}</script>' in body
    assert "secret_project" not in body


def test_pages_only_answer_get(user):
    client = signed_in(user)
    for path in ("/notebooks", "/deployments"):
        assert client.post(path).status_code in (403, 405), path


def test_dashboard_and_nav_link_to_the_pages(user):
    body = signed_in(user).get("/").content.decode()
    card = body.split('id="notebooks"')[1].split("</article>")[0]
    assert "Coming soon" not in card
    assert 'href="/notebooks"' in card and 'href="/deployments"' in card
    nav = signed_in(user).get("/notebooks").content.decode()
    assert 'href="/notebooks" aria-current="page"' in nav
