"""The one place plugins are registered and looked up.

A plugin is one class decorated with ``@register``; the decorator stores one instance under its
kind and slug. The catalogue modules (``estimators``, ``preprocessing``, ``metrics``, ``plots``)
are imported on first lookup, so importing this module is cheap and has no cycles.

Lookups raise :class:`UnknownPlugin`; list functions take optional filters and keep
registration order (which is the catalogue's display order).
"""

import importlib
from typing import TypeVar

from apps.jobs.plugins.base import (
    PROBLEM_TYPES,
    MetricPlugin,
    ModelPlugin,
    PlotPlugin,
    Plugin,
    PreprocessingPlugin,
    UnknownPlugin,
)

_CATALOGUE_MODULES = (
    "apps.jobs.plugins.estimators",
    "apps.jobs.plugins.preprocessing",
    "apps.jobs.plugins.metrics",
    "apps.jobs.plugins.plots",
)

# Preprocessing categories (003's ``/api/plugins/preprocessing/categories``), in display order.
PREPROCESSING_CATEGORIES: tuple[dict[str, str], ...] = (
    {
        "key": "imputation",
        "name": "Missing values",
        "description": "Fill in missing values so every row can be used for training.",
        "icon": "fill-drip",
    },
    {
        "key": "scaling",
        "name": "Scaling",
        "description": "Bring numeric features to comparable ranges for distance- and gradient-based models.",
        "icon": "arrows-left-right",
    },
    {
        "key": "encoding",
        "name": "Encoding",
        "description": "Turn categorical (text) columns into numbers a model can use.",
        "icon": "tags",
    },
    {
        "key": "feature_selection",
        "name": "Feature selection",
        "description": "Drop uninformative features to reduce noise and training time.",
        "icon": "filter",
    },
)
CATEGORY_KEYS = tuple(category["key"] for category in PREPROCESSING_CATEGORIES)

_registry: dict[str, dict[str, Plugin]] = {"model": {}, "preprocessing": {}, "metric": {}, "plot": {}}
_loaded = False

P = TypeVar("P", bound=type[Plugin])


def register(cls: P) -> P:
    """Class decorator: add one instance of ``cls`` to the catalogue under its kind and slug."""
    kind = cls.kind
    if kind not in _registry:
        raise TypeError(f"{cls.__name__}: unknown plugin kind {kind!r}")
    if not cls.slug or cls.slug in _registry[kind]:
        raise TypeError(f"{cls.__name__}: missing or duplicate {kind} slug {cls.slug!r}")
    if not set(cls.problem_types) <= set(PROBLEM_TYPES) or not cls.problem_types:
        raise TypeError(f"{cls.__name__}: problem types must be a non-empty subset of {PROBLEM_TYPES}")
    if kind == "preprocessing" and cls.category not in CATEGORY_KEYS:
        raise TypeError(f"{cls.__name__}: unknown preprocessing category {cls.category!r}")
    _registry[kind][cls.slug] = cls()
    return cls


def _ensure_loaded() -> None:
    global _loaded
    if not _loaded:
        for module in _CATALOGUE_MODULES:
            importlib.import_module(module)
        _loaded = True


def _get(kind: str, slug: object) -> Plugin:
    _ensure_loaded()
    plugin = _registry[kind].get(slug) if isinstance(slug, str) else None
    if plugin is None:
        raise UnknownPlugin(kind, slug)
    return plugin


def _list(kind: str, problem_type: str | None) -> list:
    _ensure_loaded()
    plugins = list(_registry[kind].values())
    return [p for p in plugins if problem_type is None or p.supports(problem_type)]


def model(slug: str) -> ModelPlugin:
    """The model plugin ``slug``; raises :class:`UnknownPlugin`."""
    return _get("model", slug)  # type: ignore[return-value]


def preprocessor(slug: str) -> PreprocessingPlugin:
    """The preprocessing plugin ``slug``; raises :class:`UnknownPlugin`."""
    return _get("preprocessing", slug)  # type: ignore[return-value]


def metric(slug: str) -> MetricPlugin:
    """The metric plugin ``slug``; raises :class:`UnknownPlugin`."""
    return _get("metric", slug)  # type: ignore[return-value]


def plot(slug: str) -> PlotPlugin:
    """The plot plugin ``slug``; raises :class:`UnknownPlugin`."""
    return _get("plot", slug)  # type: ignore[return-value]


def models(*, problem_type: str | None = None) -> list[ModelPlugin]:
    """Every model plugin, or those serving ``problem_type``."""
    return _list("model", problem_type)


def preprocessors(*, problem_type: str | None = None, category: str | None = None) -> list[PreprocessingPlugin]:
    """Every preprocessing plugin, filtered by ``problem_type`` and ``category`` when given."""
    return [p for p in _list("preprocessing", problem_type) if category is None or p.category == category]


def metrics(*, problem_type: str | None = None) -> list[MetricPlugin]:
    """Every metric plugin, or those for ``problem_type``."""
    return _list("metric", problem_type)


def plots(*, problem_type: str | None = None) -> list[PlotPlugin]:
    """Every plot plugin, or those for ``problem_type``."""
    return _list("plot", problem_type)


def default_metrics(problem_type: str) -> list[str]:
    """The metrics a workflow without an evaluation node (or with an empty list) reports."""
    return {
        "classification": ["accuracy", "f1"],
        "regression": ["r2", "rmse"],
        "clustering": ["silhouette"],
    }[problem_type]
