"""Production mode refuses to start half-configured, and passes Django's deploy checks when complete.

Settings are read once per process, so each case runs ``manage.py check`` in a fresh subprocess
with a controlled environment.
"""

import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS")
# Variables the test runner or CI may set, which would leak into the child's settings.
INHERITED = (*REQUIRED, "ENVIRONMENT", "PYTEST_XDIST_WORKER", "DJANGO_SETTINGS_MODULE")


def _clean_env(**overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in INHERITED}
    env.update(overrides)
    return env


def _production_env(tmp_path: Path) -> dict[str, str]:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return _clean_env(
        ENVIRONMENT="production",
        DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
        REDIS_URL="redis://127.0.0.1:6379/15",
        SECRET_KEY="".join(secrets.choice(alphabet) for _ in range(60)),
        ALLOWED_HOSTS="hangar.example.com",
    )


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("missing", REQUIRED)
def test_production_refuses_to_start_without_a_required_variable(tmp_path, missing):
    env = _production_env(tmp_path)
    del env[missing]
    result = _manage("check", env=env)
    assert result.returncode != 0
    message = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in message
    assert missing in message
    for present in set(REQUIRED) - {missing}:
        assert present not in message


def test_production_security_settings_pass_the_deploy_check(tmp_path):
    result = _manage("check", "--deploy", "--tag", "security", "--fail-level", "WARNING", env=_production_env(tmp_path))
    assert result.returncode == 0, result.stderr


def test_production_passes_the_full_deploy_check(tmp_path):
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=_production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_embedded_default_needs_no_variables():
    result = _manage("check", env=_clean_env())
    assert result.returncode == 0, result.stderr
