"""The reconciler against the in-memory backend (test_real_backend.py repeats the key cases for real)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.activity.models import Activity
from apps.environments import tasks
from apps.environments.models import Environment
from apps.environments.services.reconcile import environments_reconcile
from apps.environments.tests.factories import EnvironmentFactory

pytestmark = pytest.mark.django_db


def test_a_vanished_workload_marks_the_environment_stopped(running_env, backend):
    backend.vanish(running_env.id)
    report = environments_reconcile()
    running_env.refresh_from_db()
    assert running_env.status == "stopped"
    assert running_env.stop_reason == "NotFound"
    assert report.vanished == [running_env.id]
    assert Activity.objects.filter(action="environment_stopped", metadata__environment_id=running_env.id).exists()


def test_an_oom_killed_workload_marks_the_environment_error(running_env, backend):
    backend.kill(running_env.id, "OOMKilled")
    report = environments_reconcile()
    running_env.refresh_from_db()
    assert running_env.status == "error"
    assert running_env.status_reason == "OOMKilled"
    assert report.failed == [running_env.id]
    assert Activity.objects.filter(action="environment_error", status="failure").exists()


def test_orphans_are_stopped_but_other_kinds_of_workload_are_left_alone(running_env, backend, python_template, user):
    stopped = EnvironmentFactory(owner=user, template=python_template, status="stopped")
    from apps.runtime.spec import WorkloadSpec

    backend.start(WorkloadSpec(id=stopped.id, owner_id=user.pk, kind="environment", image="python:3", workspace="/x"))
    backend.start(
        WorkloadSpec(id="env-" + "f" * 32, owner_id=user.pk, kind="environment", image="python:3", workspace="/x")
    )
    backend.start(WorkloadSpec(id="ses-123", owner_id=user.pk, kind="session", image="python:3", workspace="/x"))
    report = environments_reconcile()
    assert sorted(report.orphans_stopped) == sorted([stopped.id, "env-" + "f" * 32])
    assert set(backend.running()) == {running_env.id, "ses-123"}


def test_max_uptime_stops_with_a_reason(running_env, backend):
    Environment.objects.filter(pk=running_env.pk).update(
        started_at=timezone.now() - timedelta(minutes=61), last_activity=timezone.now()
    )
    report = environments_reconcile()
    running_env.refresh_from_db()
    assert running_env.status == "stopped"
    assert running_env.stop_reason == "max_uptime_exceeded"
    assert report.max_uptime_stopped == [running_env.id]
    assert running_env.id not in backend.running()


def test_idle_timeout_stops_with_a_reason(running_env, settings):
    settings.ENVIRONMENT_IDLE_TIMEOUT_MINUTES = 30
    Environment.objects.filter(pk=running_env.pk).update(last_activity=timezone.now() - timedelta(minutes=31))
    environments_reconcile()
    running_env.refresh_from_db()
    assert running_env.status == "stopped"
    assert running_env.stop_reason == "idle_timeout"


def test_a_heartbeat_holds_off_the_idle_timeout(running_env, user_client):
    Environment.objects.filter(pk=running_env.pk).update(last_activity=timezone.now() - timedelta(minutes=31))
    user_client.post("/environments/heartbeat")
    environments_reconcile()
    running_env.refresh_from_db()
    assert running_env.status == "running"


def test_no_auto_shutdown_for_enterprise(running_env, user):
    user.tier = "enterprise"
    user.save()
    Environment.objects.filter(pk=running_env.pk).update(
        started_at=timezone.now() - timedelta(days=3), last_activity=timezone.now() - timedelta(days=3)
    )
    environments_reconcile()
    running_env.refresh_from_db()
    assert running_env.status == "running"


def test_idle_timeout_zero_disables_it(running_env, settings):
    settings.ENVIRONMENT_IDLE_TIMEOUT_MINUTES = 0
    Environment.objects.filter(pk=running_env.pk).update(last_activity=timezone.now() - timedelta(minutes=50))
    environments_reconcile()
    running_env.refresh_from_db()
    assert running_env.status == "running"


@pytest.mark.parametrize("status", ["creating", "installing"])
def test_nothing_stays_creating_or_installing(user, python_template, status, settings, backend):
    settings.ENVIRONMENT_PROVISION_TIMEOUT_SECONDS = 60
    stuck = EnvironmentFactory(
        owner=user, template=python_template, status=status, status_changed_at=timezone.now() - timedelta(minutes=5)
    )
    fresh = EnvironmentFactory(owner=user, template=python_template, status=status)
    report = environments_reconcile()
    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert stuck.status == "error"
    assert "timed out" in stuck.status_reason
    assert fresh.status == status
    assert report.stuck_failed == [stuck.id]
    assert stuck.id in backend.stopped


def test_the_task_runs_the_pass_and_is_harmless_twice(running_env, backend):
    backend.vanish(running_env.id)
    first = tasks.reconcile_environments()
    second = tasks.reconcile_environments()
    assert first["vanished"] == [running_env.id]
    assert second == {key: [] for key in first}


def test_the_beat_schedule_runs_it_every_30_seconds():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["reconcile-environments"]
    assert entry["task"] == "apps.environments.tasks.reconcile_environments"
    assert entry["schedule"] == 30


def test_terminal_activity_known_to_the_backend_holds_off_the_idle_timeout(running_env, backend):
    Environment.objects.filter(pk=running_env.pk).update(last_activity=timezone.now() - timedelta(minutes=31))
    backend.last_activity = lambda workload_id: timezone.now() - timedelta(minutes=1)
    environments_reconcile()
    running_env.refresh_from_db()
    assert running_env.status == "running"
