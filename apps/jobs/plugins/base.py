"""The four kinds of plugin: models, preprocessing methods, metrics and plots.

A plugin is one class with class attributes for its catalogue entry (``slug, name, description,
icon, problem_types, category, best_for``) and the methods the executor calls. Register it with
``@register`` from :mod:`apps.jobs.plugins.registry`; nothing else needs to know about it.

This package imports no Django: the training process (``apps.jobs.executor``) uses it as plain
Python with scikit-learn.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from apps.jobs.plugins.params import HyperParam, InvalidParams, ParamError, check_params, sklearn_kwargs

CLASSIFICATION = "classification"
REGRESSION = "regression"
CLUSTERING = "clustering"
PROBLEM_TYPES = (CLASSIFICATION, REGRESSION, CLUSTERING)
SUPERVISED = (CLASSIFICATION, REGRESSION)

# Every estimator gets this seed, so a job run twice on the same data gives the same model.
RANDOM_STATE = 42


class UnknownPlugin(LookupError):
    """No plugin of that kind has that slug."""

    def __init__(self, kind: str, slug: Any) -> None:
        super().__init__(f"Unknown {kind} plugin: {slug}")
        self.kind = kind
        self.slug = slug


class NotApplicable(ValueError):
    """A metric or plot cannot be computed from what it was given (e.g. no scores, one cluster)."""


class Plugin:
    """The catalogue entry every plugin has."""

    kind: ClassVar[str] = ""
    slug: ClassVar[str] = ""
    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    icon: ClassVar[str] = ""
    category: ClassVar[str] = ""
    best_for: ClassVar[str] = ""
    problem_types: ClassVar[tuple[str, ...]] = PROBLEM_TYPES

    def supports(self, problem_type: str) -> bool:
        """Whether the plugin serves ``problem_type``."""
        return problem_type in self.problem_types

    def summary(self) -> dict[str, Any]:
        """003's summary fields."""
        return {
            "slug": self.slug,
            "name": self.name,
            "description": self.description,
            "icon": self.icon,
            "problemTypes": list(self.problem_types),
            "category": self.category,
            "bestFor": self.best_for,
        }


class ParametrisedPlugin(Plugin):
    """A plugin with hyperparameters (models and preprocessing methods)."""

    hyperparameters: ClassVar[tuple[HyperParam, ...]] = ()
    # Relative training cost; pricing multiplies it by the data's size (see workflows.pricing).
    cost_factor: ClassVar[float] = 1.0

    def definitions(self, problem_type: str | None = None) -> list[HyperParam]:
        """The parameter definitions that apply to ``problem_type`` (all when ``None``)."""
        return [p for p in self.hyperparameters if p.applies_to(problem_type)]

    def hyperparameter_groups(self, problem_type: str | None = None) -> dict[str, list[dict[str, Any]]]:
        """``{"main": [...], "advanced": [...]}`` as the builder shows them."""
        params = self.definitions(problem_type)
        return {
            "main": [p.to_dict() for p in params if not p.advanced],
            "advanced": [p.to_dict() for p in params if p.advanced],
        }

    def check(self, values: dict[str, Any], problem_type: str | None) -> list[ParamError]:
        """Rules between parameters, run after each value passed on its own. Override as needed."""
        return []

    def validate_params(self, params: Any, *, problem_type: str | None = None) -> list[ParamError]:
        """Every problem with ``params``: unknown keys, wrong types, out-of-range values, bad combinations."""
        values, errors = check_params(self.hyperparameters, params, problem_type=problem_type)
        return errors or self.check(values, problem_type)

    def resolve_params(self, params: Any, *, problem_type: str | None = None) -> dict[str, Any]:
        """``params`` coerced and completed with defaults; raises :class:`InvalidParams`."""
        values, errors = check_params(self.hyperparameters, params, problem_type=problem_type)
        errors = errors or self.check(values, problem_type)
        if errors:
            raise InvalidParams(errors)
        return values


class ModelPlugin(ParametrisedPlugin):
    """A learning algorithm; one plugin may serve several problem types with different estimators.

    Subclasses set ``estimators = {problem_type: EstimatorClass}`` and may add ``fixed`` keyword
    arguments (per problem type) that the user does not choose.
    """

    kind = "model"
    estimators: ClassVar[dict[str, type]] = {}
    fixed: ClassVar[dict[str, dict[str, Any]]] = {}
    # Whether the fitted estimator exposes feature_importances_ or coef_ (see ``explains``).
    has_feature_importance: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # The problem types a model serves are exactly those it has an estimator for.
        cls.problem_types = tuple(cls.estimators)

    def estimator_kwargs(self, values: dict[str, Any], problem_type: str) -> dict[str, Any]:
        """Keyword arguments for the estimator; override to drop or combine parameters."""
        return sklearn_kwargs(self.definitions(problem_type), values)

    def build(self, params: Any, problem_type: str) -> Any:
        """An unfitted scikit-learn estimator for ``problem_type`` with ``params`` (defaults filled).

        Raises :class:`ValueError` for an unsupported problem type and :class:`InvalidParams` for
        bad parameters.
        """
        if problem_type not in self.estimators:
            raise ValueError(f"{self.name} does not support {problem_type}")
        values = self.resolve_params(params, problem_type=problem_type)
        kwargs = {**self.fixed.get(problem_type, {}), **self.estimator_kwargs(values, problem_type)}
        return self.wrap(self.estimators[problem_type](**kwargs), problem_type)

    def check_rows(self, values: dict[str, Any], rows: int) -> list[ParamError]:
        """Problems of coerced ``values`` with ``rows`` training rows (e.g. more neighbours than rows)."""
        return []

    def wrap(self, estimator: Any, problem_type: str) -> Any:
        """The estimator ``build`` returns, given the bare one. Override to add a wrapper."""
        return estimator

    def explains(self, params: Any = None) -> bool:
        """Whether a model built with ``params`` has feature importances (or coefficients);
        with ``params`` None, whether it can have them for some parameters."""
        return self.has_feature_importance

    def capabilities(self, problem_type: str | None = None) -> dict[str, list[str]]:
        """Slugs of the metrics and plots available for this model (for one problem type if given)."""
        from apps.jobs.plugins import registry

        types = [problem_type] if problem_type else list(self.problem_types)
        metrics = [m.slug for m in registry.metrics() if any(m.supports(t) for t in types)]
        plots = [p.slug for p in registry.plots() if any(p.supports(t) for t in types) and p.supports_model(self)]
        return {"metrics": metrics, "plots": plots}

    def detail(self, problem_type: str | None = None) -> dict[str, Any]:
        """Summary plus ``hyperparameters`` and ``capabilities``."""
        return {
            **self.summary(),
            "hyperparameters": self.hyperparameter_groups(problem_type),
            "capabilities": self.capabilities(problem_type),
        }


class PreprocessingPlugin(ParametrisedPlugin):
    """A transformer applied to some of the feature columns, before the model.

    ``applies_to`` says which columns: ``numeric`` (number dtypes), ``categorical`` (everything
    else) or ``all``. Use :meth:`build_step` for a transformer over the whole feature frame that
    picks those columns itself and passes the others through; :meth:`build` gives the bare
    transformer.
    """

    kind = "preprocessing"
    cost_factor = 0.1
    applies_to: ClassVar[str] = "all"
    problem_types = PROBLEM_TYPES

    def columns(self, params: Any = None) -> str:
        """Which columns the step transforms with ``params``: numeric, categorical or all."""
        return self.applies_to

    def make(self, values: dict[str, Any], problem_type: str | None) -> Any:
        """The transformer from coerced values. Override."""
        raise NotImplementedError

    def build(self, params: Any, *, problem_type: str | None = None) -> Any:
        """An unfitted transformer for the step's columns, with ``params`` (defaults filled)."""
        if problem_type is not None and not self.supports(problem_type):
            raise ValueError(f"{self.name} does not support {problem_type}")
        return self.make(self.resolve_params(params, problem_type=problem_type), problem_type)

    def build_step(self, params: Any, *, problem_type: str | None = None) -> Any:
        """A transformer over a whole pandas feature frame, returning a pandas frame.

        It applies :meth:`build`'s transformer to the step's columns (chosen by dtype when fitted)
        and passes the other columns through unchanged.
        """
        from sklearn.compose import ColumnTransformer, make_column_selector

        selector = {
            "numeric": make_column_selector(dtype_include=np.number),
            "categorical": make_column_selector(dtype_exclude=np.number),
            "all": make_column_selector(),
        }[self.columns(params)]
        step = ColumnTransformer(
            [(self.slug, self.build(params, problem_type=problem_type), selector)],
            remainder="passthrough",
            verbose_feature_names_out=False,
        )
        return step.set_output(transform="pandas")

    def detail(self, problem_type: str | None = None) -> dict[str, Any]:
        """Summary plus ``hyperparameters`` and ``appliesTo``."""
        return {
            **self.summary(),
            "hyperparameters": self.hyperparameter_groups(problem_type),
            "appliesTo": self.applies_to,
        }


class MetricPlugin(Plugin):
    """An evaluation metric. ``compute`` scores predictions; ``scorer`` names it for cross-validation.

    ``requires`` says what ``compute`` needs besides ``y_true``/``y_pred``: ``scores`` (``y_score``)
    or ``features`` (``X``; clustering metrics take the cluster labels as ``y_pred`` and have no
    ``y_true``).
    """

    kind = "metric"
    requires: ClassVar[str] = "labels"
    greater_is_better: ClassVar[bool] = True
    scorer_name: ClassVar[str | None] = None

    def compute(
        self,
        y_true: Any,
        y_pred: Any,
        *,
        y_score: Any = None,
        X: Any = None,
        labels: Sequence[Any] | None = None,
    ) -> float:
        """The metric's value. Raises :class:`NotApplicable` when it cannot be computed."""
        raise NotImplementedError

    def scorer(self, *, n_classes: int | None = None) -> str | None:
        """The scikit-learn scorer name for ``cross_validate`` (None: no cross-validation scorer).

        Scorers starting with ``neg_`` report the negated value; :meth:`from_cv` undoes that.
        """
        return self.scorer_name

    def from_cv(self, value: float, *, n_classes: int | None = None) -> float:
        """A cross-validation score turned back into the metric's own value."""
        scorer = self.scorer(n_classes=n_classes) or ""
        return -float(value) if scorer.startswith("neg_") else float(value)

    def summary(self) -> dict[str, Any]:
        """Summary plus ``requires`` and ``higherIsBetter``."""
        return {**super().summary(), "requires": self.requires, "higherIsBetter": self.greater_is_better}


@dataclass(frozen=True)
class PlotContext:
    """What a plot may draw from. ``X`` is the feature frame the model saw (after preprocessing)."""

    problem_type: str
    y_true: Any = None
    y_pred: Any = None
    y_score: Any = None
    X: Any = None
    feature_names: Sequence[str] | None = None
    estimator: Any = None
    labels: Sequence[Any] | None = None
    title: str = ""


class PlotPlugin(Plugin):
    """A chart rendered with matplotlib (Agg) to PNG bytes."""

    kind = "plot"
    requires: ClassVar[str] = "labels"

    def supports_model(self, model: ModelPlugin, params: Any = None) -> bool:
        """Whether this plot can be drawn for ``model`` (built with ``params``)."""
        return True

    def render(self, ctx: PlotContext) -> bytes:
        """The plot as PNG bytes. Raises :class:`NotApplicable` when ``ctx`` lacks what it needs."""
        raise NotImplementedError

    def summary(self) -> dict[str, Any]:
        """Summary plus ``requires``."""
        return {**super().summary(), "requires": self.requires}
