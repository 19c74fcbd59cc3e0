"""000's build routes over HTTP: trigger, status, list, logs, tenancy and bad input.

Builds here hit a seeded environment cache, so the local builder finishes without pip; the
sandboxed pip builds are in test_local_builder.py.
"""

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.activity.models import Activity
from apps.builds import logs, services, tasks
from apps.builds.models import Build
from apps.builds.tests.conftest import make_notebook, seed_cache
from apps.notebooks.models import Notebook

BUILD_ID = re.compile(r"^build-(\d+)-(\d+)$")


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert {"detail", "error_code", "timestamp"} <= set(body)
    if code:
        assert body["error_code"] == code
    return body


def trigger(client, notebook_id) -> dict:
    response = client.post(f"/api/v1/builds/trigger/{notebook_id}")
    assert response.status_code == 201, response.content
    return response.json()


def test_trigger_answers_the_documented_fields_queued(user_client, notebook):
    before = int(time.time())
    body = trigger(user_client, notebook.pk)
    assert {"id", "notebook_id", "build_id", "status", "image_name", "created_at"} <= set(body)
    assert body["status"] == "queued"
    assert body["notebook_id"] == notebook.pk
    match = BUILD_ID.match(body["build_id"])
    assert match and int(match[1]) == notebook.pk and int(match[2]) >= before
    assert body["image_name"] == f"hangar.local/notebook-{notebook.pk}:{body['build_id']}"
    assert body["log_url"] == f"http://testserver/api/v1/builds/{body['id']}/logs"
    assert Activity.objects.filter(action="build_queued", user=notebook.owner).exists()


def test_two_builds_in_the_same_second_get_distinct_ids(user_client, notebook):
    first, second = trigger(user_client, notebook.pk), trigger(user_client, notebook.pk)
    assert first["build_id"] != second["build_id"]
    assert BUILD_ID.match(second["build_id"])


def test_trigger_before_parse_is_400_with_the_documented_detail(user_client, user):
    uploaded = make_notebook(user, status=Notebook.Status.UPLOADED)
    body = assert_error(user_client.post(f"/api/v1/builds/trigger/{uploaded.pk}"), 400, "NOTEBOOK_NOT_PARSED")
    assert body["detail"] == "Notebook must be parsed first. Current status: uploaded"
    assert not Build.objects.exists()


@pytest.mark.parametrize("garbage", ["abc", "1.5", "-1", "0x10", "99999999999999999999999", "%C2%B2"])
def test_trigger_with_a_garbage_notebook_id_is_404(user_client, garbage):
    assert_error(user_client.post(f"/api/v1/builds/trigger/{garbage}"), 404, "NOT_FOUND")


def test_trigger_needs_a_token(api_client, notebook):
    assert_error(api_client.post(f"/api/v1/builds/trigger/{notebook.pk}"), 401)


def test_another_tenant_gets_404_on_trigger_get_and_logs(user_client, other_client, notebook):
    assert_error(other_client.post(f"/api/v1/builds/trigger/{notebook.pk}"), 404, "NOT_FOUND")
    build = trigger(user_client, notebook.pk)
    for ref in (build["id"], build["build_id"]):
        assert_error(other_client.get(f"/api/v1/builds/{ref}"), 404, "NOT_FOUND")
        assert_error(other_client.get(f"/api/v1/builds/{ref}/logs"), 404, "NOT_FOUND")
    assert other_client.get("/api/v1/builds").json() == {"total": 0, "builds": []}


def test_get_by_numeric_id_and_by_build_id(user_client, notebook):
    build = trigger(user_client, notebook.pk)
    by_id = user_client.get(f"/api/v1/builds/{build['id']}").json()
    by_string = user_client.get(f"/api/v1/builds/{build['build_id']}").json()
    assert by_id == by_string
    expected = {"id", "build_id", "notebook_id", "status", "log_url", "started_at", "finished_at", "error_message"}
    assert expected | {"cache_hit", "image_name"} <= set(by_id)
    assert by_id["error_message"] is None and by_id["started_at"] is None


@pytest.mark.parametrize("garbage", ["abc", "build-x-1", "build-1", "1e3", "99999999999999999999999", "build-1-2-3"])
def test_get_and_logs_with_garbage_ids_are_404(user_client, garbage):
    assert_error(user_client.get(f"/api/v1/builds/{garbage}"), 404, "NOT_FOUND")
    assert_error(user_client.get(f"/api/v1/builds/{garbage}/logs"), 404, "NOT_FOUND")


def test_list_filters_and_paginates(user_client, user, notebook):
    other_notebook = make_notebook(user)
    first = trigger(user_client, notebook.pk)
    trigger(user_client, other_notebook.pk)
    services.build_fail(build_pk=first["id"], reason="stopped by the test")

    everything = user_client.get("/api/v1/builds").json()
    assert everything["total"] == 2 and len(everything["builds"]) == 2
    failed = user_client.get("/api/v1/builds?status=failed").json()
    assert [b["build_id"] for b in failed["builds"]] == [first["build_id"]]
    assert failed["builds"][0]["error_message"] == "stopped by the test"
    by_notebook = user_client.get(f"/api/v1/builds?notebook_id={other_notebook.pk}").json()
    assert by_notebook["total"] == 1 and by_notebook["builds"][0]["notebook_id"] == other_notebook.pk
    page = user_client.get("/api/v1/builds?skip=1&limit=1").json()
    assert page["total"] == 2 and len(page["builds"]) == 1


@pytest.mark.parametrize(
    "query", ["status=bogus", "limit=0", "limit=abc", "skip=-1", "notebook_id=x", "notebook_id=0", "limit=100000"]
)
def test_list_with_bad_query_is_400(user_client, query):
    assert_error(user_client.get(f"/api/v1/builds?{query}"), 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("offset", ["-1", "abc", "1.5"])
def test_logs_with_a_bad_offset_is_400(user_client, notebook, offset):
    build = trigger(user_client, notebook.pk)
    assert_error(user_client.get(f"/api/v1/builds/{build['id']}/logs?offset={offset}"), 400, "VALIDATION_ERROR")


def test_execute_on_a_cache_hit_succeeds_and_logs_are_polled_by_offset(user_client, user, notebook):
    seed_cache(notebook.requirements_txt)
    build = services.build_create(owner=user, notebook=notebook)
    started = time.monotonic()
    build = services.build_execute(build=build)
    assert time.monotonic() - started < 3
    assert build.status == "success", build.error_message
    assert build.cache_hit is True and build.env_path.endswith(build.cache_key)
    assert build.started_at and build.finished_at and build.finished_at >= build.started_at

    body = user_client.get(f"/api/v1/builds/{build.build_id}").json()
    assert body["status"] == "success" and body["cache_hit"] is True
    logs_body = user_client.get(f"/api/v1/builds/{build.pk}/logs").json()
    assert logs_body["complete"] is True and logs_body["build_id"] == build.build_id
    assert any("Cache hit" in line for line in logs_body["lines"])
    total = logs_body["next_offset"]
    assert total == len(logs_body["lines"]) > 2
    tail = user_client.get(f"/api/v1/builds/{build.pk}/logs?offset=2").json()
    assert tail["lines"] == logs_body["lines"][2:] and tail["next_offset"] == total
    assert user_client.get(f"/api/v1/builds/{build.pk}/logs?offset={total + 50}").json()["lines"] == []

    notebook.refresh_from_db()
    assert notebook.status == Notebook.Status.BUILT
    actions = set(Activity.objects.filter(user=user).values_list("action", flat=True))
    assert {"build_queued", "build_started", "build_succeeded"} <= actions


def test_execute_twice_leaves_a_finished_build_alone(user, notebook):
    seed_cache(notebook.requirements_txt)
    build = services.build_execute(build=services.build_create(owner=user, notebook=notebook))
    lines = logs.read_lines(build.build_id)
    again = services.build_execute(build=build)
    assert again.status == "success" and logs.read_lines(build.build_id) == lines


def test_trigger_runs_the_task_after_commit(user, notebook, django_capture_on_commit_callbacks):
    seed_cache(notebook.requirements_txt)
    with django_capture_on_commit_callbacks(execute=True):
        build = services.build_trigger(owner=user, notebook=notebook)
    assert build.status == "queued"  # what the trigger answered
    build.refresh_from_db()
    assert build.status == "success" and build.cache_hit


def test_a_second_trigger_of_a_built_notebook_is_accepted(user_client, user, notebook):
    seed_cache(notebook.requirements_txt)
    services.build_execute(build=services.build_create(owner=user, notebook=notebook))
    assert trigger(user_client, notebook.pk)["status"] == "queued"


def test_reaper_fails_builds_stuck_past_the_limit(settings, user, notebook):
    settings.BUILD_TIMEOUT_SECONDS = 60
    stuck_queued = services.build_create(owner=user, notebook=notebook)
    stuck_building = services.build_create(owner=user, notebook=notebook)
    fresh = services.build_create(owner=user, notebook=notebook)
    old = timezone.now() - timedelta(seconds=60 + services.REAPER_GRACE_SECONDS + 5)
    Build.objects.filter(pk=stuck_queued.pk).update(created_at=old)
    Build.objects.filter(pk=stuck_building.pk).update(status="building", started_at=old, created_at=old)

    failed = tasks.fail_stuck_builds()

    assert sorted(failed) == sorted([stuck_queued.build_id, stuck_building.build_id])
    for build in (stuck_queued, stuck_building):
        build.refresh_from_db()
        assert build.status == "failed" and "did not finish within" in build.error_message
        assert build.finished_at is not None
        assert any("did not finish within" in line for line in logs.read_lines(build.build_id))
    fresh.refresh_from_db()
    assert fresh.status == "queued"
    assert tasks.fail_stuck_builds() == []


def test_run_build_task_of_a_missing_build_is_harmless(db):
    assert tasks.run_build(10**9) is None


def test_an_internal_error_fails_the_build_with_a_reason(monkeypatch, user, notebook):
    from apps.builds import notebooks as notebook_api

    def broken(**kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(notebook_api, "write_sources", broken)
    build = services.build_execute(build=services.build_create(owner=user, notebook=notebook))
    assert build.status == "failed" and build.error_message == "The build failed: internal error"
    notebook.refresh_from_db()
    assert notebook.status == Notebook.Status.FAILED


def test_a_notebook_replaced_before_the_build_runs_fails_it_with_the_reason(user, notebook):
    from apps.notebooks.services import notebook_replace_content

    build = services.build_create(owner=user, notebook=notebook)
    notebook_replace_content(notebook=notebook, content=b"{}", filename="app.ipynb")
    build = services.build_execute(build=build)
    assert build.status == "failed"
    assert build.error_message == (
        "Could not prepare the sources: Notebook must be parsed first. Current status: uploaded"
    )
