"""The real executor: a training process per job, on real data, with its results, plots and model
served over HTTP; the time limit; crashes. Cancelling a running job is in test_executor_cancel.py."""

import io

import joblib
import numpy as np
import pandas as pd
import psutil
import pytest

from apps.jobs.models import Job, TrainedModel
from apps.jobs.services.execution import job_execute
from apps.jobs.services.jobs import jobs_reap_stuck
from apps.jobs.tests.job_fixtures import (
    balance,
    graph,
    iris_frame,
    job_storage,
    make_dataset,
    plain_iris_frame,
    refunds,
    slow_frame,
)

__all__ = ["job_storage"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("job_storage")]


def submit(client, body) -> str:
    response = client.post("/api/workflows/execute", body, format="json")
    assert response.status_code == 202, response.json()
    return response.json()["job_id"]


def test_iris_end_to_end_with_two_models_plots_and_downloads(user, user_client, other_client):
    dataset = make_dataset(user, iris_frame(), target="species", problem_type="classification", name="iris")
    body = graph(
        dataset,
        preprocessing=[
            ("p1", "simple_imputer", {"strategy": "median"}),
            ("p2", "standard_scaler", {}),
            ("p3", "one_hot_encoder", {}),
        ],
        models=[("rf", "random_forest", {"n_estimators": 30}), ("lr", "logistic_regression", {})],
        metrics=["accuracy", "f1", "roc_auc"],
        plots=["confusion_matrix", "roc_curve"],
    )
    before = balance(user)
    job_id = submit(user_client, body)
    assert job_execute(job_id=job_id) == "completed"
    job = Job.objects.get(pk=job_id)
    assert job.progress == 100 and job.credits_charged == job.credits_reserved
    assert balance(user) == before - job.credits_charged and not refunds(user, job_id)
    assert all(node["status"] == "completed" for node in job.nodes), job.nodes
    assert job.nodes[0]["summary"]["rows"] == 150 and job.nodes[0]["summary"]["categorical_columns"] == 1
    assert [node["id"] for node in job.nodes] == ["d1", "p1", "p2", "p3", "rf", "lr", "e1"]
    assert job.started_at and job.completed_at and job.executor_pid

    results = user_client.get(f"/api/workflows/{job_id}/status").json()["results"]
    assert results["primary_metric"] == "accuracy" and results["test_rows"] == 38
    assert [row["rank"] for row in results["leaderboard"]] == [1, 2]
    scores = [row["score"] for row in results["leaderboard"]]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0.8
    for entry in results["models"]:
        assert set(entry["metrics"]) == {"accuracy", "f1", "roc_auc"}
        assert entry["cv_metrics"]["accuracy"]["mean"] > 0.8
        assert {plot["plot"] for plot in entry["plots"]} == {"confusion_matrix", "roc_curve"}
        for plot in entry["plots"]:
            png = user_client.get(plot["url"])
            assert png.status_code == 200 and png["Content-Type"] == "image/png"
            assert b"".join(png.streaming_content).startswith(b"\x89PNG")
            assert other_client.get(plot["url"]).status_code == 404
        download = user_client.get(entry["download_url"])
        assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
        pipeline = joblib.load(io.BytesIO(b"".join(download.streaming_content)))
        frame = iris_frame().drop(columns=["species"])
        assert set(pipeline.predict(frame.head(5))) <= {"setosa", "versicolor", "virginica"}
        assert other_client.get(entry["download_url"]).status_code == 404
    assert TrainedModel.objects.filter(job_id=job_id, owner=user).count() == 2
    assert user_client.get(f"/api/jobs/{job_id}/plots/nope.png").status_code == 404
    assert user_client.get(f"/api/jobs/{job_id}/models/nope/download").status_code == 404

    logs = user_client.get(f"/api/jobs/{job_id}/logs").json()
    by_id = {node["id"]: node for node in logs["nodes"]}
    assert by_id["rf"]["duration_seconds"] >= 0 and any("Test metrics" in line for line in by_id["rf"]["logs"])
    assert by_id["e1"]["summary"]["leaderboard"][0]["rank"] == 1
    # Running it again does nothing: only a queued job starts.
    assert job_execute(job_id=job_id) is None


def test_adult_like_data_with_strings_and_missing_values_trains_without_preprocessing(user, user_client):
    """No preprocessing node at all: the executor imputes and one-hot encodes by itself."""
    rng = np.random.default_rng(1)
    rows = 400
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 80, rows).astype(float),
            "workclass": rng.choice(["Private", "State-gov", "Self-emp", None], rows),
            "hours": rng.normal(40, 8, rows),
            "married": rng.choice([True, False], rows),
        }
    )
    frame.loc[::13, "age"] = np.nan
    frame["income"] = np.where(frame["hours"] + rng.normal(0, 5, rows) > 42, ">50K", "<=50K")
    dataset = make_dataset(user, frame, target="income", problem_type="classification", name="adult")
    job_id = submit(user_client, graph(dataset, models=[("gb", "gradient_boosting", {"n_estimators": 20})]))
    assert job_execute(job_id=job_id) == "completed", Job.objects.get(pk=job_id).error_message
    job = Job.objects.get(pk=job_id)
    assert job.nodes[0]["summary"]["categorical_columns"] == 2  # workclass, married
    assert job.results["models"][0]["metrics"]["accuracy"] > 0.5


def test_regression_ranks_by_an_error_metric_lowest_first(user, user_client):
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    frame["y"] = 3 * frame["a"] - frame["b"] + rng.normal(0, 0.1, 200)
    dataset = make_dataset(user, frame, target="y", problem_type="regression", name="linear")
    body = graph(
        dataset,
        problem_type="regression",
        models=[("lin", "linear_regression", {}), ("tree", "decision_tree", {})],
        metrics=["rmse", "r2"],
        plots=["residuals"],
    )
    job_id = submit(user_client, body)
    assert job_execute(job_id=job_id) == "completed", Job.objects.get(pk=job_id).error_message
    board = Job.objects.get(pk=job_id).results["leaderboard"]
    assert board[0]["node_id"] == "lin" and board[0]["score"] < board[1]["score"]


def test_time_limit_kills_the_process_fails_and_refunds(settings, user, user_client):
    settings.JOB_TIME_LIMIT_SECONDS = 4
    dataset = make_dataset(user, slow_frame(), target="label", problem_type="classification", name="slow")
    body = graph(dataset, models=[("gb", "gradient_boosting", {"n_estimators": 1000, "max_depth": 8})], cv_folds=10)
    before = balance(user)
    job_id = submit(user_client, body)
    assert job_execute(job_id=job_id) == "failed"
    job = Job.objects.get(pk=job_id)
    assert "Time limit of 4 s exceeded" in job.error_message
    assert not psutil.pid_exists(job.executor_pid) or psutil.Process(job.executor_pid).status() == "zombie"
    assert job.credits_charged == 0 and balance(user) == before
    assert len(refunds(user, job_id)) == 1
    # The node that was running when time ran out (if training had begun) carries the reason.
    assert all("Time limit" in node["error"] for node in job.nodes if node["status"] == "failed")
    assert next(node for node in job.nodes if node["id"] == "gb")["status"] in ("failed", "skipped")
    assert next(node for node in job.nodes if node["id"] == "e1")["status"] == "skipped"


def test_a_dataset_problem_fails_the_job_with_the_reason(user, user_client):
    dataset = make_dataset(user, plain_iris_frame(), target="species", problem_type="classification", name="iris")
    job_id = submit(user_client, graph(dataset))
    # The Parquet file disappears between submission and execution.
    from apps.datasets.storage import dataset_storage

    dataset_storage().delete(dataset.current_version.parquet_key)
    assert job_execute(job_id=job_id) == "failed"
    job = Job.objects.get(pk=job_id)
    assert job.error_message and len(refunds(user, job_id)) == 1


def test_reaper_fails_and_refunds_jobs_whose_worker_died(settings, user, user_client):
    dataset = make_dataset(user, plain_iris_frame(), target="species", problem_type="classification", name="iris")
    stuck = submit(user_client, graph(dataset))
    fresh = submit(user_client, graph(dataset))
    from django.utils import timezone

    long_ago = timezone.now() - timezone.timedelta(seconds=settings.JOB_TIME_LIMIT_SECONDS + 3600)
    Job.objects.filter(pk=stuck).update(status="running", started_at=long_ago)
    assert jobs_reap_stuck() == [stuck]
    job = Job.objects.get(pk=stuck)
    assert job.status == "failed" and "stopped responding" in job.error_message
    assert len(refunds(user, stuck)) == 1
    assert Job.objects.get(pk=fresh).status == "queued"
    assert jobs_reap_stuck() == []
