"""The training itself, run inside the executor process: load, split, cross-validate, fit, score,
plot, save, rank. It reports through an :class:`~apps.jobs.executor.protocol.Emitter` and writes
files only under the spec's ``output_dir`` (and ``time_limit_seconds``, which :mod:`apps.jobs.executor.run` uses).

The spec (written by the supervisor) holds ``plan`` (the snapshot's plan, see
:class:`apps.jobs.workflows.plan.Plan`), ``data_path`` (the dataset version's Parquet) and
``output_dir`` (and ``time_limit_seconds``, which :mod:`apps.jobs.executor.run` uses).
"""

import math
import time
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold, cross_validate, train_test_split

from apps.jobs.executor import catalogue
from apps.jobs.executor.names import plot_name, safe_name
from apps.jobs.executor.pipeline import ColumnSplit, Step, build_pipeline, plan_steps, prepare_features, split_columns
from apps.jobs.executor.protocol import Emitter

# Share of the overall progress: loading, then the models (evenly), then the evaluation.
_LOAD_SHARE, _EVALUATION_SHARE = 5.0, 5.0


class TrainingError(Exception):
    """A problem with the data or the plan that the user should read as the job's error."""


class Training:
    """One job's training run."""

    def __init__(self, spec: dict[str, Any], emitter: Emitter) -> None:
        self.spec = spec
        self.plan = spec["plan"]
        self.emit = emitter
        self.output = Path(spec["output_dir"])
        self.problem_type = self.plan["problem_type"]
        self.target = self.plan.get("target_column") or ""
        self.metrics = list(self.plan.get("metrics") or [])
        self.plots = list(self.plan.get("plots") or [])
        self.cv_folds = int(self.plan.get("cv_folds") or 0)
        self.test_size = float(self.plan.get("test_size") or 0.2)
        self.preprocessing = plan_steps(self.plan.get("preprocessing"))
        self.models = plan_steps(self.plan.get("models"))
        self.dataset_node = self.plan.get("dataset_node_id") or "dataset"
        self.evaluation_node = self.plan.get("evaluation_node_id")
        self.random_state = int(self.plan.get("random_state", 42))

    # --- The run ---------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        """Train every model node; returns the ``result`` event's payload."""
        self.output.mkdir(parents=True, exist_ok=True)
        features, labels, columns = self._load()
        self._mark_preprocessing(columns)
        split = self._split(features, labels)
        entries, artifacts = [], {"plots": {}, "models": {}}
        share = (100.0 - _LOAD_SHARE - _EVALUATION_SHARE) / max(1, len(self.models))
        for index, model in enumerate(self.models):
            base = _LOAD_SHARE + index * share
            entries.append(self._train_model(model, split, columns, base, share, artifacts))
        return self._evaluate(entries, artifacts, split)

    def _load(self) -> tuple[pd.DataFrame, pd.Series | None, ColumnSplit]:
        node = self.dataset_node
        self.emit.node(node, "running")
        frame = pd.read_parquet(self.spec["data_path"])
        wanted = [str(name) for name in self.plan.get("feature_columns") or []]
        if wanted:
            missing = [name for name in wanted if name not in frame.columns]
            if missing:
                raise TrainingError(f"Columns missing from the dataset: {', '.join(missing[:10])}")
            frame = frame[wanted + ([self.target] if self.target in frame.columns else [])]
        labels = None
        if self.problem_type != "clustering":
            if self.target not in frame.columns:
                raise TrainingError(f"Target column '{self.target}' is not in the dataset")
            before = len(frame)
            frame = frame[frame[self.target].notna()]
            if len(frame) < before:
                self.emit.log(f"Dropped {before - len(frame)} rows without a target value", node)
            labels = frame[self.target]
            frame = frame.drop(columns=[self.target])
        columns = split_columns(frame)
        if columns.dropped:
            self.emit.log(f"Ignored columns of unsupported types: {', '.join(map(str, columns.dropped))}", node)
        if not columns.numeric and not columns.categorical:
            raise TrainingError("The dataset has no usable feature columns")
        if len(frame) < 10:
            raise TrainingError(f"The dataset has {len(frame)} usable rows; at least 10 are needed")
        summary = {
            "rows": len(frame),
            "feature_columns": len(columns.numeric) + len(columns.categorical),
            "numeric_columns": len(columns.numeric),
            "categorical_columns": len(columns.categorical),
            "ignored_columns": [str(name) for name in columns.dropped],
        }
        self.emit.log(
            f"Loaded {len(frame)} rows: {summary['numeric_columns']} numeric and "
            f"{summary['categorical_columns']} categorical feature columns",
            node,
        )
        self.emit.node(node, "completed", summary=summary)
        self.emit.progress(_LOAD_SHARE, node)
        return prepare_features(frame, columns), labels, columns

    def _mark_preprocessing(self, columns: ColumnSplit) -> None:
        for step in self.preprocessing:
            applies_to = catalogue.preprocessor_applies_to(step.slug, step.params)
            count = {"numeric": len(columns.numeric), "categorical": len(columns.categorical)}.get(
                applies_to, len(columns.numeric) + len(columns.categorical)
            )
            self.emit.node(step.node_id, "completed", summary={"applies_to": applies_to, "columns": count})

    def _split(self, features: pd.DataFrame, labels: pd.Series | None) -> dict[str, Any]:
        if labels is None:
            return {"X_train": features, "X_test": features, "y_train": None, "y_test": None}
        stratify = None
        if self.problem_type == "classification":
            counts = labels.value_counts()
            if len(counts) < 2:
                raise TrainingError(f"The target column '{self.target}' has a single class")
            if counts.min() >= 2:
                stratify = labels
        X_train, X_test, y_train, y_test = train_test_split(
            features, labels, test_size=self.test_size, random_state=self.random_state, stratify=stratify
        )
        self.emit.log(f"Held out {len(X_test)} of {len(features)} rows for testing", self.dataset_node)
        return {"X_train": X_train, "X_test": X_test, "y_train": y_train, "y_test": y_test}

    # --- One model -------------------------------------------------------------------------------

    def _cv(self, y_train: pd.Series | None) -> Any:
        if self.problem_type == "classification":
            smallest = int(y_train.value_counts().min())
            folds = min(self.cv_folds, smallest)
            if folds < 2:
                return None
            return StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
        return KFold(n_splits=self.cv_folds, shuffle=True, random_state=self.random_state)

    def _cross_validate(self, pipeline: Any, split: dict, node_id: str) -> dict[str, dict[str, float]]:
        if self.cv_folds < 2 or split["y_train"] is None:
            return {}
        n_classes = split["y_train"].nunique() if self.problem_type == "classification" else None
        scoring = {slug: catalogue.metric_scorer(slug, n_classes) for slug in self.metrics}
        scoring = {slug: scorer for slug, scorer in scoring.items() if scorer}
        cv = self._cv(split["y_train"])
        if not scoring or cv is None:
            return {}
        self.emit.log(f"Cross-validating with {cv.get_n_splits()} folds", node_id)
        scores = cross_validate(
            pipeline, split["X_train"], split["y_train"], cv=cv, scoring=scoring, error_score="raise"
        )
        result = {}
        for slug in scoring:
            values = np.array([catalogue.metric_from_cv(slug, v, n_classes) for v in scores[f"test_{slug}"]])
            result[slug] = {"mean": _number(values.mean()), "std": _number(values.std())}
        return result

    def _predictions(self, pipeline: Any, split: dict) -> dict[str, Any]:
        """Everything metrics and plots draw from, computed once per model."""
        X_test = split["X_test"]
        transformed = pipeline[:-1].transform(X_test)
        try:
            feature_names = [str(name) for name in pipeline[:-1].get_feature_names_out()]
        except (AttributeError, ValueError):
            feature_names = None
        estimator = pipeline[-1]
        if split["y_test"] is None:
            labels = getattr(estimator, "labels_", None)
            y_pred = labels if labels is not None and len(labels) == len(X_test) else estimator.fit_predict(transformed)
            return {
                "y_true": None,
                "y_pred": y_pred,
                "y_score": None,
                "X": transformed,
                "feature_names": feature_names,
                "labels": None,
            }
        y_score, classes = None, None
        if self.problem_type == "classification":
            classes = list(getattr(pipeline, "classes_", []))
            if hasattr(pipeline, "predict_proba"):
                y_score = pipeline.predict_proba(X_test)
            elif hasattr(pipeline, "decision_function"):
                y_score = pipeline.decision_function(X_test)
        return {
            "y_true": split["y_test"],
            "y_pred": pipeline.predict(X_test),
            "y_score": y_score,
            "X": transformed,
            "feature_names": feature_names,
            "labels": classes,
        }

    def _test_metrics(self, predicted: dict[str, Any]) -> dict[str, float | None]:
        return {
            slug: _number(
                catalogue.metric_compute(
                    slug,
                    predicted["y_true"],
                    predicted["y_pred"],
                    y_score=predicted["y_score"],
                    X=predicted["X"],
                    labels=predicted["labels"],
                )
            )
            for slug in self.metrics
        }

    def _train_model(
        self, model: Step, split: dict, columns: ColumnSplit, base: float, share: float, artifacts: dict
    ) -> dict[str, Any]:
        node_id = model.node_id
        self.emit.node(node_id, "running")
        pipeline = build_pipeline(
            preprocessing=self.preprocessing, model=model, problem_type=self.problem_type, columns=columns
        )
        started = time.monotonic()
        cv_metrics = self._cross_validate(pipeline, split, node_id)
        self.emit.progress(base + share * 0.6, node_id)
        self.emit.log("Fitting on the training rows", node_id)
        if split["y_train"] is None:
            pipeline.fit(split["X_train"])
        else:
            pipeline.fit(split["X_train"], split["y_train"])
        fit_seconds = time.monotonic() - started
        predicted = self._predictions(pipeline, split)
        metrics = self._test_metrics(predicted)
        self.emit.log("Test metrics: " + ", ".join(f"{k}={_fmt(v)}" for k, v in metrics.items()), node_id)
        model_file = f"models/{safe_name(node_id)}.joblib"
        (self.output / "models").mkdir(exist_ok=True)
        joblib.dump(pipeline, self.output / model_file)
        artifacts["models"][node_id] = model_file
        plots = self._render_plots(pipeline, predicted, model, artifacts)
        self.emit.progress(base + share, node_id)
        entry = {
            "node_id": node_id,
            "plugin": model.slug,
            "name": catalogue.model_name(model.slug),
            "params": model.params,
            "metrics": metrics,
            "cv_metrics": cv_metrics,
            "fit_seconds": round(fit_seconds, 3),
            "plots": plots,
        }
        self.emit.node(
            node_id,
            "completed",
            summary={"metrics": metrics, "cv_metrics": cv_metrics, "seconds": entry["fit_seconds"]},
        )
        return entry

    def _render_plots(self, pipeline: Any, predicted: dict, model: Step, artifacts: dict) -> list[dict[str, str]]:
        rendered = []
        (self.output / "plots").mkdir(exist_ok=True)
        context = catalogue.PlotContext(
            problem_type=self.problem_type,
            y_true=predicted["y_true"],
            y_pred=predicted["y_pred"],
            y_score=predicted["y_score"],
            X=predicted["X"],
            feature_names=predicted["feature_names"],
            estimator=pipeline,
            labels=predicted["labels"],
            title=f"{catalogue.model_name(model.slug)} ({model.node_id})",
        )
        for slug in self.plots:
            try:
                png = catalogue.render_plot(slug, context)
            except Exception as exc:  # one plot that cannot be drawn must not fail the training
                self.emit.log(f"Plot {slug} was not drawn: {exc}", model.node_id)
                continue
            name = plot_name(model.node_id, slug)
            (self.output / "plots" / f"{name}.png").write_bytes(png)
            artifacts["plots"][name] = f"plots/{name}.png"
            rendered.append({"name": name, "plot": slug, "title": catalogue.plot_title(slug)})
        return rendered

    # --- Evaluation ------------------------------------------------------------------------------

    def _evaluate(self, entries: list[dict], artifacts: dict, split: dict) -> dict[str, Any]:
        node = self.evaluation_node
        if node:
            self.emit.node(node, "running")
        primary = self.metrics[0] if self.metrics else None
        leaderboard = rank(entries, primary, catalogue.metric_greater_is_better(primary) if primary else True)
        results = {
            "problem_type": self.problem_type,
            "target_column": self.target,
            "primary_metric": primary,
            "metrics": self.metrics,
            "train_rows": len(split["X_train"]),
            "test_rows": len(split["X_test"]) if split["y_test"] is not None else 0,
            "cv_folds": self.cv_folds,
            "models": entries,
            "leaderboard": leaderboard,
            "best_model": leaderboard[0]["node_id"] if leaderboard else None,
        }
        if node:
            self.emit.node(node, "completed", summary={"primary_metric": primary, "leaderboard": leaderboard})
        self.emit.progress(100, node)
        return {"results": results, "artifacts": artifacts}


def rank(entries: list[dict], primary: str | None, greater_is_better: bool) -> list[dict[str, Any]]:
    """The models sorted by the primary test metric (missing values last), with ranks."""

    def key(entry: dict) -> tuple[int, float]:
        value = entry["metrics"].get(primary) if primary else None
        if value is None:
            return (1, 0.0)
        return (0, -value if greater_is_better else value)

    ordered = sorted(entries, key=key)
    return [
        {
            "rank": position,
            "node_id": entry["node_id"],
            "plugin": entry["plugin"],
            "name": entry["name"],
            "score": entry["metrics"].get(primary) if primary else None,
            "metrics": entry["metrics"],
        }
        for position, entry in enumerate(ordered, start=1)
    ]


def _number(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else round(value, 6)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"
