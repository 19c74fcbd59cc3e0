"""Idle sandboxes are stopped by the periodic task; their files stay."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from apps.activity.models import Activity
from apps.workspaces import services, tasks
from apps.workspaces.models import CodeSession, WorkloadState

pytestmark = pytest.mark.django_db


def test_the_task_is_scheduled_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["stop-idle-code-sessions"]
    assert entry["task"] == "apps.workspaces.tasks.stop_idle_sessions" and entry["schedule"] == 60


def test_idle_sandboxes_are_stopped_and_busy_ones_kept(user, fake_backend, settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 30
    idle = services.session_create(owner=user, name="idle")
    busy = services.session_create(owner=user, name="busy")
    never = services.session_create(owner=user, name="never started")
    for session in (idle, busy):
        services.session_workload_start(session_id=session.id)
    CodeSession.objects.filter(pk=idle.pk).update(last_activity_at=timezone.now() - timedelta(minutes=31))
    CodeSession.objects.filter(pk=busy.pk).update(last_activity_at=timezone.now() - timedelta(minutes=29))

    assert tasks.stop_idle_sessions.delay().get() == 1
    assert fake_backend.stops == [idle.workload_id]
    states = dict(CodeSession.objects.values_list("name", "workload_state"))
    assert states == {"idle": WorkloadState.STOPPED, "busy": WorkloadState.READY, "never started": WorkloadState.IDLE}
    assert CodeSession.objects.get(pk=idle.pk).workload_reason == "idle"
    assert (idle.workspace_path / "script.py").exists()
    assert Activity.objects.filter(action="session_stopped", metadata__reason="idle").count() == 1
    # Running it again is harmless.
    assert tasks.stop_idle_sessions.delay().get() == 0
    assert never.workload_state == WorkloadState.IDLE


def test_a_start_that_never_finished_is_not_left_starting(user, fake_backend, settings):
    session = services.session_create(owner=user, name="stuck")
    CodeSession.objects.filter(pk=session.pk).update(
        workload_state=WorkloadState.STARTING, state_changed_at=timezone.now() - timedelta(hours=2)
    )
    assert tasks.stop_idle_sessions.delay().get() == 1
    assert CodeSession.objects.get(pk=session.pk).workload_state == WorkloadState.STOPPED


def test_terminal_activity_postpones_the_shutdown(user, fake_backend):
    session = services.session_create(owner=user, name="typing")
    services.session_workload_start(session_id=session.id)
    CodeSession.objects.filter(pk=session.pk).update(last_activity_at=timezone.now() - timedelta(hours=1))
    services.session_activity_touch(session_id=session.id)
    assert tasks.stop_idle_sessions.delay().get() == 0


def test_reconcile_marks_vanished_sandboxes_with_the_runtimes_reason(user, fake_backend):
    gone = services.session_create(owner=user, name="gone")
    oom = services.session_create(owner=user, name="oom")
    alive = services.session_create(owner=user, name="alive")
    for session in (gone, oom, alive):
        services.session_workload_start(session_id=session.id)
    del fake_backend.running[gone.workload_id]
    del fake_backend.running[oom.workload_id]
    fake_backend.failed[oom.workload_id] = "OOMKilled"

    assert services.sessions_reconcile() == {"vanished": 2, "orphans": 0}
    rows = {s.name: (s.workload_state, s.workload_reason) for s in CodeSession.objects.all()}
    assert rows["gone"] == (WorkloadState.STOPPED, "The sandbox was gone")
    assert rows["oom"] == (WorkloadState.ERROR, "OOMKilled")
    assert rows["alive"] == (WorkloadState.READY, "")
    assert Activity.objects.filter(action="session_stopped", status="failure", metadata__reason="OOMKilled").exists()
    # Typing again starts a fresh sandbox, even after an error.
    fake_backend.failed.clear()
    assert services.session_workload_start(session_id=oom.id).workload_state == WorkloadState.READY


def test_reconcile_stops_orphaned_session_sandboxes_only(user, fake_backend):
    session = services.session_create(owner=user, name="kept")
    services.session_workload_start(session_id=session.id)
    stopped = services.session_create(owner=user, name="stopped")
    for workload_id in (stopped.workload_id, "ses-0123456789abcdef0123456789abcdef", "env-someone-elses"):
        fake_backend.running[workload_id] = None
    assert tasks.stop_idle_sessions.delay().get() == 0
    assert set(fake_backend.running) == {session.workload_id, "env-someone-elses"}
