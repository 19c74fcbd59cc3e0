"""Plot plugins, drawn with matplotlib's Agg backend (no display) into PNG bytes.

Each render builds its own ``Figure`` (not pyplot), so plots are thread-safe and leave no global
figure state behind in a long-running worker.
"""

import io
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from apps.jobs.plugins.base import (
    CLASSIFICATION,
    CLUSTERING,
    REGRESSION,
    ModelPlugin,
    NotApplicable,
    PlotContext,
    PlotPlugin,
)
from apps.jobs.plugins.metrics import positive_scores
from apps.jobs.plugins.registry import register

_MAX_BARS = 20
_MAX_POINTS = 5000


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _need(ctx: PlotContext, *fields: str) -> None:
    missing = [f for f in fields if getattr(ctx, f) is None]
    if missing:
        raise NotApplicable(f"needs {', '.join(missing)}")


def _classes(ctx: PlotContext) -> list[Any]:
    if ctx.labels is not None:
        return list(ctx.labels)
    return sorted(np.unique(np.concatenate([np.asarray(ctx.y_true), np.asarray(ctx.y_pred)])).tolist())


@register
class ConfusionMatrixPlot(PlotPlugin):
    slug = "confusion_matrix"
    name = "Confusion matrix"
    description = "Counts of each true class against each predicted class."
    icon = "table-cells"
    category = "classification"
    best_for = "Seeing which classes are confused with which."
    problem_types = (CLASSIFICATION,)

    def render(self, ctx: PlotContext) -> bytes:
        from sklearn.metrics import confusion_matrix

        _need(ctx, "y_true", "y_pred")
        classes = _classes(ctx)
        matrix = confusion_matrix(ctx.y_true, ctx.y_pred, labels=classes)
        size = min(4 + 0.4 * len(classes), 12)
        fig = Figure(figsize=(size, size))
        ax = fig.subplots()
        image = ax.imshow(matrix, cmap="Blues")
        fig.colorbar(image, ax=ax)
        ticks = range(len(classes))
        ax.set_xticks(ticks, [str(c) for c in classes], rotation=45, ha="right")
        ax.set_yticks(ticks, [str(c) for c in classes])
        if len(classes) <= 20:
            threshold = matrix.max() / 2 if matrix.size else 0
            for (row, col), value in np.ndenumerate(matrix):
                ax.text(col, row, str(value), ha="center", va="center", color="white" if value > threshold else "black")
        ax.set_xlabel("Predicted")
        ax.set_ylabel("True")
        ax.set_title(ctx.title or "Confusion matrix")
        return _png(fig)


@register
class RocCurvePlot(PlotPlugin):
    slug = "roc_curve"
    name = "ROC curve"
    description = "True positive rate against false positive rate over every threshold (one curve per class)."
    icon = "chart-area"
    category = "classification"
    best_for = "Choosing a decision threshold; comparing ranking quality."
    problem_types = (CLASSIFICATION,)
    requires = "scores"

    def render(self, ctx: PlotContext) -> bytes:
        from sklearn.metrics import auc, roc_curve

        _need(ctx, "y_true", "y_score")
        classes = _classes(ctx)
        y_true = np.asarray(ctx.y_true)
        scores = positive_scores(ctx.y_score, len(classes))
        if len(np.unique(y_true)) < 2:
            raise NotApplicable("needs at least two classes in y_true")
        fig = Figure(figsize=(6, 5))
        ax = fig.subplots()
        curves = (
            [(classes[-1], y_true == classes[-1], scores)]
            if scores.ndim == 1
            else [(cls, y_true == cls, scores[:, i]) for i, cls in enumerate(classes[: scores.shape[1]])]
        )
        for cls, positives, score in curves[:_MAX_BARS]:
            if positives.all() or not positives.any():
                continue
            fpr, tpr, _ = roc_curve(positives, score)
            ax.plot(fpr, tpr, label=f"{cls} (AUC {auc(fpr, tpr):.3f})")
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1)
        ax.set_xlabel("False positive rate")
        ax.set_ylabel("True positive rate")
        ax.set_title(ctx.title or "ROC curve")
        ax.legend(loc="lower right", fontsize="small")
        return _png(fig)


def final_estimator(estimator: Any) -> Any:
    """The fitted model inside a Pipeline (its last step) or a CalibratedClassifierCV."""
    if hasattr(estimator, "steps"):
        estimator = estimator.steps[-1][1]
    calibrated = getattr(estimator, "calibrated_classifiers_", None)
    if calibrated:
        estimator = calibrated[0].estimator
    return estimator


def importances(estimator: Any) -> np.ndarray | None:
    """Per-feature importance of a fitted estimator: ``feature_importances_`` or mean ``|coef_|``."""
    if estimator is None:
        return None
    estimator = final_estimator(estimator)
    values = getattr(estimator, "feature_importances_", None)
    if values is None:
        coef = getattr(estimator, "coef_", None)
        if coef is None:
            return None
        coef = np.abs(np.asarray(coef.toarray() if hasattr(coef, "toarray") else coef, dtype=float))
        values = coef.mean(axis=0) if coef.ndim == 2 else coef
    return np.asarray(values, dtype=float).ravel()


@register
class FeatureImportancePlot(PlotPlugin):
    slug = "feature_importance"
    name = "Feature importance"
    description = "How much each feature drives the model (tree importances or absolute coefficients)."
    icon = "chart-bar"
    category = "explainability"
    best_for = "Understanding which inputs matter."
    problem_types = (CLASSIFICATION, REGRESSION)
    requires = "estimator"

    def supports_model(self, model: ModelPlugin, params: Any = None) -> bool:
        return model.explains(params)

    def render(self, ctx: PlotContext) -> bytes:
        values = importances(ctx.estimator)
        if values is None:
            raise NotApplicable("the model has neither feature_importances_ nor coef_")
        names = (
            list(ctx.feature_names) if ctx.feature_names is not None else [f"feature {i}" for i in range(len(values))]
        )
        if len(names) != len(values):
            names = [f"feature {i}" for i in range(len(values))]
        order = np.argsort(values)[::-1][:_MAX_BARS][::-1]
        fig = Figure(figsize=(7, max(3, 0.35 * len(order) + 1)))
        ax = fig.subplots()
        ax.barh([str(names[i]) for i in order], values[order], color="#4c72b0")
        ax.set_xlabel("Importance")
        ax.set_title(ctx.title or "Feature importance")
        return _png(fig)


@register
class ResidualsPlot(PlotPlugin):
    slug = "residuals"
    name = "Residuals"
    description = "Prediction errors against predicted values, and predicted against actual."
    icon = "chart-scatter"
    category = "regression"
    best_for = "Spotting bias, heteroscedasticity and outliers in a regression."
    problem_types = (REGRESSION,)

    def render(self, ctx: PlotContext) -> bytes:
        _need(ctx, "y_true", "y_pred")
        y_true = np.asarray(ctx.y_true, dtype=float)[:_MAX_POINTS]
        y_pred = np.asarray(ctx.y_pred, dtype=float)[:_MAX_POINTS]
        fig = Figure(figsize=(10, 4.5))
        left, right = fig.subplots(1, 2)
        left.scatter(y_pred, y_true - y_pred, s=10, alpha=0.6)
        left.axhline(0, color="grey", linestyle="--", linewidth=1)
        left.set_xlabel("Predicted")
        left.set_ylabel("Residual (actual - predicted)")
        left.set_title("Residuals")
        right.scatter(y_true, y_pred, s=10, alpha=0.6)
        low, high = float(min(y_true.min(), y_pred.min())), float(max(y_true.max(), y_pred.max()))
        right.plot([low, high], [low, high], color="grey", linestyle="--", linewidth=1)
        right.set_xlabel("Actual")
        right.set_ylabel("Predicted")
        right.set_title("Predicted vs actual")
        if ctx.title:
            fig.suptitle(ctx.title)
        return _png(fig)


@register
class ClusterScatterPlot(PlotPlugin):
    slug = "cluster_scatter"
    name = "Cluster scatter"
    description = "Rows in two dimensions (the first two principal components) coloured by cluster."
    icon = "braille"
    category = "clustering"
    best_for = "Seeing how separated the clusters are."
    problem_types = (CLUSTERING,)
    requires = "features"

    def render(self, ctx: PlotContext) -> bytes:
        _need(ctx, "X", "y_pred")
        points = np.asarray(ctx.X, dtype=float)[:_MAX_POINTS]
        clusters = np.asarray(ctx.y_pred)[:_MAX_POINTS]
        if points.ndim != 2 or points.shape[0] < 2:
            raise NotApplicable("needs a 2-D feature matrix with at least two rows")
        if points.shape[1] > 2:
            from sklearn.decomposition import PCA

            points = PCA(n_components=2, random_state=0).fit_transform(points)
            axes = ("Component 1", "Component 2")
        elif points.shape[1] == 2:
            axes = tuple(ctx.feature_names or ("Feature 1", "Feature 2"))[:2]
        else:
            points = np.column_stack([points[:, 0], np.zeros(len(points))])
            axes = (str((ctx.feature_names or ["Feature 1"])[0]), "")
        fig = Figure(figsize=(6.5, 5))
        ax = fig.subplots()
        for cluster in np.unique(clusters):
            mask = clusters == cluster
            label = "noise" if cluster == -1 else f"cluster {cluster}"
            color = "lightgrey" if cluster == -1 else None
            ax.scatter(points[mask, 0], points[mask, 1], s=12, alpha=0.7, label=label, color=color)
        ax.set_xlabel(axes[0])
        ax.set_ylabel(axes[1])
        ax.set_title(ctx.title or "Clusters")
        if len(np.unique(clusters)) <= 20:
            ax.legend(fontsize="small", markerscale=1.5)
        return _png(fig)
