"""Metric plugins. Classification averages over classes weighted by support (binary included), so
one number means the same for two classes and for ten."""

from typing import Any

import numpy as np
from sklearn import metrics as skm

from apps.jobs.plugins.base import CLASSIFICATION, CLUSTERING, REGRESSION, MetricPlugin, NotApplicable
from apps.jobs.plugins.registry import register


class _ClassificationMetric(MetricPlugin):
    problem_types = (CLASSIFICATION,)
    category = "classification"
    icon = "bullseye"


class _AveragedMetric(_ClassificationMetric):
    """precision, recall and f1 with ``average="weighted"``; an empty class counts as 0, not a warning."""

    function: Any = None

    def compute(self, y_true, y_pred, *, y_score=None, X=None, labels=None) -> float:
        return float(type(self).function(y_true, y_pred, labels=labels, average="weighted", zero_division=0))


@register
class Accuracy(_ClassificationMetric):
    slug = "accuracy"
    name = "Accuracy"
    description = "Share of rows whose class is predicted correctly."
    best_for = "Balanced classes."
    scorer_name = "accuracy"

    def compute(self, y_true, y_pred, *, y_score=None, X=None, labels=None) -> float:
        return float(skm.accuracy_score(y_true, y_pred))


@register
class Precision(_AveragedMetric):
    slug = "precision"
    name = "Precision"
    description = "Of the rows predicted as a class, the share that really are (weighted over classes)."
    best_for = "When false positives are costly."
    scorer_name = "precision_weighted"
    function = staticmethod(skm.precision_score)


@register
class Recall(_AveragedMetric):
    slug = "recall"
    name = "Recall"
    description = "Of the rows of a class, the share found (weighted over classes)."
    best_for = "When missing a positive is costly."
    scorer_name = "recall_weighted"
    function = staticmethod(skm.recall_score)


@register
class F1(_AveragedMetric):
    slug = "f1"
    name = "F1 score"
    description = "Harmonic mean of precision and recall (weighted over classes)."
    best_for = "Imbalanced classes; one number balancing precision and recall."
    scorer_name = "f1_weighted"
    function = staticmethod(skm.f1_score)


def positive_scores(y_score: Any, n_classes: int) -> np.ndarray:
    """Scores as roc_auc and the ROC curve want them: one column for two classes, else one per class."""
    scores = np.asarray(y_score, dtype=float)
    if scores.ndim == 2 and n_classes == 2:
        scores = scores[:, -1] if scores.shape[1] == 2 else scores.ravel()
    return scores


@register
class RocAuc(_ClassificationMetric):
    slug = "roc_auc"
    name = "ROC AUC"
    description = "Area under the ROC curve: how well scores rank each class above the others (one-vs-rest)."
    best_for = "Comparing models by ranking quality, independent of a threshold."
    requires = "scores"

    def compute(self, y_true, y_pred, *, y_score=None, X=None, labels=None) -> float:
        if y_score is None:
            raise NotApplicable("roc_auc needs prediction scores (predict_proba or decision_function)")
        classes = list(labels) if labels is not None else sorted(np.unique(y_true).tolist())
        if len(np.unique(y_true)) < 2:
            raise NotApplicable("roc_auc needs at least two classes in y_true")
        scores = positive_scores(y_score, len(classes))
        try:
            if len(classes) == 2:
                return float(skm.roc_auc_score(y_true, scores))
            return float(skm.roc_auc_score(y_true, scores, multi_class="ovr", average="weighted", labels=classes))
        except ValueError as exc:
            raise NotApplicable(f"roc_auc: {exc}") from exc

    def scorer(self, *, n_classes: int | None = None) -> str | None:
        return "roc_auc" if n_classes in (None, 2) else "roc_auc_ovr_weighted"


class _RegressionMetric(MetricPlugin):
    problem_types = (REGRESSION,)
    category = "regression"
    icon = "chart-line"
    greater_is_better = False


@register
class R2(_RegressionMetric):
    slug = "r2"
    name = "R²"
    description = "Share of the target's variance the model explains (1 is perfect, 0 is the mean)."
    best_for = "A scale-free summary of fit."
    scorer_name = "r2"
    greater_is_better = True

    def compute(self, y_true, y_pred, *, y_score=None, X=None, labels=None) -> float:
        return float(skm.r2_score(y_true, y_pred))


@register
class MAE(_RegressionMetric):
    slug = "mae"
    name = "Mean absolute error"
    description = "Average absolute difference between prediction and target, in the target's units."
    best_for = "Errors you want to read in the target's units; robust to outliers."
    scorer_name = "neg_mean_absolute_error"

    def compute(self, y_true, y_pred, *, y_score=None, X=None, labels=None) -> float:
        return float(skm.mean_absolute_error(y_true, y_pred))


@register
class MSE(_RegressionMetric):
    slug = "mse"
    name = "Mean squared error"
    description = "Average squared difference between prediction and target; punishes large errors."
    best_for = "When large errors matter much more than small ones."
    scorer_name = "neg_mean_squared_error"

    def compute(self, y_true, y_pred, *, y_score=None, X=None, labels=None) -> float:
        return float(skm.mean_squared_error(y_true, y_pred))


@register
class RMSE(_RegressionMetric):
    slug = "rmse"
    name = "Root mean squared error"
    description = "Square root of the MSE, back in the target's units."
    best_for = "A typical error size that still punishes large errors."
    scorer_name = "neg_root_mean_squared_error"

    def compute(self, y_true, y_pred, *, y_score=None, X=None, labels=None) -> float:
        return float(skm.root_mean_squared_error(y_true, y_pred))


class _ClusteringMetric(MetricPlugin):
    """Internal cluster quality from the features ``X`` and the cluster labels ``y_pred``."""

    problem_types = (CLUSTERING,)
    category = "clustering"
    icon = "circle-nodes"
    requires = "features"
    function: Any = None

    def compute(self, y_true, y_pred, *, y_score=None, X=None, labels=None) -> float:
        if X is None:
            raise NotApplicable(f"{self.slug} needs the feature matrix X")
        clusters = np.asarray(y_pred)
        found = len(np.unique(clusters))
        if not 2 <= found < len(clusters):
            raise NotApplicable(f"{self.slug} needs between 2 and n_samples - 1 clusters; found {found}")
        return float(type(self).function(X, clusters))


@register
class Silhouette(_ClusteringMetric):
    slug = "silhouette"
    name = "Silhouette score"
    description = "How much closer rows are to their own cluster than to the next (-1 to 1, higher is better)."
    best_for = "Comparing cluster counts and algorithms."
    function = staticmethod(skm.silhouette_score)


@register
class DaviesBouldin(_ClusteringMetric):
    slug = "davies_bouldin"
    name = "Davies-Bouldin index"
    description = "Average similarity of each cluster with its most similar one (lower is better)."
    best_for = "Compact, well separated clusters."
    greater_is_better = False
    function = staticmethod(skm.davies_bouldin_score)


@register
class CalinskiHarabasz(_ClusteringMetric):
    slug = "calinski_harabasz"
    name = "Calinski-Harabasz index"
    description = "Ratio of between-cluster to within-cluster dispersion (higher is better)."
    best_for = "Dense, well separated clusters; fast on large data."
    function = staticmethod(skm.calinski_harabasz_score)
