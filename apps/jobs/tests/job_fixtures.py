"""Helpers of the jobs tests: real datasets (a Parquet file profiled by the datasets app, stored
where ingestion stores it) and workflow graphs in the builder's node format."""

from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.files.base import ContentFile
from sklearn.datasets import load_iris

from apps.credits.models import CreditTransaction
from apps.credits.selectors import credit_balance
from apps.datasets.ingest.profile import profile_table
from apps.datasets.models import Dataset, DatasetVersion, IngestionJob
from apps.datasets.storage import dataset_storage, parquet_key


@pytest.fixture
def job_storage(settings, tmp_path):
    """Dataset files, job artifacts and the training processes' work folders under tmp_path."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.AWS_STORAGE_BUCKET_NAME = ""
    settings.JOBS_WORK_DIR = tmp_path / "jobs"
    settings.JOB_SUPERVISE_IN_THREAD = False
    return tmp_path


def make_dataset(user: Any, frame: pd.DataFrame, *, target: str = "", problem_type: str = "", name: str = "data"):
    """A dataset whose current version is ``frame``, ingested (Parquet and profile) and ready."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    dataset = Dataset.objects.create(owner=user, name=name, problem_type=problem_type, target_column=target)
    version = DatasetVersion.objects.create(
        dataset=dataset, version_number=1, original_filename=f"{name}.csv", raw_key=f"u{user.pk}/raw/{name}.csv"
    )
    key = parquet_key(user_id=user.pk, dataset_id=dataset.pk, version_number=1, version_id=version.pk)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    dataset_storage().save(key, ContentFile(sink.getvalue().to_pybytes()))
    version.parquet_key = key
    version.row_count = len(frame)
    version.column_count = len(frame.columns)
    version.columns_metadata = profile_table(table)
    version.save()
    IngestionJob.objects.create(
        owner=user,
        dataset=dataset,
        dataset_version=version,
        status=IngestionJob.Status.COMPLETED,
        progress_percentage=100,
    )
    dataset.current_version = version
    dataset.save()
    return dataset


def iris_frame() -> pd.DataFrame:
    """scikit-learn's iris with named species, a text column and some missing values."""
    frame = load_iris(as_frame=True).frame
    frame["species"] = frame.pop("target").map({0: "setosa", 1: "versicolor", 2: "virginica"})
    frame.loc[::9, "sepal length (cm)"] = np.nan
    frame["colour"] = np.where(frame.index % 3 == 0, "red", np.where(frame.index % 3 == 1, "blue", None))
    return frame


def plain_iris_frame() -> pd.DataFrame:
    """Iris with named species only: no text features, no gaps."""
    frame = load_iris(as_frame=True).frame
    frame["species"] = frame.pop("target").map({0: "setosa", 1: "versicolor", 2: "virginica"})
    return frame


def slow_frame(rows: int = 4000, columns: int = 30) -> pd.DataFrame:
    """A random classification table big enough for a slow model configuration to take minutes."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(rows, columns)), columns=[f"x{i}" for i in range(columns)])
    frame["label"] = np.where(frame["x0"] + rng.normal(size=rows) > 0, "yes", "no")
    return frame


def graph(
    dataset: Dataset,
    *,
    models: list[tuple[str, str, dict]] | None = None,
    preprocessing: list[tuple[str, str, dict]] | None = None,
    target: str | None = None,
    problem_type: str = "classification",
    metrics: list[str] | None = None,
    plots: list[str] | None = None,
    cv_folds: int = 3,
    test_size: float = 0.25,
) -> dict[str, list]:
    """``{nodes, edges}``: dataset -> preprocessing chain -> models -> evaluation."""
    models = models or [("m1", "random_forest", {"n_estimators": 20})]
    preprocessing = preprocessing or []
    data = {"dataset_id": dataset.pk, "problem_type": problem_type}
    if target:
        data["target_column"] = target
    nodes = [{"id": "d1", "type": "dataset", "data": data}]
    edges, previous = [], "d1"
    for node_id, plugin, params in preprocessing:
        nodes.append({"id": node_id, "type": "preprocessing", "data": {"plugin": plugin, "params": params}})
        edges.append({"source": previous, "target": node_id})
        previous = node_id
    evaluation = {"cv_folds": cv_folds, "test_size": test_size, "metrics": metrics or ["accuracy", "f1"]}
    evaluation["plots"] = plots if plots is not None else ["confusion_matrix"]
    for node_id, plugin, params in models:
        nodes.append({"id": node_id, "type": "model", "data": {"plugin": plugin, "params": params}})
        edges.append({"source": previous, "target": node_id})
        edges.append({"source": node_id, "target": "e1"})
    nodes.append({"id": "e1", "type": "evaluation", "data": evaluation})
    return {"nodes": nodes, "edges": edges}


def refunds(user: Any, job_id: Any) -> list[CreditTransaction]:
    """The refund transactions of one job."""
    return list(CreditTransaction.objects.filter(user=user, type="refund", reference=f"job:{job_id}"))


def balance(user: Any) -> Decimal:
    """The user's credit balance."""
    return credit_balance(user=user)
