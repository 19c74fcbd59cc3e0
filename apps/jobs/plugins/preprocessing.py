"""Preprocessing plugins in four categories: imputation, scaling, encoding and feature selection."""

from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.feature_selection import SelectKBest, VarianceThreshold, f_classif, f_regression
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, OrdinalEncoder, RobustScaler, StandardScaler

from apps.jobs.plugins.base import REGRESSION, SUPERVISED, PreprocessingPlugin
from apps.jobs.plugins.params import HyperParam, ParamError, none_if
from apps.jobs.plugins.registry import register


def _by_dtype(numeric: Any, categorical: Any) -> ColumnTransformer:
    """One transformer for numeric columns and another for the rest, so neither sees the other's
    dtype (a single imputer over mixed columns would turn every column into text)."""
    return ColumnTransformer(
        [
            ("numeric", numeric, make_column_selector(dtype_include=np.number)),
            ("categorical", categorical, make_column_selector(dtype_exclude=np.number)),
        ],
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")


# --- imputation ---------------------------------------------------------------------------------


@register
class SimpleImputerPlugin(PreprocessingPlugin):
    slug = "simple_imputer"
    name = "Simple Imputer"
    description = "Fills missing values with the column's mean, median or most frequent value."
    icon = "fill-drip"
    category = "imputation"
    best_for = "A few missing values at random; median is robust to outliers."
    applies_to = "numeric"
    hyperparameters = (
        HyperParam(
            "strategy",
            "Strategy",
            "select",
            "mean",
            "Mean and median fill numeric columns; most frequent also fills text columns.",
            options=("mean", "median", "most_frequent"),
        ),
        HyperParam(
            "add_indicator",
            "Add missing indicator",
            "boolean",
            False,
            "Add a 0/1 column per column that had missing values.",
            advanced=True,
        ),
    )

    def columns(self, params: Any = None) -> str:
        strategy = params.get("strategy", "mean") if isinstance(params, dict) else "mean"
        return "all" if strategy == "most_frequent" else "numeric"

    def make(self, values: dict[str, Any], problem_type: str | None) -> Any:
        if values["strategy"] == "most_frequent":
            return _by_dtype(
                SimpleImputer(strategy="most_frequent", add_indicator=values["add_indicator"]),
                SimpleImputer(strategy="most_frequent"),
            )
        return SimpleImputer(strategy=values["strategy"], add_indicator=values["add_indicator"])


@register
class ConstantImputerPlugin(PreprocessingPlugin):
    slug = "constant_imputer"
    name = "Constant Imputer"
    description = "Fills missing values with a fixed number (numeric columns) or label (text columns)."
    icon = "fill"
    category = "imputation"
    best_for = "When a missing value means something, e.g. 'none' or 0."
    applies_to = "all"
    hyperparameters = (
        HyperParam("numeric_fill_value", "Numeric fill value", "number", 0, "Used in numeric columns.", -1e12, 1e12),
        HyperParam("categorical_fill_value", "Text fill value", "string", "missing", "Used in text columns.", max=100),
    )

    def make(self, values: dict[str, Any], problem_type: str | None) -> Any:
        return _by_dtype(
            SimpleImputer(strategy="constant", fill_value=values["numeric_fill_value"]),
            SimpleImputer(strategy="constant", fill_value=values["categorical_fill_value"]),
        )


# --- scaling ------------------------------------------------------------------------------------


@register
class StandardScalerPlugin(PreprocessingPlugin):
    slug = "standard_scaler"
    name = "Standard Scaler"
    description = "Centres each numeric column on 0 and scales it to unit variance."
    icon = "arrows-left-right"
    category = "scaling"
    best_for = "Linear models, SVM and k-NN on roughly normal features."
    applies_to = "numeric"
    hyperparameters = (
        HyperParam("with_mean", "Centre", "boolean", True, "Subtract the mean."),
        HyperParam("with_std", "Scale", "boolean", True, "Divide by the standard deviation."),
    )

    def make(self, values: dict[str, Any], problem_type: str | None) -> Any:
        return StandardScaler(with_mean=values["with_mean"], with_std=values["with_std"])


@register
class MinMaxScalerPlugin(PreprocessingPlugin):
    slug = "minmax_scaler"
    name = "Min-Max Scaler"
    description = "Maps each numeric column linearly onto a range, 0 to 1 by default."
    icon = "maximize"
    category = "scaling"
    best_for = "Bounded features and models that expect inputs in a fixed range."
    applies_to = "numeric"
    hyperparameters = (
        HyperParam("feature_range_min", "Range minimum", "number", 0, "Lower end of the output range.", -1e6, 1e6),
        HyperParam("feature_range_max", "Range maximum", "number", 1, "Upper end of the output range.", -1e6, 1e6),
        HyperParam("clip", "Clip", "boolean", False, "Clip unseen values into the range.", advanced=True),
    )

    def check(self, values: dict[str, Any], problem_type: str | None) -> list[ParamError]:
        if values["feature_range_min"] >= values["feature_range_max"]:
            return [ParamError("feature_range_max", "must be greater than the range minimum")]
        return []

    def make(self, values: dict[str, Any], problem_type: str | None) -> Any:
        feature_range = (values["feature_range_min"], values["feature_range_max"])
        return MinMaxScaler(feature_range=feature_range, clip=values["clip"])


@register
class RobustScalerPlugin(PreprocessingPlugin):
    slug = "robust_scaler"
    name = "Robust Scaler"
    description = "Centres on the median and scales by the interquartile range, ignoring outliers."
    icon = "shield"
    category = "scaling"
    best_for = "Features with outliers."
    applies_to = "numeric"
    hyperparameters = (
        HyperParam("with_centering", "Centre", "boolean", True, "Subtract the median."),
        HyperParam("with_scaling", "Scale", "boolean", True, "Divide by the quantile range."),
        HyperParam(
            "quantile_low", "Lower quantile", "number", 25.0, "Lower end of the range, in %.", 0, 100, 1, advanced=True
        ),
        HyperParam(
            "quantile_high", "Upper quantile", "number", 75.0, "Upper end of the range, in %.", 0, 100, 1, advanced=True
        ),
    )

    def check(self, values: dict[str, Any], problem_type: str | None) -> list[ParamError]:
        if values["quantile_low"] >= values["quantile_high"]:
            return [ParamError("quantile_high", "must be greater than the lower quantile")]
        return []

    def make(self, values: dict[str, Any], problem_type: str | None) -> Any:
        return RobustScaler(
            with_centering=values["with_centering"],
            with_scaling=values["with_scaling"],
            quantile_range=(values["quantile_low"], values["quantile_high"]),
        )


# --- encoding -----------------------------------------------------------------------------------


@register
class OneHotEncoderPlugin(PreprocessingPlugin):
    slug = "one_hot_encoder"
    name = "One-Hot Encoder"
    description = "Turns each text category into its own 0/1 column; unseen categories become all zeros."
    icon = "table-columns"
    category = "encoding"
    best_for = "Categorical columns with a modest number of distinct values."
    applies_to = "categorical"
    hyperparameters = (
        HyperParam(
            "drop",
            "Drop",
            "select",
            "none",
            "Drop one column per feature ('first') or only for two-valued features ('if_binary').",
            options=("none", "first", "if_binary"),
        ),
        HyperParam(
            "max_categories",
            "Maximum categories",
            "integer",
            None,
            "Keep at most this many categories per column (rarer ones are grouped); empty means all.",
            2,
            1000,
            1,
            nullable=True,
            advanced=True,
        ),
    )

    def make(self, values: dict[str, Any], problem_type: str | None) -> Any:
        return OneHotEncoder(
            drop=none_if("none")(values["drop"]),
            max_categories=values["max_categories"],
            handle_unknown="infrequent_if_exist" if values["max_categories"] else "ignore",
            sparse_output=False,
        )


@register
class OrdinalEncoderPlugin(PreprocessingPlugin):
    slug = "ordinal_encoder"
    name = "Ordinal Encoder"
    description = "Replaces each text category with an integer code; unseen categories become -1."
    icon = "list-ol"
    category = "encoding"
    best_for = "Tree models, and categorical columns with many distinct values."
    applies_to = "categorical"
    hyperparameters = ()

    def make(self, values: dict[str, Any], problem_type: str | None) -> Any:
        return OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1)


# --- feature selection ---------------------------------------------------------------------------


@register
class VarianceThresholdPlugin(PreprocessingPlugin):
    slug = "variance_threshold"
    name = "Variance Threshold"
    description = "Drops numeric columns whose variance is at or below a threshold (0: constant columns)."
    icon = "filter"
    category = "feature_selection"
    best_for = "Removing constant or near-constant features."
    applies_to = "numeric"
    hyperparameters = (
        HyperParam(
            "threshold", "Threshold", "number", 0.0, "Columns with variance not above this are dropped.", 0, 1e6, 0.01
        ),
    )

    def make(self, values: dict[str, Any], problem_type: str | None) -> Any:
        return VarianceThreshold(threshold=values["threshold"])


@register
class SelectKBestPlugin(PreprocessingPlugin):
    slug = "select_k_best"
    name = "Select K Best"
    description = "Keeps the k numeric columns most related to the target (ANOVA F-test)."
    icon = "ranking-star"
    category = "feature_selection"
    best_for = "Many features of which few matter; needs a target, so not for clustering."
    applies_to = "numeric"
    problem_types = SUPERVISED
    hyperparameters = (
        HyperParam("k", "Features to keep (k)", "integer", 10, "Keeps all columns when there are fewer.", 1, 10000, 1),
    )

    def make(self, values: dict[str, Any], problem_type: str | None) -> Any:
        score = f_regression if problem_type == REGRESSION else f_classif
        return _AtMostKBest(score_func=score, k=values["k"])


class _AtMostKBest(SelectKBest):
    """SelectKBest that keeps every column when there are fewer than k (instead of warning)."""

    def _check_params(self, X: Any, y: Any) -> None:
        # With k above the column count the support mask already keeps every column.
        if not (isinstance(self.k, int) and self.k > X.shape[1]):
            super()._check_params(X, y)
