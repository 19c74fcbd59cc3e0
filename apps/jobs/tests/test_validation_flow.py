"""Validation end to end: a CSV uploaded and ingested through 003's dataset routes, then validated
over HTTP; the plan follows the columns as ingestion profiled them."""

import pytest

pytestmark = pytest.mark.django_db

ROWS = 40
CSV = "customer_id,age,income,city,joined,churned\n" + "".join(
    f"{i},{20 + i % 30 if i % 7 else ''},{30000 + 1000 * i},{['Paris', 'Lyon', 'Nice'][i % 3]},"
    f"2024-01-{1 + i % 28:02d},{i % 2}\n"
    for i in range(1, ROWS + 1)
)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.AWS_STORAGE_BUCKET_NAME = ""


def upload(client, capture, *, run_ingestion: bool = True) -> int:
    """upload-url, the signed PUT, confirm (ingestion runs when confirm's transaction commits)."""
    from rest_framework.test import APIClient

    body = CSV.encode()
    intent = client.post("/api/datasets/upload-url", {"filename": "churn.csv", "size_bytes": len(body)}, format="json")
    assert intent.status_code == 200, intent.content
    put = APIClient().put(intent.json()["upload_url"], data=body, content_type="text/csv")
    assert put.status_code == 200, put.content
    fields = {
        "upload_id": intent.json()["upload_id"],
        "dataset_name": "churn",
        "problem_type": "classification",
        "target_column": "churned",
    }
    with capture(execute=run_ingestion):
        confirmed = client.post("/api/datasets/confirm", fields, format="json")
    assert confirmed.status_code == 200, confirmed.content
    return confirmed.json()["dataset_id"]


def graph(dataset_id, *models):
    nodes = [{"id": "data", "type": "dataset", "data": {"dataset_id": dataset_id}}]
    nodes += [{"id": f"m{i}", "type": "model", "data": {"plugin": slug}} for i, slug in enumerate(models)]
    nodes.append({"id": "eval", "type": "evaluation", "data": {"metrics": ["accuracy", "f1"], "cv_folds": 3}})
    edges = [{"source": "data", "target": f"m{i}"} for i in range(len(models))]
    edges += [{"source": f"m{i}", "target": "eval"} for i in range(len(models))]
    return {"nodes": nodes, "edges": edges}


def test_an_ingested_dataset_validates_into_a_priced_plan(user, user_client, django_capture_on_commit_callbacks):
    from apps.jobs.workflows import validate_workflow

    dataset_id = upload(user_client, django_capture_on_commit_callbacks)
    body = graph(dataset_id, "random_forest", "logistic_regression")
    answer = user_client.post("/api/workflows/validate", body, format="json")
    assert answer.status_code == 200
    assert answer.json()["valid"] is True, answer.json()
    assert answer.json()["estimated_cost"] > 1
    plan = validate_workflow(user=user, **body).plan
    assert plan.row_count == ROWS and plan.target_column == "churned"
    # The id column (profiled as an identifier) is left out; age has gaps, city is text: both stay.
    assert "customer_id" in plan.dropped_columns
    assert {"age", "income", "city"} <= set(plan.feature_columns)
    assert "churned" not in plan.feature_columns


def test_a_dataset_still_ingesting_or_someone_elses_is_not_usable(
    user_client, other_client, django_capture_on_commit_callbacks
):
    pending = upload(user_client, django_capture_on_commit_callbacks, run_ingestion=False)
    errors = user_client.post("/api/workflows/validate", graph(pending, "knn"), format="json").json()["errors"]
    assert errors == [
        {
            "node_id": "data",
            "field": "dataset_id",
            "message": "Dataset is still being processed; try again when its ingestion has completed",
        }
    ]
    ready = upload(user_client, django_capture_on_commit_callbacks)
    theirs = other_client.post("/api/workflows/validate", graph(ready, "knn"), format="json").json()
    assert theirs["errors"] == [{"node_id": "data", "field": "dataset_id", "message": "Dataset not found"}]
