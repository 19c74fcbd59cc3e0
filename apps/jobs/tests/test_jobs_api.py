"""003's job and workflow-execution endpoints over HTTP: submission, credits, listing, cancel,
retry, stats, and tenant isolation. The executor itself is exercised in test_executor*.py; here
queued jobs stay queued (the on-commit queueing only runs where a test captures it)."""

from decimal import Decimal

import pytest

from apps.jobs.models import Job, Workflow, WorkflowSnapshot
from apps.jobs.services.jobs import job_fail
from apps.jobs.tests.job_fixtures import balance, graph, job_storage, make_dataset, plain_iris_frame, refunds

__all__ = ["job_storage"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("job_storage")]


@pytest.fixture
def iris(user):
    return make_dataset(user, plain_iris_frame(), target="species", problem_type="classification", name="iris")


def execute(client, body):
    return client.post("/api/workflows/execute", body, format="json")


def test_execute_reserves_credits_and_queues_the_job(user, user_client, iris, django_capture_on_commit_callbacks):
    before = balance(user)
    with django_capture_on_commit_callbacks() as callbacks:
        response = execute(user_client, {**graph(iris), "name": "Iris forest"})
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["status"] == "queued"
    assert body["estimated_cost"] > 0
    job = Job.objects.get(pk=body["job_id"])
    assert job.status == "queued" and job.credits_reserved == Decimal(str(body["estimated_cost"]))
    assert balance(user) == before - job.credits_reserved
    assert job.snapshot.plan["target_column"] == "species"
    assert Workflow.objects.get(pk=body["workflow_id"]).name == "Iris forest"
    assert [node["id"] for node in job.nodes] == ["d1", "m1", "e1"]
    assert all(node["status"] == "pending" for node in job.nodes)
    assert callbacks, "the execution is queued when the transaction commits"


def test_execute_updates_an_existing_workflow_and_refuses_another_users(user_client, other_client, iris):
    first = execute(user_client, graph(iris)).json()
    second = execute(user_client, {**graph(iris, cv_folds=4), "workflow_id": first["workflow_id"]}).json()
    assert second["workflow_id"] == first["workflow_id"]
    assert Workflow.objects.get(pk=first["workflow_id"]).nodes[-1]["data"]["cv_folds"] == 4
    assert WorkflowSnapshot.objects.filter(workflow_id=first["workflow_id"]).count() == 2
    response = execute(other_client, {**graph(iris), "workflow_id": first["workflow_id"]})
    assert response.status_code in (400, 404)  # the dataset is not theirs either


def test_invalid_workflow_is_400_with_the_errors(user_client, iris):
    body = graph(iris, models=[("m1", "no_such_model", {})])
    response = execute(user_client, body)
    assert response.status_code == 400
    payload = response.json()
    assert payload["error_code"] == "INVALID_WORKFLOW"
    assert {"detail", "timestamp", "errors"} <= set(payload)
    assert any(error["node_id"] == "m1" for error in payload["errors"])
    assert not Job.objects.exists() and not Workflow.objects.exists()


@pytest.mark.parametrize(
    "body",
    [{}, {"nodes": "x", "edges": []}, {"nodes": [], "edges": [], "workflow_id": "abc"}, {"nodes": [], "edges": {}}],
)
def test_malformed_execute_bodies_are_400(user_client, body):
    response = execute(user_client, body)
    assert response.status_code == 400
    assert {"detail", "error_code", "timestamp"} <= set(response.json())


def test_malformed_json_is_400(user_client):
    response = user_client.post("/api/workflows/execute", "{nope", content_type="application/json")
    assert response.status_code == 400 and response.json()["error_code"] == "MALFORMED_JSON"


def test_short_balance_is_402_and_nothing_is_created(settings, user, user_client, iris):
    settings.CREDITS_SIGNUP_GRANT = 1
    response = execute(user_client, graph(iris, models=[("m1", "random_forest", {}), ("m2", "svm", {})]))
    assert response.status_code == 402
    assert response.json()["error_code"] == "INSUFFICIENT_CREDITS"
    assert not Job.objects.exists() and not Workflow.objects.exists()
    assert balance(user) == Decimal("1.00")


def test_create_job_from_a_snapshot(user, user_client, other_client, iris):
    first = execute(user_client, graph(iris)).json()
    response = user_client.post("/api/jobs", {"workflow_snapshot_id": first["workflow_snapshot_id"]}, format="json")
    assert response.status_code == 202
    assert response.json()["job_id"] != first["job_id"] and response.json()["status"] == "queued"
    assert Job.objects.filter(owner=user).count() == 2
    other = other_client.post("/api/jobs", {"workflow_snapshot_id": first["workflow_snapshot_id"]}, format="json")
    assert other.status_code == 404
    assert user_client.post("/api/jobs", {"workflow_snapshot_id": "x"}, format="json").status_code == 400
    assert user_client.post("/api/jobs", {}, format="json").status_code == 400


def test_list_filters_and_pages(user_client, iris):
    ids = [execute(user_client, graph(iris)).json()["job_id"] for _ in range(3)]
    Job.objects.filter(pk=ids[0]).update(status="failed")
    page = user_client.get("/api/jobs?page_size=2").json()
    assert page["total"] == 3 and len(page["items"]) == 2 and page["has_more"] and page["total_pages"] == 2
    assert page["items"][0]["id"] == ids[-1]  # newest first
    second = user_client.get("/api/jobs?page_size=2&page=2").json()
    assert len(second["items"]) == 1 and not second["has_more"]
    failed = user_client.get("/api/jobs?status_filter=failed").json()
    assert [item["id"] for item in failed["items"]] == [ids[0]]
    for query in ("page_size=101", "page=0", "status_filter=bogus", "page=x"):
        response = user_client.get(f"/api/jobs?{query}")
        assert response.status_code == 400, query
        assert response.json()["error_code"] == "VALIDATION_ERROR"


def test_detail_and_workflow_status(user_client, iris):
    job_id = execute(user_client, graph(iris)).json()["job_id"]
    detail = user_client.get(f"/api/jobs/{job_id}").json()
    assert detail["status"] == "queued" and detail["problem_type"] == "classification"
    assert [node["id"] for node in detail["nodes"]] == ["d1", "m1", "e1"]
    status = user_client.get(f"/api/workflows/{job_id}/status").json()
    assert status["status"] == "queued" and status["progress"] == 0 and status["results"] is None
    assert len(status["nodes"]) == 3


def test_cancel_a_queued_job_refunds_everything_once(user, user_client, iris):
    before = balance(user)
    job_id = execute(user_client, graph(iris)).json()["job_id"]
    response = user_client.post(f"/api/jobs/{job_id}/cancel")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "cancelled" and body["credits_charged"] == 0
    assert all(node["status"] == "cancelled" for node in body["nodes"])
    assert balance(user) == before
    assert len(refunds(user, job_id)) == 1
    again = user_client.post(f"/api/workflows/{job_id}/cancel")
    assert again.status_code == 409 and again.json()["error_code"] == "CONFLICT"
    assert "cancelled" in again.json()["detail"]
    assert len(refunds(user, job_id)) == 1


def test_cancel_a_completed_job_is_409(user_client, iris):
    job_id = execute(user_client, graph(iris)).json()["job_id"]
    Job.objects.filter(pk=job_id).update(status="completed")
    response = user_client.post(f"/api/jobs/{job_id}/cancel")
    assert response.status_code == 409
    assert response.json()["detail"].startswith("Job is completed")


def test_retry_only_failed_jobs_and_charge_again(user, user_client, iris):
    job_id = execute(user_client, graph(iris)).json()["job_id"]
    queued = user_client.post(f"/api/jobs/{job_id}/retry")
    assert queued.status_code == 409 and "only failed" in queued.json()["detail"]
    job_fail(job_id=job_id, reason="boom")
    job = Job.objects.get(pk=job_id)
    assert job.status == "failed" and job.error_message == "boom" and len(refunds(user, job_id)) == 1
    before = balance(user)
    response = user_client.post(f"/api/jobs/{job_id}/retry")
    assert response.status_code == 202
    retry = Job.objects.get(pk=response.json()["job_id"])
    assert retry.retry_of_id == job.pk and retry.snapshot_id == job.snapshot_id and retry.status == "queued"
    assert balance(user) == before - retry.credits_reserved
    Job.objects.filter(pk=retry.pk).update(status="completed")
    assert user_client.post(f"/api/jobs/{retry.pk}/retry").status_code == 409


def test_retry_with_a_short_balance_is_402(settings, user, user_client, iris):
    job_id = execute(user_client, graph(iris)).json()["job_id"]
    job_fail(job_id=job_id, reason="boom")
    from apps.credits.services import credits_spend

    credits_spend(user=user, amount=balance(user), description="drain", reference="test")
    response = user_client.post(f"/api/jobs/{job_id}/retry")
    assert response.status_code == 402
    assert Job.objects.filter(owner=user).count() == 1


def test_stats_are_aggregates_of_the_callers_jobs(user, user_client, other_client, iris):
    ids = [execute(user_client, graph(iris)).json()["job_id"] for _ in range(3)]
    cost = Job.objects.get(pk=ids[0]).credits_reserved
    job_fail(job_id=ids[0], reason="boom")  # fully refunded
    from django.utils import timezone

    now = timezone.now()
    Job.objects.filter(pk=ids[1]).update(
        status="completed", started_at=now - timezone.timedelta(seconds=10), completed_at=now, credits_charged=cost
    )
    stats = user_client.get("/api/jobs/stats").json()
    assert stats["total_jobs"] == 3
    assert stats["by_status"]["failed"] == 1 and stats["by_status"]["completed"] == 1
    assert stats["by_status"]["queued"] == 1
    assert stats["total_credits_spent"] == pytest.approx(float(cost * 2))
    assert stats["success_rate"] == 0.5
    assert stats["average_duration_seconds"] == pytest.approx(10, abs=0.01)
    empty = other_client.get("/api/jobs/stats").json()
    assert empty["total_jobs"] == 0 and empty["success_rate"] is None and empty["total_credits_spent"] == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/jobs/{id}"),
        ("get", "/api/jobs/{id}/logs"),
        ("post", "/api/jobs/{id}/cancel"),
        ("post", "/api/jobs/{id}/retry"),
        ("get", "/api/workflows/{id}/status"),
        ("post", "/api/workflows/{id}/cancel"),
        ("get", "/api/jobs/{id}/plots/m1_confusion_matrix.png"),
        ("get", "/api/jobs/{id}/models/m1/download"),
    ],
)
def test_another_user_gets_404_everywhere(user_client, other_client, iris, method, path):
    job_id = execute(user_client, graph(iris)).json()["job_id"]
    Job.objects.filter(pk=job_id).update(status="failed")
    response = getattr(other_client, method)(path.format(id=job_id))
    assert response.status_code == 404
    assert Job.objects.get(pk=job_id).status == "failed"
    assert other_client.get("/api/jobs").json()["total"] == 0


@pytest.mark.parametrize("job_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_unknown_or_malformed_job_ids_are_404(user_client, job_id):
    for path in (f"/api/jobs/{job_id}", f"/api/workflows/{job_id}/status", f"/api/jobs/{job_id}/logs"):
        response = user_client.get(path)
        assert response.status_code == 404 and response.json()["error_code"] == "NOT_FOUND"


def test_anonymous_is_401(api_client):
    assert api_client.get("/api/jobs").status_code == 401
    assert api_client.post("/api/workflows/execute", {}, format="json").status_code == 401


def test_queued_job_logs(user_client, iris):
    job_id = execute(user_client, graph(iris)).json()["job_id"]
    logs = user_client.get(f"/api/jobs/{job_id}/logs").json()
    assert logs["status"] == "queued"
    assert [node["status"] for node in logs["nodes"]] == ["pending"] * 3
    assert logs["nodes"][0]["duration_seconds"] is None


def _cookie_client(user):
    from django.test import Client

    from apps.accounts.tokens import tokens_for

    client = Client()
    client.cookies["hangar_access"] = tokens_for(user).access
    return client


def test_pages_need_a_sign_in_and_hide_other_users_jobs(client, user, other_user, user_client, iris):
    job_id = execute(user_client, graph(iris)).json()["job_id"]
    for path in ("/workflows", "/jobs", f"/jobs/{job_id}"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login?next=")
        assert _cookie_client(user).get(path).status_code == 200
    assert _cookie_client(other_user).get(f"/jobs/{job_id}").status_code == 404
