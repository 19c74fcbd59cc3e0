"""The execution plan: a validated workflow normalised into what the executor runs.

A :class:`Plan` is frozen and JSON-serialisable (``to_dict``/``from_dict`` round-trip exactly), so a
snapshot can store it and the training process can rebuild it without Django. Every parameter in
it is complete: defaults are filled and values coerced to their declared types.
"""

from dataclasses import dataclass, field
from typing import Any

PLAN_VERSION = 1


@dataclass(frozen=True)
class PlanStep:
    """One preprocessing or model node: its id, its plugin's slug and its complete parameters."""

    node_id: str
    plugin: str
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """``{"node_id", "plugin", "params"}``."""
        return {"node_id": self.node_id, "plugin": self.plugin, "params": dict(self.params)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PlanStep":
        """The inverse of :meth:`to_dict`."""
        return cls(node_id=data["node_id"], plugin=data["plugin"], params=dict(data.get("params") or {}))


@dataclass(frozen=True)
class Plan:
    """What to run: the data, the preprocessing chain in order, the models, and how to evaluate.

    ``target_column`` is ``None`` for clustering. ``feature_columns`` are the dataset's columns in
    order, less the target and ``dropped_columns`` (profiled as id, text or datetime). ``models``
    are trained independently on the same preprocessed data (several make a leaderboard).
    ``metrics`` and ``plots`` apply to every model (a plot a model cannot draw, e.g. feature
    importance for k-NN, is skipped for that model). ``cv_folds`` is the number of
    cross-validation folds on the training split; ``test_size`` the held-out share.
    """

    dataset_node_id: str
    dataset_id: int
    dataset_version_id: int
    problem_type: str
    target_column: str | None
    feature_columns: tuple[str, ...]
    dropped_columns: tuple[str, ...]
    row_count: int
    column_count: int
    preprocessing: tuple[PlanStep, ...]
    models: tuple[PlanStep, ...]
    metrics: tuple[str, ...]
    plots: tuple[str, ...]
    cv_folds: int
    test_size: float
    evaluation_node_id: str | None = None
    random_state: int = 42
    version: int = PLAN_VERSION

    def to_dict(self) -> dict[str, Any]:
        """The plan as plain JSON types."""
        return {
            "version": self.version,
            "dataset_node_id": self.dataset_node_id,
            "dataset_id": self.dataset_id,
            "dataset_version_id": self.dataset_version_id,
            "problem_type": self.problem_type,
            "target_column": self.target_column,
            "feature_columns": list(self.feature_columns),
            "dropped_columns": list(self.dropped_columns),
            "row_count": self.row_count,
            "column_count": self.column_count,
            "preprocessing": [step.to_dict() for step in self.preprocessing],
            "models": [step.to_dict() for step in self.models],
            "metrics": list(self.metrics),
            "plots": list(self.plots),
            "cv_folds": self.cv_folds,
            "test_size": self.test_size,
            "evaluation_node_id": self.evaluation_node_id,
            "random_state": self.random_state,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Plan":
        """The inverse of :meth:`to_dict`; raises ``ValueError`` for another plan version."""
        if data.get("version") != PLAN_VERSION:
            raise ValueError(f"Unsupported plan version {data.get('version')!r}")
        return cls(
            dataset_node_id=data["dataset_node_id"],
            dataset_id=data["dataset_id"],
            dataset_version_id=data["dataset_version_id"],
            problem_type=data["problem_type"],
            target_column=data["target_column"],
            feature_columns=tuple(data["feature_columns"]),
            dropped_columns=tuple(data["dropped_columns"]),
            row_count=data["row_count"],
            column_count=data["column_count"],
            preprocessing=tuple(PlanStep.from_dict(step) for step in data["preprocessing"]),
            models=tuple(PlanStep.from_dict(step) for step in data["models"]),
            metrics=tuple(data["metrics"]),
            plots=tuple(data["plots"]),
            cv_folds=data["cv_folds"],
            test_size=data["test_size"],
            evaluation_node_id=data.get("evaluation_node_id"),
            random_state=data.get("random_state", 42),
        )

    @property
    def node_ids(self) -> list[str]:
        """Every node the executor reports on, in execution order."""
        ids = [self.dataset_node_id, *(s.node_id for s in self.preprocessing), *(s.node_id for s in self.models)]
        return ids + ([self.evaluation_node_id] if self.evaluation_node_id else [])
