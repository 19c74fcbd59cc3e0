"""Reads of the datasets app, always scoped to the caller: another tenant's dataset is a 404."""

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from django.apps import apps
from django.db.models import F, Prefetch, QuerySet, Sum

from apps.core.errors import NotFound
from apps.datasets import storage
from apps.datasets.models import Dataset, DatasetVersion, IngestionJob

SORT_FIELDS = ("created_at", "updated_at", "name")


def _with_versions(queryset: QuerySet[Dataset]) -> QuerySet[Dataset]:
    jobs = IngestionJob.objects.order_by("-created_at")
    versions = DatasetVersion.objects.order_by("version_number").prefetch_related(
        Prefetch("ingestion_jobs", queryset=jobs)
    )
    return queryset.select_related("current_version").prefetch_related(Prefetch("versions", queryset=versions))


def dataset_get(*, user, dataset_id: int, for_update: bool = False) -> Dataset:
    """One of the caller's datasets with its versions and their jobs; 404 for anyone else's."""
    queryset = Dataset.objects.filter(owner=user)
    if for_update:
        dataset = queryset.select_for_update().filter(pk=dataset_id).first()
    else:
        dataset = _with_versions(queryset).filter(pk=dataset_id).first()
    if dataset is None:
        raise NotFound("Dataset not found")
    return dataset


def dataset_list(
    *,
    user,
    problem_type: str = "",
    search: str = "",
    sort_by: str = "created_at",
    sort_order: str = "desc",
) -> QuerySet[Dataset]:
    """The caller's datasets, filtered by ``problem_type`` and a name ``search``, sorted."""
    if sort_by not in SORT_FIELDS:
        raise ValueError(f"sort_by must be one of {SORT_FIELDS}")
    queryset = Dataset.objects.filter(owner=user)
    if problem_type:
        queryset = queryset.filter(problem_type=problem_type)
    if search:
        queryset = queryset.filter(name__icontains=search)
    prefix = "-" if sort_order == "desc" else ""
    return _with_versions(queryset).order_by(f"{prefix}{sort_by}", f"{prefix}id")


def ingestion_job_get(*, user, job_id: object) -> IngestionJob:
    """One of the caller's ingestion jobs; 404 for anyone else's."""
    job = IngestionJob.objects.filter(owner=user, pk=job_id).first()
    if job is None:
        raise NotFound("Job not found")
    return job


def dataset_version_get(*, user, version_id: int) -> DatasetVersion:
    """One of the caller's dataset versions; 404 for anyone else's."""
    version = DatasetVersion.objects.select_related("dataset").filter(dataset__owner=user, pk=version_id).first()
    if version is None:
        raise NotFound("Dataset version not found")
    return version


def dataset_version_local_path(*, version: DatasetVersion) -> Path:
    """A local path of the version's Parquet file (downloaded to a temporary cache when storage is
    remote). 404 when the version has not been ingested."""
    if not version.parquet_key:
        raise NotFound("This dataset version has not been processed yet")
    return storage.local_path(version.parquet_key)


def dataset_version_dataframe(*, version: DatasetVersion) -> pd.DataFrame:
    """The version's data as a pandas DataFrame, read from its Parquet file."""
    return pq.read_table(dataset_version_local_path(version=version)).to_pandas()


def latest_job(version: DatasetVersion) -> IngestionJob | None:
    """The newest ingestion job of a version (from the prefetch when there is one)."""
    jobs = list(version.ingestion_jobs.all())
    return max(jobs, key=lambda job: job.created_at) if jobs else None


def dataset_status(dataset: Dataset) -> str:
    """The ingestion status of the dataset's newest version ("pending" before any)."""
    versions = list(dataset.versions.all())
    if not versions:
        return IngestionJob.Status.PENDING
    job = latest_job(max(versions, key=lambda version: version.version_number))
    return job.status if job is not None else IngestionJob.Status.PENDING


def storage_used_bytes(*, user) -> int:
    """Bytes the caller's datasets hold in storage: every version's raw upload and Parquet."""
    total = DatasetVersion.objects.filter(dataset__owner=user).aggregate(
        total=Sum(F("raw_size_bytes") + F("file_size_bytes"))
    )["total"]
    return int(total or 0)


def _owned_count(app_label: str, model_name: str, user) -> int:
    """How many rows of ``app_label.model_name`` ``user`` owns; 0 while that model does not exist."""
    try:
        model = apps.get_model(app_label, model_name)
    except LookupError:
        return 0
    return model.objects.filter(owner=user).count()


def automl_counters(*, user) -> dict[str, int]:
    """003's ``/api/auth/me`` counters: datasets, workflows, trained models and storage bytes."""
    return {
        "dataset_count": Dataset.objects.filter(owner=user).count(),
        "workflow_count": _owned_count("jobs", "Workflow", user),
        "model_count": _owned_count("jobs", "TrainedModel", user),
        "storage_used_bytes": storage_used_bytes(user=user),
    }
