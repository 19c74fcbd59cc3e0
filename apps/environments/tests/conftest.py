"""Fixtures of the environments tests: workspaces under tmp_path and an in-memory backend."""

import pytest

from apps.environments.models import Environment
from apps.environments.services import environments as env_services
from apps.environments.services.templates import templates_initialize_defaults
from apps.environments.tests.fakes import FakeBackend
from apps.runtime import registry


@pytest.fixture(autouse=True)
def _runtime_root(settings, tmp_path):
    """Workspaces go to the test's temporary folder, not the repository."""
    settings.RUNTIME_ROOT = tmp_path / "runtime"


@pytest.fixture(autouse=True)
def backend(monkeypatch):
    """The fake backend (test_real_backend.py overrides this fixture with the real one)."""
    fake = FakeBackend()
    monkeypatch.setattr(registry, "get_backend", lambda: fake)
    return fake


@pytest.fixture
def templates(db) -> dict:
    """The five default templates, by name."""
    return {template.name: template for template in templates_initialize_defaults()[0]}


@pytest.fixture
def python_template(templates):
    return templates["python-3.11"]


@pytest.fixture
def make_running(django_capture_on_commit_callbacks):
    """Create an environment through the service and run its provisioning (the Celery task, eager)."""

    def make(owner, template, **kwargs) -> Environment:
        with django_capture_on_commit_callbacks(execute=True):
            environment = env_services.environment_create(
                owner=owner, template=template, name=kwargs.pop("name", "work"), **kwargs
            )
        environment.refresh_from_db()
        return environment

    return make


@pytest.fixture
def running_env(user, python_template, make_running) -> Environment:
    """One of ``user``'s environments, running."""
    environment = make_running(user, python_template)
    assert environment.status == Environment.Status.RUNNING, environment.status_reason
    return environment
