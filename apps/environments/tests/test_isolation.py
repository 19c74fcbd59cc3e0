"""Across tenants: every route of this app, tried with another user's ids, answers 404 and changes
nothing. (The sockets' 4404 is in test_sockets.py; admin-only routes answer 403 to non-admins.)"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.environments.files import user_files_dir
from apps.environments.models import Environment
from apps.environments.tests.factories import UserEnvVarFactory
from apps.environments.tests.test_environments_v1 import assert_error

pytestmark = pytest.mark.django_db

ENVIRONMENT_ROUTES = [
    ("get", "/api/v1/environments/{id}", None),
    ("put", "/api/v1/environments/{id}", {"name": "stolen"}),
    ("patch", "/api/v1/environments/{id}", {"name": "stolen"}),
    ("delete", "/api/v1/environments/{id}", None),
    ("post", "/api/v1/environments/{id}/start", None),
    ("post", "/api/v1/environments/{id}/stop", None),
    ("post", "/api/v1/environments/{id}/restart", None),
    ("get", "/api/v1/environments/{id}/metrics", None),
    ("get", "/api/v1/environments/{id}/logs", None),
    ("get", "/environments/{id}/info", None),
    ("delete", "/environments?env_id={id}", None),
    ("post", "/environments/heartbeat", {"env_id": "{id}"}),
]


@pytest.mark.parametrize(("method", "url", "body"), ENVIRONMENT_ROUTES)
def test_another_users_environment_is_404(other_client, running_env, backend, method, url, body):
    url = url.format(id=running_env.id)
    if body:
        body = {k: v.format(id=running_env.id) for k, v in body.items()}
    response = getattr(other_client, method)(url, body, format="json")
    assert_error(response, 404, "NOT_FOUND")
    running_env.refresh_from_db()
    assert running_env.status == "running"
    assert running_env.name == "work"
    assert running_env.id in backend.running()


def test_lists_do_not_show_another_users_environments(other_client, running_env):
    assert other_client.get("/api/v1/environments").json() == []
    assert other_client.get(f"/api/v1/environments?template_id={running_env.template_id}").json() == []
    assert other_client.get("/environments/list").json()["data"]["environments"] == []
    assert other_client.get("/environments").json()["data"] == {"active": False, "environment": None}


def test_the_001_delete_without_id_never_reaches_another_user(other_client, running_env):
    assert_error(other_client.delete("/environments"), 404)
    running_env.refresh_from_db()
    assert running_env.status == "running"


def test_another_users_env_var_is_404(other_client, user):
    UserEnvVarFactory(user=user, key="MINE")
    assert_error(other_client.delete("/user-env-vars/MINE"), 404, "NOT_FOUND")
    assert other_client.get("/user-env-vars").json()["data"]["env_vars"] == []
    # Setting the same key makes the caller's own variable, never touching the owner's.
    other_client.post("/user-env-vars", {"key": "MINE", "value": "x"}, format="json")
    assert user.env_vars.filter(key="MINE").count() == 1


def test_another_users_file_is_404(other_client, user_client, user):
    user_client.post("/user-files/upload", {"file": SimpleUploadedFile("mine.txt", b"private")}, format="multipart")
    assert_error(other_client.get("/user-files/mine.txt"), 404, "NOT_FOUND")
    assert_error(other_client.delete("/user-files/mine.txt"), 404, "NOT_FOUND")
    assert other_client.get("/user-files").json()["data"]["files"] == []
    assert (user_files_dir(user) / "mine.txt").read_bytes() == b"private"


def test_admin_routes_are_403_for_users(user_client):
    assert_error(user_client.get("/admin/environments"), 403, "FORBIDDEN")


def test_one_users_environment_never_mounts_another_users_files(
    user, other_user, python_template, make_running, backend
):
    mine = make_running(user, python_template)
    theirs = make_running(other_user, python_template, name="theirs")
    specs = {spec.id: spec for spec in backend.started}
    assert specs[mine.id].mounts["/workspace/files"] == str(user_files_dir(user))
    assert specs[theirs.id].mounts["/workspace/files"] == str(user_files_dir(other_user))
    assert specs[mine.id].workspace != specs[theirs.id].workspace
    assert Environment.objects.count() == 2
