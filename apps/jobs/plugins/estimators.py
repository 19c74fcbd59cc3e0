"""Model plugins: one class per algorithm, serving each problem type it has an estimator for."""

from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.cluster import DBSCAN, KMeans
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import Lasso, LinearRegression, LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.svm import SVC, SVR
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from apps.jobs.plugins.base import CLASSIFICATION, CLUSTERING, RANDOM_STATE, REGRESSION, ModelPlugin
from apps.jobs.plugins.params import HyperParam, ParamError, none_if
from apps.jobs.plugins.registry import register

SEEDED = {"random_state": RANDOM_STATE}


def _class_weight() -> HyperParam:
    return HyperParam(
        "class_weight",
        "Class weight",
        "select",
        "none",
        "'balanced' weighs classes inversely to their frequency, for imbalanced data.",
        options=("none", "balanced"),
        advanced=True,
        problem_types=(CLASSIFICATION,),
        to_sklearn=none_if("none"),
    )


def _fit_intercept() -> HyperParam:
    return HyperParam("fit_intercept", "Fit intercept", "boolean", True, "Learn a constant offset.", advanced=True)


def _tree_params(*, depth_default: int | None) -> tuple[HyperParam, ...]:
    return (
        HyperParam(
            "max_depth",
            "Maximum depth",
            "integer",
            depth_default,
            "How deep each tree may grow; empty means no limit.",
            min=1,
            max=100,
            step=1,
            nullable=depth_default is None,
        ),
        HyperParam(
            "min_samples_split",
            "Minimum samples to split",
            "integer",
            2,
            "Rows a node needs before it may be split.",
            min=2,
            max=100,
            step=1,
            advanced=True,
        ),
        HyperParam(
            "min_samples_leaf",
            "Minimum samples per leaf",
            "integer",
            1,
            "Rows each leaf must keep; larger values smooth the model.",
            min=1,
            max=100,
            step=1,
            advanced=True,
        ),
    )


@register
class LogisticRegressionPlugin(ModelPlugin):
    slug = "logistic_regression"
    name = "Logistic Regression"
    description = "A linear model of class probabilities; fast, well calibrated and easy to explain."
    icon = "chart-line"
    category = "linear"
    best_for = "Baselines, linearly separable classes, when you need to explain coefficients."
    estimators = {CLASSIFICATION: LogisticRegression}
    fixed = {CLASSIFICATION: SEEDED}
    has_feature_importance = True
    cost_factor = 0.5
    hyperparameters = (
        HyperParam(
            "C", "Inverse regularisation (C)", "number", 1.0, "Smaller values regularise more.", 0.0001, 1000, 0.01
        ),
        HyperParam(
            "max_iter", "Maximum iterations", "integer", 1000, "Solver iterations before stopping.", 50, 10000, 50
        ),
        HyperParam(
            "solver",
            "Solver",
            "select",
            "lbfgs",
            "Optimisation algorithm; L1 or elastic-net regularisation needs saga.",
            options=("lbfgs", "liblinear", "newton-cg", "newton-cholesky", "sag", "saga"),
            advanced=True,
        ),
        HyperParam(
            "l1_ratio",
            "L1 ratio",
            "number",
            0.0,
            "0 is L2 (ridge) regularisation, 1 is L1 (lasso), in between is elastic-net.",
            0,
            1,
            0.05,
            advanced=True,
        ),
        _class_weight(),
        _fit_intercept(),
    )

    def check(self, values: dict[str, Any], problem_type: str | None) -> list[ParamError]:
        if values["l1_ratio"] > 0 and values["solver"] != "saga":
            return [ParamError("solver", "L1 or elastic-net regularisation (l1_ratio > 0) needs the saga solver")]
        return []


@register
class RandomForestPlugin(ModelPlugin):
    slug = "random_forest"
    name = "Random Forest"
    description = "Many decision trees on bootstrapped samples, averaged; robust with little tuning."
    icon = "trees"
    category = "ensemble"
    best_for = "Tabular data with non-linear effects and interactions; a strong default."
    estimators = {CLASSIFICATION: RandomForestClassifier, REGRESSION: RandomForestRegressor}
    fixed = {CLASSIFICATION: SEEDED, REGRESSION: SEEDED}
    has_feature_importance = True
    cost_factor = 2.0
    hyperparameters = (
        HyperParam(
            "n_estimators", "Number of trees", "integer", 100, "More trees are steadier but slower.", 10, 1000, 10
        ),
        *_tree_params(depth_default=None),
        HyperParam(
            "max_features",
            "Features per split",
            "select",
            "sqrt",
            "How many features each split considers; 'all' uses every feature.",
            options=("sqrt", "log2", "all"),
            advanced=True,
            to_sklearn=none_if("all"),
        ),
        HyperParam("bootstrap", "Bootstrap samples", "boolean", True, "Train each tree on a resample.", advanced=True),
        _class_weight(),
    )


@register
class GradientBoostingPlugin(ModelPlugin):
    slug = "gradient_boosting"
    name = "Gradient Boosting"
    description = "Shallow trees added one by one, each correcting the errors of those before it."
    icon = "rocket"
    category = "ensemble"
    best_for = "Best accuracy on tabular data when you can afford some tuning."
    estimators = {CLASSIFICATION: GradientBoostingClassifier, REGRESSION: GradientBoostingRegressor}
    fixed = {CLASSIFICATION: SEEDED, REGRESSION: SEEDED}
    has_feature_importance = True
    cost_factor = 2.5
    hyperparameters = (
        HyperParam("n_estimators", "Boosting stages", "integer", 100, "Number of trees added.", 10, 1000, 10),
        HyperParam("learning_rate", "Learning rate", "number", 0.1, "How much each tree contributes.", 0.001, 1, 0.001),
        *_tree_params(depth_default=3),
        HyperParam(
            "subsample",
            "Subsample",
            "number",
            1.0,
            "Fraction of rows each tree sees; below 1 adds randomness and speed.",
            0.1,
            1,
            0.05,
            advanced=True,
        ),
    )


@register
class SVMPlugin(ModelPlugin):
    slug = "svm"
    name = "Support Vector Machine"
    description = "Finds the widest margin between classes (SVC) or a tube around the target (SVR)."
    icon = "vector-square"
    category = "svm"
    best_for = "Small to medium datasets with scaled features and clear margins."
    estimators = {CLASSIFICATION: SVC, REGRESSION: SVR}
    fixed = {CLASSIFICATION: SEEDED}
    cost_factor = 3.0
    hyperparameters = (
        HyperParam(
            "C", "Regularisation (C)", "number", 1.0, "Larger values fit the training data harder.", 0.001, 1000, 0.01
        ),
        HyperParam(
            "kernel",
            "Kernel",
            "select",
            "rbf",
            "Shape of the decision boundary.",
            options=("rbf", "linear", "poly", "sigmoid"),
        ),
        HyperParam(
            "gamma",
            "Gamma",
            "select",
            "scale",
            "Kernel coefficient for rbf, poly and sigmoid.",
            options=("scale", "auto"),
            advanced=True,
        ),
        HyperParam("degree", "Degree", "integer", 3, "Degree of the poly kernel.", 1, 10, 1, advanced=True),
        HyperParam(
            "epsilon",
            "Epsilon",
            "number",
            0.1,
            "Width of the tube within which errors are not penalised.",
            0,
            100,
            0.01,
            advanced=True,
            problem_types=(REGRESSION,),
        ),
        _class_weight(),
    )

    def wrap(self, estimator: Any, problem_type: str) -> Any:
        # Calibrated probabilities (scikit-learn's replacement for SVC(probability=True)) make
        # roc_auc and the ROC curve work for more than two classes.
        if problem_type == CLASSIFICATION:
            return _CalibratedSVC(estimator, ensemble=False, cv=3)
        return estimator

    def explains(self, params: Any = None) -> bool:
        # Only a linear kernel has coefficients; without params the answer is "it can".
        if params is None:
            return True
        return isinstance(params, dict) and params.get("kernel", "rbf") == "linear"


class _CalibratedSVC(CalibratedClassifierCV):
    """Calibration with at most ``cv`` folds, fewer when the rarest class has fewer rows (min 2)."""

    def fit(self, X: Any, y: Any, **fit_params: Any) -> "_CalibratedSVC":
        rarest = int(np.unique(np.asarray(y), return_counts=True)[1].min())
        if isinstance(self.cv, int) and rarest < self.cv:
            # A derived value, so a clone of the fitted model refits the same way.
            self.cv = max(2, rarest)
        return super().fit(X, y, **fit_params)


@register
class KNeighborsPlugin(ModelPlugin):
    slug = "knn"
    name = "K-Nearest Neighbours"
    description = "Predicts from the k most similar training rows."
    icon = "circle-nodes"
    category = "neighbors"
    best_for = "Small datasets with scaled features where similar rows share outcomes."
    estimators = {CLASSIFICATION: KNeighborsClassifier, REGRESSION: KNeighborsRegressor}
    cost_factor = 1.0
    hyperparameters = (
        HyperParam("n_neighbors", "Neighbours (k)", "integer", 5, "How many neighbours vote.", 1, 100, 1),
        HyperParam(
            "weights",
            "Weights",
            "select",
            "uniform",
            "'distance' lets closer neighbours count more.",
            options=("uniform", "distance"),
        ),
        HyperParam(
            "metric",
            "Distance",
            "select",
            "minkowski",
            "How distance between rows is measured.",
            options=("minkowski", "euclidean", "manhattan", "chebyshev"),
            advanced=True,
        ),
        HyperParam(
            "algorithm",
            "Search algorithm",
            "select",
            "auto",
            "How neighbours are found.",
            options=("auto", "ball_tree", "kd_tree", "brute"),
            advanced=True,
        ),
        HyperParam("leaf_size", "Leaf size", "integer", 30, "Leaf size of the search tree.", 1, 500, 1, advanced=True),
    )

    def check_rows(self, values: dict[str, Any], rows: int) -> list[ParamError]:
        if values["n_neighbors"] > rows:
            return [ParamError("n_neighbors", f"must not exceed the {rows} rows each fit trains on")]
        return []


@register
class DecisionTreePlugin(ModelPlugin):
    slug = "decision_tree"
    name = "Decision Tree"
    description = "One tree of if-then splits; readable, but prone to overfit without a depth limit."
    icon = "sitemap"
    category = "tree"
    best_for = "Explainable rules and quick baselines."
    estimators = {CLASSIFICATION: DecisionTreeClassifier, REGRESSION: DecisionTreeRegressor}
    fixed = {CLASSIFICATION: SEEDED, REGRESSION: SEEDED}
    has_feature_importance = True
    cost_factor = 0.5
    hyperparameters = (*_tree_params(depth_default=None), _class_weight())


@register
class LinearRegressionPlugin(ModelPlugin):
    slug = "linear_regression"
    name = "Linear Regression"
    description = "Ordinary least squares: the straight-line fit of the target on the features."
    icon = "chart-line"
    category = "linear"
    best_for = "Baselines and targets that depend linearly on the features."
    estimators = {REGRESSION: LinearRegression}
    has_feature_importance = True
    cost_factor = 0.3
    hyperparameters = (
        _fit_intercept(),
        HyperParam(
            "positive", "Positive coefficients", "boolean", False, "Force every coefficient to be >= 0.", advanced=True
        ),
    )


@register
class RidgePlugin(ModelPlugin):
    slug = "ridge"
    name = "Ridge Regression"
    description = "Linear regression with an L2 penalty that shrinks coefficients."
    icon = "chart-line"
    category = "linear"
    best_for = "Many correlated features; more stable than plain least squares."
    estimators = {REGRESSION: Ridge}
    fixed = {REGRESSION: SEEDED}
    has_feature_importance = True
    cost_factor = 0.3
    hyperparameters = (
        HyperParam("alpha", "Alpha", "number", 1.0, "Penalty strength; 0 is plain least squares.", 0, 10000, 0.1),
        _fit_intercept(),
        HyperParam(
            "solver",
            "Solver",
            "select",
            "auto",
            "Optimisation algorithm.",
            options=("auto", "svd", "cholesky", "lsqr", "sparse_cg", "sag", "saga"),
            advanced=True,
        ),
    )


@register
class LassoPlugin(ModelPlugin):
    slug = "lasso"
    name = "Lasso Regression"
    description = "Linear regression with an L1 penalty that drives weak coefficients to zero."
    icon = "chart-line"
    category = "linear"
    best_for = "Many features of which only a few matter (built-in feature selection)."
    estimators = {REGRESSION: Lasso}
    fixed = {REGRESSION: SEEDED}
    has_feature_importance = True
    cost_factor = 0.4
    hyperparameters = (
        HyperParam("alpha", "Alpha", "number", 1.0, "Penalty strength.", 0.000001, 10000, 0.01),
        HyperParam(
            "max_iter", "Maximum iterations", "integer", 1000, "Coordinate-descent iterations.", 100, 100000, 100
        ),
        _fit_intercept(),
        HyperParam(
            "selection",
            "Selection",
            "select",
            "cyclic",
            "'random' updates a random coefficient each step; often faster on many features.",
            options=("cyclic", "random"),
            advanced=True,
        ),
    )


@register
class KMeansPlugin(ModelPlugin):
    slug = "kmeans"
    name = "K-Means"
    description = "Splits rows into k groups around centroids, minimising within-group distance."
    icon = "circle-dot"
    category = "clustering"
    best_for = "Roughly spherical clusters of similar size when you know about how many to expect."
    estimators = {CLUSTERING: KMeans}
    fixed = {CLUSTERING: SEEDED}
    cost_factor = 1.0
    hyperparameters = (
        HyperParam("n_clusters", "Clusters (k)", "integer", 3, "How many clusters to find.", 2, 100, 1),
        HyperParam(
            "init",
            "Initialisation",
            "select",
            "k-means++",
            "How the first centroids are chosen.",
            options=("k-means++", "random"),
            advanced=True,
        ),
        HyperParam(
            "n_init", "Restarts", "integer", 10, "Runs with different seeds; the best is kept.", 1, 50, 1, advanced=True
        ),
        HyperParam(
            "max_iter", "Maximum iterations", "integer", 300, "Iterations per run.", 10, 10000, 10, advanced=True
        ),
    )

    def check_rows(self, values: dict[str, Any], rows: int) -> list[ParamError]:
        if values["n_clusters"] > rows:
            return [ParamError("n_clusters", f"must not exceed the dataset's {rows} rows")]
        return []


@register
class DBSCANPlugin(ModelPlugin):
    slug = "dbscan"
    name = "DBSCAN"
    description = "Finds dense regions of any shape and marks isolated rows as noise (label -1)."
    icon = "braille"
    category = "clustering"
    best_for = "Clusters of irregular shape, unknown cluster count, data with outliers."
    estimators = {CLUSTERING: DBSCAN}
    cost_factor = 1.0
    hyperparameters = (
        HyperParam(
            "eps",
            "Neighbourhood radius (eps)",
            "number",
            0.5,
            "How close rows must be to be neighbours.",
            0.0001,
            1000,
            0.01,
        ),
        HyperParam("min_samples", "Minimum samples", "integer", 5, "Neighbours a core row needs.", 1, 1000, 1),
        HyperParam(
            "metric",
            "Distance",
            "select",
            "euclidean",
            "How distance between rows is measured.",
            options=("euclidean", "manhattan", "chebyshev", "cosine"),
            advanced=True,
        ),
    )
