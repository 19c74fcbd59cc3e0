"""002's workspace status, ensure-default and shutdown, against the in-memory fake backend."""

import pytest

from apps.activity.models import Activity
from apps.workspaces import services
from apps.workspaces.models import CodeSession, IllegalTransition, WorkloadState
from apps.workspaces.services import WELCOME_CODE
from apps.workspaces.tests.test_sessions import assert_error

pytestmark = pytest.mark.django_db
STATUS_FIELDS = {"status", "message", "initialized", "filesystem_synced", "file_count", "container_ready"}


def test_status_of_a_new_workspace_is_ready_without_a_container(user_client, session, fake_backend):
    body = user_client.get(f"/api/workspace/{session.id}/status").json()
    assert set(body) == STATUS_FIELDS
    assert body["status"] == "ready" and body["message"] == "Workspace is ready"
    assert body["initialized"] is True and body["filesystem_synced"] is True
    assert body["file_count"] == 1 and body["container_ready"] is False


def test_status_reports_the_running_container(user_client, session, fake_backend):
    services.session_workload_start(session_id=session.id)
    body = user_client.get(f"/api/workspace/{session.id}/status").json()
    assert body["container_ready"] is True and body["status"] == "ready"
    fake_backend.running.clear()  # the sandbox vanished behind our back
    assert user_client.get(f"/api/workspace/{session.id}/status").json()["container_ready"] is False


def test_status_empty_initializing_and_error(user_client, session, fake_backend):
    (session.workspace_path / "script.py").unlink()
    (session.workspace_path / "only-a-folder").mkdir()
    body = user_client.get(f"/api/workspace/{session.id}/status").json()
    assert body["status"] == "empty" and body["file_count"] == 0 and body["initialized"] is True
    CodeSession.objects.filter(pk=session.pk).update(workload_state=WorkloadState.STARTING)
    body = user_client.get(f"/api/workspace/{session.id}/status").json()
    assert body["status"] == "initializing" and body["initialized"] is False
    CodeSession.objects.filter(pk=session.pk).update(workload_state=WorkloadState.ERROR, workload_reason="OOMKilled")
    body = user_client.get(f"/api/workspace/{session.id}/status").json()
    assert body["status"] == "error" and "OOMKilled" in body["message"]


def test_ensure_default_creates_main_py_only_in_an_empty_workspace(user_client, session):
    route = f"/api/workspace/{session.id}/ensure-default"
    assert user_client.post(route).json() == {
        "message": "Workspace already has files, no defaults created",
        "files_created": [],
    }
    (session.workspace_path / "script.py").unlink()
    response = user_client.post(route)
    assert response.status_code == 200
    assert response.json() == {
        "message": "Created default main.py file",
        "files_created": ["main.py"],
        "file": {"name": "main.py", "path": "main.py", "content": WELCOME_CODE},
    }
    assert (session.workspace_path / "main.py").read_text() == WELCOME_CODE


def test_shutdown_without_a_running_sandbox_answers_the_second_shape(user_client, session, fake_backend):
    response = user_client.post(f"/workspace/{session.id}/shutdown")
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "message": f"No active session found for workspace {session.id}",
        "workspace_id": str(session.id),
    }
    assert fake_backend.stops == []


def test_shutdown_stops_the_sandbox_and_keeps_the_files(user_client, session, user, fake_backend):
    services.session_workload_start(session_id=session.id)
    response = user_client.post(f"/workspace/{session.id}/shutdown")
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "message": f"Workspace {session.id} shutdown completed",
        "workspace_id": str(session.id),
        "session_id": session.workload_id,
        "active_connections": 0,
        "container_cleaned": True,
    }
    assert fake_backend.stops == [session.workload_id] and not fake_backend.running
    session.refresh_from_db()
    assert session.workload_state == WorkloadState.STOPPED and session.workload_reason == "shutdown requested"
    assert (session.workspace_path / "script.py").exists()
    actions = list(Activity.objects.filter(user=user).values_list("action", flat=True))
    assert {"session_created", "session_started", "session_stopped"} <= set(actions)
    # A second shutdown has nothing left to stop.
    assert "No active session" in user_client.post(f"/workspace/{session.id}/shutdown").json()["message"]


def test_the_sandbox_has_the_session_limits(session, fake_backend):
    services.session_workload_start(session_id=session.id)
    (spec,) = fake_backend.starts
    assert spec.id == session.workload_id and spec.kind == "session" and spec.image == "python:3.11-slim"
    assert spec.network == "none" and spec.memory_bytes == 256 * 1024**2 and spec.pids == 64
    assert spec.cpu == 0.5 and spec.output_rate == 64 * 1024
    assert spec.workspace == str(session.workspace_path)


def test_starting_twice_starts_once_and_a_vanished_sandbox_is_started_again(session, fake_backend):
    services.session_workload_start(session_id=session.id)
    services.session_workload_start(session_id=session.id)
    assert len(fake_backend.starts) == 1
    fake_backend.running.clear()
    ready = services.session_workload_start(session_id=session.id)
    assert len(fake_backend.starts) == 2 and ready.workload_state == WorkloadState.READY


def test_a_failed_start_is_an_error_with_the_users_message(session, user, fake_backend):
    from apps.runtime.errors import RuntimeBackendError

    fake_backend.fail_start = RuntimeBackendError("No room for another sandbox", detail="internal detail")
    with pytest.raises(services.SessionStartFailed, match="No room"):
        services.session_workload_start(session_id=session.id)
    session.refresh_from_db()
    assert session.workload_state == WorkloadState.ERROR and session.workload_reason == "No room for another sandbox"
    assert Activity.objects.filter(user=user, action="session_start_failed", status="failure").exists()
    fake_backend.fail_start = None
    assert services.session_workload_start(session_id=session.id).workload_state == WorkloadState.READY


def test_the_state_machine_refuses_illegal_transitions(session):
    with pytest.raises(IllegalTransition):
        session.transition(WorkloadState.READY)  # idle -> ready skips starting
    session.transition(WorkloadState.STARTING)
    session.transition(WorkloadState.READY)
    with pytest.raises(IllegalTransition):
        session.transition(WorkloadState.STARTING)
    session.transition(WorkloadState.ERROR, reason="x")
    assert session.workload_state == WorkloadState.ERROR


def test_shutdown_applies_the_user_id_rule_and_404s_bad_ids(user_client, session, other_user):
    assert_error(user_client.post(f"/workspace/{session.id}/shutdown?user_id={other_user.pk}"), 403, "FORBIDDEN")
    assert_error(user_client.post("/workspace/not-a-uuid/shutdown"), 404)
    assert_error(user_client.get(f"/workspace/{session.id}/shutdown"), 405, "METHOD_NOT_ALLOWED")
