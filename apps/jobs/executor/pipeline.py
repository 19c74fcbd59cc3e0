"""Building the scikit-learn pipeline of one model node from a plan and a data frame.

Columns are split by type. Numeric ones go through the numeric preprocessing steps, categorical ones
(strings, categories, booleans) through the categorical steps, inside one ``ColumnTransformer``;
steps that apply to every column run in both. Whatever the user leaves out
is supplied, so real data trains: missing numbers are imputed with the median, missing categories
with the most frequent value, and categories are one-hot encoded (unknown ones ignored, rare ones
grouped, at most ``MAX_CATEGORIES`` columns each). Other columns (dates, ...) are dropped and logged.
"""

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from apps.jobs.executor import catalogue

MAX_CATEGORIES = 50


@dataclass(frozen=True)
class Step:
    """One node of the plan: its id, plugin slug and parameters."""

    node_id: str
    slug: str
    params: dict = field(default_factory=dict)


def plan_steps(entries: list) -> list[Step]:
    """``[(node_id, slug, params)]`` from a plan (lists in JSON) or ``[{node_id, slug, params}]``."""
    steps = []
    for entry in entries or []:
        if isinstance(entry, dict):
            steps.append(Step(str(entry["node_id"]), entry.get("slug") or entry["plugin"], entry.get("params") or {}))
        else:
            node_id, slug, params = entry
            steps.append(Step(str(node_id), slug, params or {}))
    return steps


@dataclass(frozen=True)
class ColumnSplit:
    """Which feature columns are numeric, which categorical, and which were dropped."""

    numeric: list[str]
    categorical: list[str]
    dropped: list[str]


def split_columns(frame: pd.DataFrame) -> ColumnSplit:
    """Sort the feature columns of ``frame`` by type."""
    numeric, categorical, dropped = [], [], []
    for name in frame.columns:
        dtype = frame[name].dtype
        if pd.api.types.is_bool_dtype(dtype):
            categorical.append(name)
        elif pd.api.types.is_numeric_dtype(dtype):
            numeric.append(name)
        elif (
            isinstance(dtype, pd.CategoricalDtype)
            or pd.api.types.is_object_dtype(dtype)
            or pd.api.types.is_string_dtype(dtype)
        ):
            categorical.append(name)
        else:
            dropped.append(name)
    return ColumnSplit(numeric, categorical, dropped)


def prepare_features(frame: pd.DataFrame, columns: ColumnSplit) -> pd.DataFrame:
    """The feature frame: kept columns only; categorical values as plain strings (NaN stays NaN),
    so mixed types and booleans encode consistently."""
    features = frame[columns.numeric + columns.categorical].copy()
    for name in columns.categorical:
        features[name] = features[name].map(lambda value: str(value) if pd.notna(value) else np.nan).astype(object)
    return features


def _branch(steps: list[tuple[str, Any]], categories: set[str], *, imputer: Any, encoder: Any | None) -> Pipeline:
    """A column branch: an automatic imputer first unless the user imputes, and (categorical
    branch) an automatic encoder last unless the user encodes."""
    result = list(steps)
    if "imputation" not in categories:
        result.insert(0, ("auto_impute", imputer))
    if encoder is not None and "encoding" not in categories:
        result.append(("auto_encode", encoder))
    # Frames between the steps: the catalogue's steps for all columns choose columns by dtype.
    return Pipeline(result).set_output(transform="pandas")


def _step_name(step: Step) -> str:
    return f"{step.slug}-{step.node_id}".replace("__", "_")


def build_pipeline(*, preprocessing: list[Step], model: Step, problem_type: str, columns: ColumnSplit) -> Pipeline:
    """The full pipeline of one model node: the two column branches, then the estimator.

    A step for ``all`` columns runs in both branches (each with its own fitted copy).
    """
    branches: dict[str, list[tuple[str, Any]]] = {"numeric": [], "categorical": []}
    categories: dict[str, set[str]] = {"numeric": set(), "categorical": set()}
    for step in preprocessing:
        applies_to = catalogue.preprocessor_applies_to(step.slug, step.params)
        for branch in ("numeric", "categorical"):
            if applies_to in (branch, "all"):
                estimator = catalogue.build_preprocessor(step.slug, step.params, problem_type)
                branches[branch].append((_step_name(step), estimator))
                categories[branch].add(catalogue.preprocessor_category(step.slug))
    transformers = []
    if columns.numeric:
        numeric = _branch(
            branches["numeric"], categories["numeric"], imputer=SimpleImputer(strategy="median"), encoder=None
        )
        transformers.append(("numeric", numeric, columns.numeric))
    if columns.categorical:
        categorical = _branch(
            branches["categorical"],
            categories["categorical"],
            imputer=SimpleImputer(strategy="most_frequent"),
            encoder=OneHotEncoder(
                handle_unknown="infrequent_if_exist", max_categories=MAX_CATEGORIES, sparse_output=False
            ),
        )
        transformers.append(("categorical", categorical, columns.categorical))
    # Dense output: several estimators (histogram boosting, some imputers) refuse sparse input.
    routing = ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0)
    estimator = catalogue.build_model(model.slug, model.params, problem_type)
    return Pipeline([("columns", routing), ("model", estimator)])
