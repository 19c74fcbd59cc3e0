"""The executor's only door to the plugin catalogue (``apps.jobs.plugins.registry``).

Keeping every catalogue call here means the training code reads as plain scikit-learn, and a change
in the catalogue's interface touches one file.
"""

from typing import Any

from apps.jobs.plugins import registry
from apps.jobs.plugins.base import NotApplicable, PlotContext

__all__ = ["NotApplicable", "PlotContext"]


def build_model(slug: str, params: dict, problem_type: str) -> Any:
    """A fresh, unfitted estimator for the model plugin ``slug``."""
    return registry.model(slug).build(params, problem_type)


def model_name(slug: str) -> str:
    """The model's display name."""
    return getattr(registry.model(slug), "name", slug)


def build_preprocessor(slug: str, params: dict, problem_type: str) -> Any:
    """A fresh, unfitted transformer for the preprocessing plugin ``slug``."""
    return registry.preprocessor(slug).build(params, problem_type=problem_type)


def preprocessor_applies_to(slug: str, params: dict) -> str:
    """``numeric``, ``categorical`` or ``all``: which columns the step transforms with ``params``."""
    return registry.preprocessor(slug).columns(params)


def preprocessor_category(slug: str) -> str:
    """``imputation``, ``scaling``, ``encoding`` or ``feature_selection``."""
    return registry.preprocessor(slug).category


def metric_scorer(slug: str, n_classes: int | None) -> str | None:
    """The scikit-learn scorer name used in cross-validation, or None when it has none."""
    return registry.metric(slug).scorer(n_classes=n_classes)


def metric_from_cv(slug: str, value: float, n_classes: int | None) -> float:
    """A cross-validation score as the metric's own value (losses are negated by scikit-learn)."""
    return registry.metric(slug).from_cv(value, n_classes=n_classes)


def metric_greater_is_better(slug: str) -> bool:
    """Whether a larger value of the metric is better (for the leaderboard)."""
    return bool(registry.metric(slug).greater_is_better)


def metric_compute(
    slug: str, y_true: Any, y_pred: Any, *, y_score: Any = None, X: Any = None, labels: Any = None
) -> float | None:
    """The metric on held-out predictions; None when it does not apply to this data."""
    try:
        value = registry.metric(slug).compute(y_true, y_pred, y_score=y_score, X=X, labels=labels)
    except (NotApplicable, ValueError):
        return None
    return None if value is None else float(value)


def render_plot(slug: str, context: PlotContext) -> bytes:
    """PNG bytes of the plot ``slug``; raises ``NotApplicable`` when it cannot be drawn."""
    return registry.plot(slug).render(context)


def plot_title(slug: str) -> str:
    """The plot's display name."""
    return getattr(registry.plot(slug), "name", slug)
