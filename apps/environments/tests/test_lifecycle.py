"""Provisioning through the Celery task: sandbox start, installation, statuses, activity, env injection."""

import pytest

from apps.activity.models import Activity
from apps.core.crypto import encrypt_text
from apps.environments import tasks
from apps.environments.models import Environment, InstallationLogLine
from apps.environments.services import environments as services
from apps.environments.tests.factories import EnvironmentFactory, UserEnvVarFactory

pytestmark = pytest.mark.django_db


def test_create_runs_the_installation_and_ends_running(user, python_template, make_running, backend):
    environment = make_running(user, python_template)
    assert environment.status == "running"
    assert environment.installation_completed is True
    assert environment.started_at is not None
    assert environment.host_port == backend.host_port
    assert environment.url == f"http://127.0.0.1:{backend.host_port}"
    assert backend.exec_calls == [(environment.id, ["/bin/sh", "-c", "python3 --version"])]
    messages = list(InstallationLogLine.objects.filter(environment=environment).values_list("message", flat=True))
    assert messages == ["$ python3 --version", "ok: python3 --version", "Installation completed"]
    actions = list(
        Activity.objects.filter(user=user, metadata__environment_id=environment.id)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["environment_created", "environment_installing", "environment_running"]


def test_the_spec_carries_resources_files_mount_and_merged_variables(user, python_template, make_running, backend):
    UserEnvVarFactory(user=user, key="API_KEY", value_encrypted=encrypt_text("user-secret"))
    UserEnvVarFactory(user=user, key="SHARED", value_encrypted=encrypt_text("from-user"))
    environment = make_running(user, python_template, environment_variables={"SHARED": "from-env", "MODE": "dev"})
    spec = backend.started[-1]
    assert spec.id == environment.id and spec.id.startswith("env-")
    assert spec.kind == "environment"
    assert spec.cpu == 0.5 and spec.memory_bytes == 1024**3 and spec.disk_bytes == 10 * 1024**3
    assert spec.port == 8080
    assert str(spec.network) == "egress"
    assert spec.env["API_KEY"] == "user-secret"
    assert spec.env["SHARED"] == "from-env"  # the environment's own value wins over the user's
    assert spec.env["MODE"] == "dev"
    assert spec.env["PYTHONUNBUFFERED"] == "1"  # from the template
    files_dir = spec.mounts["/workspace/files"]
    assert files_dir.endswith(f"/workspaces/user/{user.pk}")
    assert spec.workspace.endswith(f"/workspaces/environment/{environment.id}")


def test_a_failing_startup_command_ends_in_error_with_the_reason(user, python_template, make_running, backend):
    backend.exec_results["python3 --version"] = (127, "sh: python3: not found\n")
    environment = make_running(user, python_template)
    assert environment.status == "error"
    assert "exited with 127" in environment.status_reason
    assert environment.installation_completed is False
    assert environment.id in backend.stopped
    assert InstallationLogLine.objects.filter(environment=environment, level="ERROR").exists()
    assert Activity.objects.filter(user=user, action="environment_error", status="failure").exists()


def test_a_backend_that_cannot_start_ends_in_error(user, python_template, make_running, backend):
    backend.fail_start = "no room at the inn"
    environment = make_running(user, python_template)
    assert environment.status == "error"
    assert "no room at the inn" in environment.status_reason


def test_the_second_start_skips_the_installation(
    user, python_template, make_running, backend, django_capture_on_commit_callbacks
):
    environment = make_running(user, python_template)
    services.environment_stop(environment=environment)
    with django_capture_on_commit_callbacks(execute=True):
        services.environment_start(environment=environment)
    environment.refresh_from_db()
    assert environment.status == "running"
    assert len(backend.exec_calls) == 1
    assert len(backend.started) == 2


def test_the_task_is_idempotent(user, python_template, make_running, backend):
    environment = make_running(user, python_template)
    assert tasks.provision_environment(environment.id) == "running"
    assert len(backend.started) == 1
    assert tasks.provision_environment("env-" + "0" * 32) is None


def test_a_redelivered_task_restarts_an_interrupted_installation(user, python_template, backend):
    environment = EnvironmentFactory(owner=user, template=python_template, status=Environment.Status.INSTALLING)
    assert tasks.provision_environment(environment.id) == "running"
    assert environment.id in backend.stopped  # the leftover sandbox was cleared first


def test_deleting_during_provisioning_leaves_nothing_running(user, python_template, backend, monkeypatch):
    environment = EnvironmentFactory(owner=user, template=python_template, status=Environment.Status.CREATING)
    real_start = backend.start

    def start_then_delete(spec):
        state = real_start(spec)
        services.environment_delete(environment=Environment.objects.get(pk=spec.id))
        return state

    monkeypatch.setattr(backend, "start", start_then_delete)
    tasks.provision_environment(environment.id)
    environment.refresh_from_db()
    assert environment.status == "terminated"
    assert backend.running() == []


def test_illegal_transitions_raise():
    environment = Environment(status=Environment.Status.RUNNING)
    with pytest.raises(Exception) as caught:
        environment.transition_to(Environment.Status.INSTALLING)
    assert caught.value.status_code == 409
    environment.transition_to(Environment.Status.TERMINATED)
    for target in Environment.Status.values:
        assert not Environment.can_transition("terminated", target)
    assert Environment.can_transition("stopped", "creating")
    assert Environment.can_transition("installing", "error")
    assert Environment.can_transition("error", "creating")
    assert not Environment.can_transition("stopped", "installing")


def test_an_unexpected_backend_failure_still_ends_in_error(user, python_template, make_running, backend, monkeypatch):
    def explode(spec):
        raise OSError("disk on fire")

    monkeypatch.setattr(backend, "start", explode)
    environment = make_running(user, python_template)
    assert environment.status == "error"
    assert environment.status_reason == "Could not start: internal error"
    assert "disk on fire" not in environment.status_reason
