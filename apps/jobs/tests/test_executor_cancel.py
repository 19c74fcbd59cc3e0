"""Cancelling a running job: its training process (a deliberately slow model) is killed within
seconds, the job ends cancelled and the credits come back once.

The job runs as the embedded worker runs it: the (eager) task starts the supervision on a thread of
its own when the submission commits; so the test needs committed data.
"""

import threading
import time

import psutil
import pytest
from django.conf import settings as django_settings

from apps.jobs.models import Job
from apps.jobs.tests.job_fixtures import balance, graph, job_storage, make_dataset, refunds, slow_frame

__all__ = ["job_storage"]
# The supervision thread writes while the request thread still does. The in-memory SQLite test
# database (shared cache) answers that with "database table is locked" at once instead of waiting,
# as a file database or PostgreSQL would; so this test runs in the PostgreSQL pass of CI.
IN_MEMORY_SQLITE = django_settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("job_storage"),
    pytest.mark.skipif(IN_MEMORY_SQLITE, reason="in-memory SQLite refuses concurrent writers; runs on PostgreSQL"),
]


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _supervisor(job_id: str) -> threading.Thread | None:
    return next((thread for thread in threading.enumerate() if thread.name == f"job-{job_id}"), None)


def test_cancel_kills_the_running_training_process_and_refunds(settings, user, user_client):
    settings.JOB_SUPERVISE_IN_THREAD = True
    dataset = make_dataset(user, slow_frame(), target="label", problem_type="classification", name="slow")
    body = graph(dataset, models=[("gb", "gradient_boosting", {"n_estimators": 1000, "max_depth": 8})], cv_folds=10)
    before = balance(user)
    response = user_client.post("/api/workflows/execute", body, format="json")
    assert response.status_code == 202
    job_id = response.json()["job_id"]
    runner = _supervisor(job_id)
    assert runner is not None, "the task did not start the supervision"
    try:
        assert _wait_for(
            lambda: Job.objects.filter(pk=job_id, status="running", executor_pid__isnull=False).exists(), 60
        ), "the job never started"
        pid = Job.objects.get(pk=job_id).executor_pid
        assert psutil.pid_exists(pid) and job_id in psutil.Process(pid).cmdline()
        cancelled_at = time.monotonic()
        response = user_client.post(f"/api/jobs/{job_id}/cancel")
        assert response.status_code == 200 and response.json()["status"] == "cancelled"
        assert _wait_for(lambda: _gone(pid), 5), "the training process outlived the cancel"
        assert time.monotonic() - cancelled_at < 5
    finally:
        runner.join(timeout=60)
    assert not runner.is_alive()
    job = Job.objects.get(pk=job_id)
    assert job.status == "cancelled" and job.credits_charged == 0
    assert balance(user) == before and len(refunds(user, job_id)) == 1
    assert {node["status"] for node in job.nodes} <= {"completed", "cancelled"}
    assert user_client.post(f"/api/jobs/{job_id}/cancel").status_code == 409
    assert user_client.post(f"/api/jobs/{job_id}/retry").status_code == 409
