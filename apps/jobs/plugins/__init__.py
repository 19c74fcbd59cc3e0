"""The plugin catalogue: models, preprocessing methods, metrics and plots (003's ``/api/plugins``).

Look plugins up through :mod:`apps.jobs.plugins.registry` (``registry.model(slug)`` etc.). Add a
plugin by writing one class in the module of its kind and decorating it with
``@registry.register``. This package does not import Django.
"""

from apps.jobs.plugins.base import (
    CLASSIFICATION,
    CLUSTERING,
    PROBLEM_TYPES,
    RANDOM_STATE,
    REGRESSION,
    MetricPlugin,
    ModelPlugin,
    NotApplicable,
    PlotContext,
    PlotPlugin,
    PreprocessingPlugin,
    UnknownPlugin,
)
from apps.jobs.plugins.params import HyperParam, InvalidParams, ParamError

__all__ = [
    "CLASSIFICATION",
    "CLUSTERING",
    "PROBLEM_TYPES",
    "RANDOM_STATE",
    "REGRESSION",
    "HyperParam",
    "InvalidParams",
    "MetricPlugin",
    "ModelPlugin",
    "NotApplicable",
    "ParamError",
    "PlotContext",
    "PlotPlugin",
    "PreprocessingPlugin",
    "UnknownPlugin",
]
