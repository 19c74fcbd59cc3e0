"""Workflow validation: from the builder's nodes and edges to a :class:`Plan`, or to errors.

Node and edge format (React-Flow-like; extra keys such as ``position`` or ``data.label`` are
ignored)::

    nodes: [{"id": str (1-100 chars, unique), "type": "dataset"|"preprocessing"|"model"|"evaluation",
             "data": {...}}]
    edges: [{"source": node id, "target": node id}]

``data`` per node type:

- ``dataset``: ``dataset_id`` (required, one of the caller's datasets that finished ingestion);
  ``problem_type`` (``classification``, ``regression`` or ``clustering``; default the dataset's);
  ``target_column`` (classification and regression; default the dataset's; not for clustering).
- ``preprocessing``: ``plugin`` (a preprocessing slug), ``params`` (``{key: value}``, optional).
- ``model``: ``plugin`` (a model slug), ``params`` (optional).
- ``evaluation`` (optional): ``metrics`` (slugs; default per problem type), ``plots`` (slugs),
  ``cv_folds`` (2-10, default 5), ``test_size`` (0.05-0.5, default 0.2).

The graph is: exactly one dataset → a linear chain of zero or more preprocessing nodes → one or more
model nodes, all fed by the end of the chain (several make a leaderboard) → at most one evaluation
node, fed by every model. Errors are ``{"node_id", "field", "message"}``; ``field`` is a key of the
node's ``data`` (``params.<key>`` for a hyperparameter) or ``edges``/``type``/``id``; ``node_id`` is
``None`` only for problems of the whole graph.
"""

from dataclasses import dataclass, field
from typing import Any

from apps.jobs.plugins import registry
from apps.jobs.plugins.base import PROBLEM_TYPES, SUPERVISED, UnknownPlugin
from apps.jobs.plugins.params import HyperParam, check_params
from apps.jobs.workflows import sources
from apps.jobs.workflows.graph import (
    DATASET,
    EVALUATION,
    MODEL,
    PREPROCESSING,
    Graph,
    chain,
    check_structure,
    error,
    parse,
)
from apps.jobs.workflows.plan import Plan, PlanStep

EVALUATION_PARAMS = (
    HyperParam("cv_folds", "Cross-validation folds", "integer", 5, "Folds on the training split.", 2, 10, 1),
    HyperParam("test_size", "Test share", "number", 0.2, "Share of rows held out for testing.", 0.05, 0.5, 0.05),
)


@dataclass(frozen=True)
class ValidationResult:
    """``valid`` is ``not errors``; ``plan`` is set exactly when the workflow is valid."""

    valid: bool
    errors: list[dict[str, Any]] = field(default_factory=list)
    plan: Plan | None = None


@dataclass
class _Context:
    """What checking the nodes learns along the way."""

    graph: Graph
    user: Any
    errors: list[dict[str, Any]] = field(default_factory=list)
    source: sources.DatasetFacts | None = None
    problem_type: str | None = None
    steps: dict[str, PlanStep] = field(default_factory=dict)


def validate_workflow(*, user: Any, nodes: list[Any], edges: list[Any]) -> ValidationResult:
    """Check a workflow for ``user``; answer every error found, or the normalised plan.

    ``nodes`` and ``edges`` must be lists (the view answers 400 otherwise); everything inside them
    is checked here. Another user's dataset is reported exactly like one that does not exist.
    """
    graph, errors = parse(nodes, edges)
    if errors:
        return ValidationResult(valid=False, errors=errors)
    structure_errors = check_structure(graph)
    ctx = _Context(graph=graph, user=user, errors=list(structure_errors))
    dataset_nodes = graph.of_type(DATASET)
    if len(dataset_nodes) == 1:
        _check_dataset(ctx, dataset_nodes[0])
    for node_id in graph.of_type(PREPROCESSING):
        _check_plugin_node(ctx, node_id, kind=PREPROCESSING)
    for node_id in graph.of_type(MODEL):
        _check_plugin_node(ctx, node_id, kind=MODEL)
    evaluation = _check_evaluation(ctx, graph.of_type(EVALUATION))
    _check_model_rows(ctx, evaluation)
    if not structure_errors:
        _check_feature_columns(ctx, dataset_nodes[0])
    if ctx.errors:
        return ValidationResult(valid=False, errors=ctx.errors)
    return ValidationResult(valid=True, plan=_plan(ctx, dataset_nodes[0], evaluation))


def _check_dataset(ctx: _Context, node_id: str) -> None:
    data = ctx.graph.data(node_id)
    problem_type = data.get("problem_type")
    if problem_type not in (None, "") and problem_type not in PROBLEM_TYPES:
        ctx.errors.append(error(node_id, "problem_type", f"must be one of: {', '.join(PROBLEM_TYPES)}"))
        return
    if data.get("dataset_id") in (None, ""):
        ctx.errors.append(error(node_id, "dataset_id", "is required"))
        return
    try:
        facts = sources.facts(user=ctx.user, dataset_id=data["dataset_id"])
    except sources.DatasetUnusable as exc:
        ctx.errors.append(error(node_id, "dataset_id", str(exc)))
        return
    problem_type = problem_type or facts.problem_type
    if not problem_type:
        ctx.errors.append(error(node_id, "problem_type", "is required: the dataset does not declare one"))
        return
    ctx.problem_type, ctx.source = problem_type, facts
    ctx.errors.extend(error(node_id, f, m) for f, m in sources.target_problems(facts, problem_type, data))


def _check_plugin_node(ctx: _Context, node_id: str, *, kind: str) -> None:
    data = ctx.graph.data(node_id)
    slug = data.get("plugin")
    if slug in (None, ""):
        ctx.errors.append(error(node_id, "plugin", "is required"))
        return
    try:
        plugin = registry.model(slug) if kind == MODEL else registry.preprocessor(slug)
    except UnknownPlugin:
        ctx.errors.append(error(node_id, "plugin", f"unknown {kind} plugin: {slug!r}"))
        return
    if ctx.problem_type and not plugin.supports(ctx.problem_type):
        ctx.errors.append(error(node_id, "plugin", f"{plugin.name} does not support {ctx.problem_type}"))
        return
    params = data.get("params")
    values, param_errors = check_params(plugin.hyperparameters, params, problem_type=ctx.problem_type)
    param_errors = param_errors or plugin.check(values, ctx.problem_type)
    for problem in param_errors:
        name = "params" if problem.field == "params" else f"params.{problem.field}"
        ctx.errors.append(error(node_id, name, problem.message))
    if not param_errors:
        ctx.steps[node_id] = PlanStep(node_id=node_id, plugin=plugin.slug, params=values)


def _check_evaluation(ctx: _Context, evaluation_ids: list[str]) -> dict[str, Any]:
    """The evaluation settings (defaults when there is no evaluation node)."""
    settings = {"node_id": None, "metrics": [], "plots": [], "cv_folds": 5, "test_size": 0.2}
    if not evaluation_ids:
        return settings
    node_id = evaluation_ids[0]
    data = ctx.graph.data(node_id)
    settings["node_id"] = node_id
    settings["metrics"] = _slugs(ctx, node_id, data, "metrics", registry.metric)
    settings["plots"] = _slugs(ctx, node_id, data, "plots", registry.plot)
    given = {key: data[key] for key in ("cv_folds", "test_size") if key in data}
    values, problems = check_params(EVALUATION_PARAMS, given)
    ctx.errors.extend(error(node_id, p.field, p.message) for p in problems)
    settings.update(values)
    _check_plot_models(ctx, node_id, settings["plots"])
    _check_split_size(ctx, node_id, settings)
    return settings


def _slugs(ctx: _Context, node_id: str, data: dict, key: str, lookup: Any) -> list[str]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(slug, str) for slug in value):
        ctx.errors.append(error(node_id, key, "must be a list of slugs"))
        return []
    slugs = []
    for slug in dict.fromkeys(value):
        try:
            plugin = lookup(slug)
        except UnknownPlugin:
            ctx.errors.append(error(node_id, key, f"unknown {key[:-1]}: {slug!r}"))
            continue
        if ctx.problem_type and not plugin.supports(ctx.problem_type):
            ctx.errors.append(error(node_id, key, f"{slug!r} is not available for {ctx.problem_type}"))
            continue
        slugs.append(slug)
    return slugs


def _check_plot_models(ctx: _Context, node_id: str, plots: list[str]) -> None:
    """A plot must be drawable for at least one model; the executor skips it for the others."""
    models = [step for nid, step in ctx.steps.items() if ctx.graph.type_of(nid) == MODEL]
    if not models:
        return
    for slug in plots:
        plot = registry.plot(slug)
        if not any(plot.supports_model(registry.model(s.plugin), s.params) for s in models):
            names = ", ".join(registry.model(s.plugin).name for s in models)
            ctx.errors.append(error(node_id, "plots", f"{plot.name} is not available for {names}"))


def _check_model_rows(ctx: _Context, evaluation: dict[str, Any]) -> None:
    """Parameters bounded by the data, e.g. k-NN's neighbours by the rows of the smallest fit."""
    if ctx.source is None or ctx.problem_type is None:
        return
    rows = ctx.source.row_count
    if ctx.problem_type in SUPERVISED:
        folds = evaluation["cv_folds"]
        rows = int(rows * (1 - evaluation["test_size"]) * (folds - 1) / folds)
    for node_id, step in ctx.steps.items():
        if ctx.graph.type_of(node_id) == MODEL:
            for problem in registry.model(step.plugin).check_rows(step.params, rows):
                ctx.errors.append(error(node_id, f"params.{problem.field}", problem.message))


def _check_split_size(ctx: _Context, node_id: str, settings: dict[str, Any]) -> None:
    if ctx.source is None or ctx.problem_type not in SUPERVISED:
        return
    training_rows = int(ctx.source.row_count * (1 - settings["test_size"]))
    if training_rows < 2 * settings["cv_folds"]:
        message = f"{settings['cv_folds']} folds need at least {2 * settings['cv_folds']} training rows"
        ctx.errors.append(error(node_id, "cv_folds", f"{message}; the training split has {training_rows}"))


def _check_feature_columns(ctx: _Context, dataset_node: str) -> None:
    """Something must be left to learn from once the target and unusable columns are set aside.

    Text columns without an encoding step and numeric gaps without an imputation step are fine: the
    executor imputes (median, most frequent) and one-hot encodes whatever the chain leaves raw.
    """
    if ctx.source is None or ctx.problem_type is None:
        return
    target = sources.target_for(ctx.source, ctx.problem_type, ctx.graph.data(dataset_node))
    features, _ = sources.split_columns(ctx.source, target)
    if not features:
        unused = ", ".join(sources.UNUSED_ROLES)
        message = f"the dataset has no usable feature columns ({unused} columns are not used)"
        ctx.errors.append(error(dataset_node, "dataset_id", message))


def _plan(ctx: _Context, dataset_node: str, evaluation: dict[str, Any]) -> Plan:
    source, problem_type = ctx.source, ctx.problem_type
    assert source is not None and problem_type is not None
    target = sources.target_for(source, problem_type, ctx.graph.data(dataset_node))
    features, dropped = sources.split_columns(source, target)
    return Plan(
        dataset_node_id=dataset_node,
        dataset_id=source.dataset_id,
        dataset_version_id=source.version_id,
        problem_type=problem_type,
        target_column=target,
        feature_columns=tuple(features),
        dropped_columns=tuple(dropped),
        row_count=source.row_count,
        column_count=source.column_count,
        preprocessing=tuple(ctx.steps[node_id] for node_id in chain(ctx.graph, dataset_node)),
        models=tuple(ctx.steps[node_id] for node_id in ctx.graph.of_type(MODEL)),
        metrics=tuple(evaluation["metrics"] or registry.default_metrics(problem_type)),
        plots=tuple(evaluation["plots"]),
        cv_folds=evaluation["cv_folds"],
        test_size=evaluation["test_size"],
        evaluation_node_id=evaluation["node_id"],
    )
