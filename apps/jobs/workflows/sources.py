"""What validation needs to know about a workflow's dataset: readiness, columns and target.

Datasets are read through ``apps.datasets.selectors.dataset_get``, which is scoped to the caller:
another user's dataset is "not found", exactly like one that does not exist.
"""

from dataclasses import dataclass
from typing import Any

from apps.core.errors import NotFound

MIN_ROWS = 10
MAX_CLASSES = 100
_NUMERIC_DTYPES = ("int", "uint", "float", "number", "numeric", "integer", "double", "decimal")
# Columns ingestion profiled as identifiers, free text or timestamps carry no usable signal for the
# catalogue's models (an id would only let a model memorise rows), so plans leave them out.
UNUSED_ROLES = ("id", "text", "datetime")


class DatasetUnusable(ValueError):
    """The dataset cannot be trained on (missing, someone else's, or not processed yet)."""


@dataclass(frozen=True)
class DatasetFacts:
    """The parts of a dataset and its current version that a plan needs."""

    dataset_id: int
    version_id: int
    problem_type: str
    target_column: str
    row_count: int
    column_count: int
    columns: tuple[dict[str, Any], ...]

    @property
    def column_names(self) -> list[str]:
        """Column names in file order."""
        return [str(column.get("name")) for column in self.columns]

    def column(self, name: str) -> dict[str, Any] | None:
        """The metadata of column ``name``, or None."""
        return next((c for c in self.columns if c.get("name") == name), None)


def facts(*, user: Any, dataset_id: Any) -> DatasetFacts:
    """The facts about ``user``'s dataset ``dataset_id``; raises :class:`DatasetUnusable`."""
    from apps.datasets.selectors import dataset_get

    try:
        dataset = dataset_get(user=user, dataset_id=_as_id(dataset_id))
    except (NotFound, ValueError, TypeError) as exc:
        raise DatasetUnusable("Dataset not found") from exc
    version = dataset.current_version
    problem = _not_ready(dataset, version)
    if problem:
        raise DatasetUnusable(problem)
    return DatasetFacts(
        dataset_id=dataset.pk,
        version_id=version.pk,
        problem_type=dataset.problem_type or "",
        target_column=dataset.target_column or "",
        row_count=int(version.row_count or 0),
        column_count=int(version.column_count or len(version.columns_metadata)),
        columns=tuple(c for c in version.columns_metadata if isinstance(c, dict)),
    )


def _as_id(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError("not an id")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    # Beyond a 64-bit key PostgreSQL would refuse the query itself; no such dataset exists anyway.
    if isinstance(value, int) and 0 < value < 2**63:
        return value
    raise ValueError("not an id")


def _not_ready(dataset: Any, version: Any) -> str | None:
    """Why the dataset cannot be trained on yet, or None when its current version finished ingestion.

    A dataset gets a current version only once one finished; before that, its newest ingestion
    job says whether it is still running or failed.
    """
    from apps.datasets.models import IngestionJob

    jobs = IngestionJob.objects.order_by("-created_at")
    job = (jobs.filter(dataset_version=version) if version else jobs.filter(dataset=dataset)).first()
    if job is not None and job.status == IngestionJob.Status.FAILED:
        return f"Dataset processing failed: {job.error_message or 'unknown error'}"
    if job is not None and job.status != IngestionJob.Status.COMPLETED:
        return "Dataset is still being processed; try again when its ingestion has completed"
    if version is None:
        return "Dataset has no processed version yet"
    if not version.parquet_key or not version.columns_metadata or version.row_count is None:
        return "Dataset has not finished processing"
    if version.row_count < MIN_ROWS:
        return f"Dataset has {version.row_count} rows; training needs at least {MIN_ROWS}"
    return None


def target_for(source: DatasetFacts, problem_type: str, data: dict[str, Any]) -> str | None:
    """The target column a plan uses: the node's, else the dataset's; None for clustering."""
    if problem_type == "clustering":
        return None
    return data.get("target_column") or source.target_column or None


def is_numeric(column: dict[str, Any]) -> bool:
    """Whether a column's dtype (as profiled at ingestion) is a number type."""
    dtype = str(column.get("dtype", "")).lower()
    return dtype.startswith(_NUMERIC_DTYPES) and not dtype.startswith("interval")


def target_problems(source: DatasetFacts, problem_type: str, data: dict[str, Any]) -> list[tuple[str, str]]:
    """``(field, message)`` for every problem with the target column for ``problem_type``."""
    if problem_type == "clustering":
        if data.get("target_column"):
            return [("target_column", "clustering takes no target column")]
        return [] if source.columns else [("dataset_id", "Dataset has no columns")]
    given = data.get("target_column")
    if given is not None and not isinstance(given, str):
        return [("target_column", "must be a column name")]
    target = target_for(source, problem_type, data)
    if not target:
        return [("target_column", f"is required for {problem_type}: the dataset does not declare one")]
    column = source.column(target)
    if column is None:
        return [("target_column", f"the dataset has no column {target!r}")]
    if len(source.columns) < 2:
        return [("target_column", "the dataset has no feature columns besides the target")]
    unique = column.get("unique_count")
    if isinstance(unique, int) and unique < 2:
        return [("target_column", f"column {target!r} is constant (one distinct value); there is nothing to learn")]
    if problem_type == "regression" and not is_numeric(column):
        return [("target_column", f"regression needs a numeric target; {target!r} is {column.get('dtype')}")]
    if problem_type == "classification" and isinstance(unique, int):
        limit = min(MAX_CLASSES, source.row_count // 2)
        if unique > limit:
            return [
                (
                    "target_column",
                    f"column {target!r} has {unique} distinct values; classification allows at most {limit} "
                    f"classes for {source.row_count} rows (is this a regression target?)",
                )
            ]
    return []


def split_columns(source: DatasetFacts, target: str | None) -> tuple[list[str], list[str]]:
    """``(feature columns, dropped columns)``: every column but the target, less unusable roles."""
    features, dropped = [], []
    for column in source.columns:
        name = str(column.get("name"))
        if name == target:
            continue
        (dropped if column.get("role") in UNUSED_ROLES else features).append(name)
    return features, dropped
