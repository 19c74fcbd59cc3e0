"""Workflow validation: each check fails with the node and the field named; valid graphs give a plan."""

import json
from decimal import Decimal

import pytest

from apps.datasets.models import Dataset, DatasetVersion, IngestionJob
from apps.jobs.workflows import Plan, estimate_cost, validate_workflow

pytestmark = pytest.mark.django_db

COLUMNS = [
    {"name": "customer_id", "dtype": "int64", "role": "id", "missing_count": 0, "unique_count": 200},
    {"name": "age", "dtype": "float64", "role": "numeric", "missing_count": 0, "unique_count": 60},
    {"name": "income", "dtype": "float64", "role": "numeric", "missing_count": 0, "unique_count": 190},
    {"name": "churned", "dtype": "int64", "role": "numeric", "missing_count": 0, "unique_count": 2},
    {"name": "plan", "dtype": "object", "role": "categorical", "missing_count": 0, "unique_count": 3},
    {"name": "flat", "dtype": "int64", "role": "numeric", "missing_count": 0, "unique_count": 1},
    {"name": "notes", "dtype": "object", "role": "text", "missing_count": 4, "unique_count": 196},
    {"name": "spend", "dtype": "float64", "role": "numeric", "missing_count": 0, "unique_count": 150},
]


def make_dataset(owner, *, columns=None, rows=200, problem_type="classification", target="churned", job=None):
    """A dataset whose current version finished ingestion (unless ``job`` says otherwise)."""
    columns = COLUMNS if columns is None else columns
    dataset = Dataset.objects.create(owner=owner, name="customers", problem_type=problem_type, target_column=target)
    version = DatasetVersion.objects.create(
        dataset=dataset,
        version_number=1,
        original_filename="customers.csv",
        raw_key=f"raw/{dataset.pk}.csv",
        parquet_key=f"parquet/{dataset.pk}.parquet",
        row_count=rows,
        column_count=len(columns),
        columns_metadata=columns,
    )
    IngestionJob.objects.create(
        owner=owner, dataset=dataset, dataset_version=version, status=job or IngestionJob.Status.COMPLETED
    )
    dataset.current_version = version
    dataset.save(update_fields=["current_version"])
    return dataset


def workflow(dataset_data, *, pre=(), models=(("m1", "random_forest", {}),), evaluation=None):
    """dataset -> preprocessing chain -> models (-> evaluation), as the builder sends it."""
    nodes = [{"id": "d1", "type": "dataset", "position": {"x": 0, "y": 0}, "data": dataset_data}]
    edges, previous = [], "d1"
    for node_id, slug, params in pre:
        nodes.append({"id": node_id, "type": "preprocessing", "data": {"plugin": slug, "params": params}})
        edges.append({"id": f"e-{previous}-{node_id}", "source": previous, "target": node_id})
        previous = node_id
    for node_id, slug, params in models:
        nodes.append({"id": node_id, "type": "model", "data": {"label": slug, "plugin": slug, "params": params}})
        edges.append({"source": previous, "target": node_id})
    if evaluation is not None:
        nodes.append({"id": "ev", "type": "evaluation", "data": evaluation})
        edges += [{"source": node_id, "target": "ev"} for node_id, _, _ in models]
    return nodes, edges


ENCODE = (("p1", "one_hot_encoder", {}),)


def errors_of(user, nodes, edges):
    result = validate_workflow(user=user, nodes=nodes, edges=edges)
    assert not result.valid and result.plan is None
    return result.errors


def assert_one_error(user, nodes, edges, node_id, field, contains=""):
    errors = errors_of(user, nodes, edges)
    matching = [e for e in errors if e["node_id"] == node_id and e["field"] == field and contains in e["message"]]
    assert matching, errors
    return matching[0]


@pytest.fixture
def dataset(user):
    return make_dataset(user)


def test_a_valid_workflow_gives_a_complete_frozen_plan(user, dataset):
    nodes, edges = workflow(
        {"dataset_id": dataset.pk},
        pre=(("p1", "one_hot_encoder", {}), ("p2", "standard_scaler", {"with_mean": "false"})),
        models=(("m1", "random_forest", {"n_estimators": "50"}), ("m2", "logistic_regression", {})),
        evaluation={"metrics": ["accuracy", "roc_auc"], "plots": ["confusion_matrix"], "cv_folds": 3},
    )
    result = validate_workflow(user=user, nodes=nodes, edges=edges)
    assert result.valid and result.errors == []
    plan = result.plan
    assert plan.dataset_id == dataset.pk and plan.dataset_version_id == dataset.current_version_id
    assert plan.problem_type == "classification" and plan.target_column == "churned"
    assert plan.feature_columns == ("age", "income", "plan", "flat", "spend")
    assert plan.dropped_columns == ("customer_id", "notes")
    assert [(s.node_id, s.plugin) for s in plan.preprocessing] == [("p1", "one_hot_encoder"), ("p2", "standard_scaler")]
    assert plan.preprocessing[1].params == {"with_mean": False, "with_std": True}
    assert [s.node_id for s in plan.models] == ["m1", "m2"]
    assert plan.models[0].params["n_estimators"] == 50 and plan.models[0].params["max_depth"] is None
    assert plan.metrics == ("accuracy", "roc_auc") and plan.plots == ("confusion_matrix",)
    assert (plan.cv_folds, plan.test_size, plan.evaluation_node_id) == (3, 0.2, "ev")
    assert plan.node_ids == ["d1", "p1", "p2", "m1", "m2", "ev"]
    with pytest.raises(AttributeError):
        plan.cv_folds = 4  # frozen
    as_json = json.loads(json.dumps(plan.to_dict()))
    assert Plan.from_dict(as_json) == plan


def test_without_an_evaluation_node_defaults_apply(user):
    dataset = make_dataset(user, problem_type="regression", target="spend")
    nodes, edges = workflow({"dataset_id": str(dataset.pk)}, pre=ENCODE, models=(("m1", "ridge", {}),))
    plan = validate_workflow(user=user, nodes=nodes, edges=edges).plan
    assert plan.problem_type == "regression" and plan.target_column == "spend"
    assert plan.metrics == ("r2", "rmse") and plan.plots == ()
    assert (plan.cv_folds, plan.test_size, plan.evaluation_node_id) == (5, 0.2, None)


def test_clustering_takes_no_target(user, dataset):
    nodes, edges = workflow(
        {"dataset_id": dataset.pk, "problem_type": "clustering"},
        pre=ENCODE,
        models=(("m1", "kmeans", {"n_clusters": 4}), ("m2", "dbscan", {})),
        evaluation={"metrics": ["silhouette"], "plots": ["cluster_scatter"]},
    )
    plan = validate_workflow(user=user, nodes=nodes, edges=edges).plan
    assert plan.target_column is None and "churned" in plan.feature_columns
    nodes[0]["data"]["target_column"] = "churned"
    assert_one_error(user, nodes, edges, "d1", "target_column", "clustering takes no target")


# --- graph structure ---------------------------------------------------------------------------


def test_a_cycle_names_its_nodes(user, dataset):
    nodes, edges = workflow(
        {"dataset_id": dataset.pk}, pre=(("p1", "one_hot_encoder", {}), ("p2", "standard_scaler", {}))
    )
    edges.append({"source": "p2", "target": "p1"})
    error = assert_one_error(user, nodes, edges, "p1", "edges", "cycle")
    assert "p1 → p2 → p1" in error["message"]


def test_a_self_loop_is_a_cycle(user, dataset):
    nodes, edges = workflow({"dataset_id": dataset.pk}, pre=ENCODE)
    edges.append({"source": "m1", "target": "m1"})
    assert "m1 → m1" in assert_one_error(user, nodes, edges, "m1", "edges", "cycle")["message"]


def test_a_disconnected_node_is_named(user, dataset):
    nodes, edges = workflow({"dataset_id": dataset.pk}, pre=ENCODE)
    nodes.append({"id": "lonely", "type": "model", "data": {"plugin": "knn"}})
    assert_one_error(user, nodes, edges, "lonely", "edges", "not connected to any other node")


def test_nodes_unreachable_from_the_dataset_are_named(user, dataset):
    nodes, edges = workflow({"dataset_id": dataset.pk}, pre=ENCODE)
    nodes += [
        {"id": "p9", "type": "preprocessing", "data": {"plugin": "standard_scaler"}},
        {"id": "m9", "type": "model", "data": {"plugin": "knn"}},
    ]
    edges.append({"source": "p9", "target": "m9"})
    assert_one_error(user, nodes, edges, "p9", "edges", "not connected to the dataset node 'd1'")
    assert_one_error(user, nodes, edges, "m9", "edges", "not connected to the dataset node 'd1'")


def _nodes(*specs):
    return [{"id": i, "type": t, "data": {"plugin": p} if p else {}} for i, t, p in specs]


def test_wrong_connection_order_is_refused(user, dataset):
    nodes, edges = workflow({"dataset_id": dataset.pk}, pre=ENCODE, evaluation={"metrics": ["accuracy"]})
    edges.append({"source": "d1", "target": "ev"})
    assert_one_error(user, nodes, edges, "ev", "edges", "a dataset node ('d1') cannot feed an evaluation node")
    # dataset -> model -> preprocessing
    nodes = [{"id": "d1", "type": "dataset", "data": {"dataset_id": dataset.pk}}]
    nodes += _nodes(("m1", "model", "random_forest"), ("p1", "preprocessing", "one_hot_encoder"))
    edges = [{"source": "d1", "target": "m1"}, {"source": "m1", "target": "p1"}]
    assert_one_error(user, nodes, edges, "p1", "edges", "a model node ('m1') cannot feed a preprocessing node")
    # ... -> model -> evaluation -> model
    nodes, edges = workflow({"dataset_id": dataset.pk}, pre=ENCODE, evaluation={})
    nodes += _nodes(("m2", "model", "knn"))
    edges.append({"source": "ev", "target": "m2"})
    assert_one_error(user, nodes, edges, "m2", "edges", "an evaluation node ('ev') cannot feed")


def test_exactly_one_dataset_node(user, dataset):
    nodes, edges = workflow({"dataset_id": dataset.pk}, pre=ENCODE)
    errors = errors_of(user, nodes[1:], [e for e in edges if e["source"] != "d1"])
    assert {
        "node_id": None,
        "field": "nodes",
        "message": "a workflow needs exactly one dataset node; it has none",
    } in errors
    nodes.append({"id": "d2", "type": "dataset", "data": {"dataset_id": dataset.pk}})
    edges.append({"source": "d2", "target": "m1"})
    assert_one_error(user, nodes, edges, "d2", "type", "exactly one dataset node")


def test_a_workflow_needs_a_model(user, dataset):
    nodes = [
        {"id": "d1", "type": "dataset", "data": {"dataset_id": dataset.pk}},
        {"id": "p1", "type": "preprocessing", "data": {"plugin": "one_hot_encoder"}},
    ]
    assert_one_error(user, nodes, [{"source": "d1", "target": "p1"}], None, "nodes", "at least one model")


def test_the_preprocessing_chain_cannot_branch(user, dataset):
    nodes, edges = workflow({"dataset_id": dataset.pk}, pre=ENCODE)
    nodes.append({"id": "p2", "type": "preprocessing", "data": {"plugin": "standard_scaler"}})
    edges.append({"source": "d1", "target": "p2"})
    assert_one_error(user, nodes, edges, "d1", "edges", "cannot branch")


def test_models_follow_the_end_of_the_chain(user, dataset):
    nodes, edges = workflow(
        {"dataset_id": dataset.pk}, pre=(("p1", "one_hot_encoder", {}), ("p2", "standard_scaler", {}))
    )
    nodes.append({"id": "m2", "type": "model", "data": {"plugin": "knn"}})
    edges.append({"source": "p1", "target": "m2"})
    assert_one_error(user, nodes, edges, "m2", "edges", "last preprocessing step ('p2')")


def test_a_node_takes_one_input(user, dataset):
    nodes, edges = workflow({"dataset_id": dataset.pk}, pre=ENCODE)
    edges.append({"source": "d1", "target": "m1"})
    assert_one_error(user, nodes, edges, "m1", "edges", "exactly one input")


def test_every_model_feeds_the_evaluation_node(user, dataset):
    nodes, edges = workflow(
        {"dataset_id": dataset.pk},
        pre=ENCODE,
        models=(("m1", "random_forest", {}), ("m2", "knn", {})),
        evaluation={"metrics": ["accuracy"]},
    )
    edges = [e for e in edges if e != {"source": "m2", "target": "ev"}]
    assert_one_error(user, nodes, edges, "m2", "edges", "connect this model to the evaluation node 'ev'")
    nodes.append({"id": "ev2", "type": "evaluation", "data": {}})
    edges += [{"source": "m2", "target": "ev"}, {"source": "m2", "target": "ev2"}]
    assert_one_error(user, nodes, edges, "ev2", "type", "at most one evaluation node")


def test_graph_size_is_bounded(user, dataset):
    nodes, edges = workflow({"dataset_id": dataset.pk}, pre=ENCODE)
    many_nodes = nodes + [{"id": f"x{i}", "type": "model", "data": {}} for i in range(60)]
    assert_one_error(user, many_nodes, edges, None, "nodes", "at most 50 nodes")
    assert_one_error(user, nodes, edges * 300, None, "edges", "at most 500 edges")


def test_node_and_edge_format(user, dataset):
    nodes, edges = workflow({"dataset_id": dataset.pk}, pre=ENCODE)
    bad_nodes = [*nodes, {"id": "m1", "type": "model", "data": {}}]
    assert_one_error(user, bad_nodes, edges, "m1", "id", "same id")
    assert_one_error(user, [*nodes, {"id": "x", "type": "notebook"}], edges, "x", "type", "must be one of")
    assert_one_error(user, [*nodes, {"id": "x", "type": "model", "data": [1]}], edges, "x", "data", "object")
    assert_one_error(user, [*nodes, "oops"], edges, None, "nodes[3]", "object")
    assert_one_error(user, [*nodes, {"type": "model"}], edges, None, "nodes[3].id", "non-empty string")
    assert_one_error(user, nodes, [*edges, {"source": "m1", "target": "ghost"}], "m1", "edges[2].target", "'ghost'")
    assert_one_error(user, nodes, [*edges, {"source": 3}], None, "edges[2].source", "node id")


# --- node configuration ------------------------------------------------------------------------


def test_required_config_is_present(user, dataset):
    nodes, edges = workflow({}, pre=ENCODE)
    assert_one_error(user, nodes, edges, "d1", "dataset_id", "is required")
    nodes, edges = workflow({"dataset_id": dataset.pk}, pre=ENCODE)
    nodes[2]["data"] = {}
    assert_one_error(user, nodes, edges, "m1", "plugin", "is required")


def test_unknown_plugin_slugs(user, dataset):
    nodes, edges = workflow(
        {"dataset_id": dataset.pk}, pre=(("p1", "magic_cleaner", {}),), models=(("m1", "xgboost", {}),)
    )
    assert_one_error(user, nodes, edges, "p1", "plugin", "unknown preprocessing plugin: 'magic_cleaner'")
    assert_one_error(user, nodes, edges, "m1", "plugin", "unknown model plugin: 'xgboost'")
    # A model slug in a preprocessing node is unknown there.
    nodes, edges = workflow({"dataset_id": dataset.pk}, pre=(("p1", "random_forest", {}),))
    assert_one_error(user, nodes, edges, "p1", "plugin", "unknown preprocessing plugin")


def test_out_of_range_hyperparameters(user, dataset):
    nodes, edges = workflow(
        {"dataset_id": dataset.pk},
        pre=(("p1", "one_hot_encoder", {"max_categories": 1}),),
        models=(("m1", "random_forest", {"n_estimators": 5, "max_depth": 1000}),),
    )
    assert_one_error(user, nodes, edges, "m1", "params.n_estimators", "at least 10")
    assert_one_error(user, nodes, edges, "m1", "params.max_depth", "at most 100")
    assert_one_error(user, nodes, edges, "p1", "params.max_categories", "at least 2")


def test_wrong_hyperparameter_types_and_options(user, dataset):
    nodes, edges = workflow(
        {"dataset_id": dataset.pk},
        pre=ENCODE,
        models=(("m1", "svm", {"C": "strong", "kernel": "cubic", "degree": 2.5, "shrinking": True}),),
    )
    assert_one_error(user, nodes, edges, "m1", "params.C", "must be a number")
    assert_one_error(user, nodes, edges, "m1", "params.kernel", "must be one of: rbf, linear, poly, sigmoid")
    assert_one_error(user, nodes, edges, "m1", "params.degree", "whole number")
    assert_one_error(user, nodes, edges, "m1", "params.shrinking", "not a parameter")
    nodes[2]["data"]["params"] = "C=1"
    assert_one_error(user, nodes, edges, "m1", "params", "must be an object")


def test_parameters_of_another_problem_type_and_cross_field_rules(user, dataset):
    nodes, edges = workflow(
        {"dataset_id": dataset.pk},
        pre=ENCODE,
        models=(("m1", "svm", {"epsilon": 0.2}), ("m2", "logistic_regression", {"l1_ratio": 1})),
    )
    assert_one_error(user, nodes, edges, "m1", "params.epsilon", "does not apply to classification")
    assert_one_error(user, nodes, edges, "m2", "params.solver", "saga")


def test_a_plugin_must_support_the_problem_type(user, dataset):
    nodes, edges = workflow({"dataset_id": dataset.pk}, pre=ENCODE, models=(("m1", "kmeans", {}),))
    assert_one_error(user, nodes, edges, "m1", "plugin", "K-Means does not support classification")
    nodes, edges = workflow(
        {"dataset_id": dataset.pk, "problem_type": "clustering"},
        pre=(("p1", "one_hot_encoder", {}), ("p2", "select_k_best", {})),
        models=(("m1", "kmeans", {}),),
    )
    assert_one_error(user, nodes, edges, "p2", "plugin", "does not support clustering")


def test_problem_type_must_be_known(user, dataset):
    nodes, edges = workflow({"dataset_id": dataset.pk, "problem_type": "forecasting"}, pre=ENCODE)
    assert_one_error(user, nodes, edges, "d1", "problem_type", "must be one of")
    blank = make_dataset(user, problem_type="", target="")
    nodes, edges = workflow({"dataset_id": blank.pk}, pre=ENCODE)
    assert_one_error(user, nodes, edges, "d1", "problem_type", "does not declare one")


# --- the dataset -------------------------------------------------------------------------------


def test_another_users_dataset_is_reported_as_not_found(user, other_user):
    theirs = make_dataset(other_user)
    nodes, edges = workflow({"dataset_id": theirs.pk}, pre=ENCODE)
    hidden = assert_one_error(user, nodes, edges, "d1", "dataset_id")
    nodes, edges = workflow({"dataset_id": theirs.pk + 1000}, pre=ENCODE)
    missing = assert_one_error(user, nodes, edges, "d1", "dataset_id")
    assert hidden == missing == {"node_id": "d1", "field": "dataset_id", "message": "Dataset not found"}
    for weird in ("abc", 10**30, -1, True, [theirs.pk], {"id": 1}):
        nodes, edges = workflow({"dataset_id": weird}, pre=ENCODE)
        assert assert_one_error(user, nodes, edges, "d1", "dataset_id")["message"] == "Dataset not found"
    # Its owner may use it.
    assert validate_workflow(
        user=other_user, nodes=workflow({"dataset_id": theirs.pk}, pre=ENCODE)[0], edges=edges
    ).valid


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (IngestionJob.Status.PENDING, "still being processed"),
        (IngestionJob.Status.PROCESSING, "still being processed"),
        (IngestionJob.Status.FAILED, "processing failed"),
    ],
)
def test_the_dataset_must_have_finished_ingestion(user, status, message):
    dataset = make_dataset(user, job=status)
    nodes, edges = workflow({"dataset_id": dataset.pk}, pre=ENCODE)
    assert_one_error(user, nodes, edges, "d1", "dataset_id", message)


def test_a_dataset_without_a_version_or_with_too_few_rows(user):
    empty = Dataset.objects.create(owner=user, name="empty", problem_type="classification", target_column="churned")
    nodes, edges = workflow({"dataset_id": empty.pk}, pre=ENCODE)
    assert_one_error(user, nodes, edges, "d1", "dataset_id", "no processed version")
    tiny = make_dataset(user, rows=5)
    nodes, edges = workflow({"dataset_id": tiny.pk}, pre=ENCODE)
    assert_one_error(user, nodes, edges, "d1", "dataset_id", "needs at least 10")


def test_a_missing_target(user):
    dataset = make_dataset(user, target="")
    nodes, edges = workflow({"dataset_id": dataset.pk}, pre=ENCODE)
    assert_one_error(user, nodes, edges, "d1", "target_column", "is required for classification")
    nodes[0]["data"]["target_column"] = "churn"
    assert_one_error(user, nodes, edges, "d1", "target_column", "no column 'churn'")
    nodes[0]["data"]["target_column"] = "churned"
    assert validate_workflow(user=user, nodes=nodes, edges=edges).valid


def test_a_constant_target(user, dataset):
    nodes, edges = workflow({"dataset_id": dataset.pk, "target_column": "flat"}, pre=ENCODE)
    assert_one_error(user, nodes, edges, "d1", "target_column", "constant")


def test_classification_needs_a_sensible_number_of_classes(user, dataset):
    nodes, edges = workflow({"dataset_id": dataset.pk, "target_column": "income"}, pre=ENCODE)
    assert_one_error(user, nodes, edges, "d1", "target_column", "190 distinct values")
    nodes[0]["data"]["target_column"] = "plan"  # three text classes are fine
    assert validate_workflow(user=user, nodes=nodes, edges=edges).valid


def test_regression_needs_a_numeric_target(user, dataset):
    nodes, edges = workflow(
        {"dataset_id": dataset.pk, "problem_type": "regression", "target_column": "plan"},
        pre=ENCODE,
        models=(("m1", "lasso", {}),),
    )
    assert_one_error(user, nodes, edges, "d1", "target_column", "numeric target")


def test_raw_text_and_gaps_are_left_to_the_executor_but_some_feature_must_remain(user, dataset):
    gappy = make_dataset(user, columns=[{**c, "missing_count": 3} if c["name"] == "age" else c for c in COLUMNS])
    nodes, edges = workflow({"dataset_id": gappy.pk})  # no encoder, no imputer
    assert validate_workflow(user=user, nodes=nodes, edges=edges).valid
    only_ids = make_dataset(user, columns=[c for c in COLUMNS if c["name"] in ("customer_id", "notes", "churned")])
    nodes, edges = workflow({"dataset_id": only_ids.pk})
    assert_one_error(user, nodes, edges, "d1", "dataset_id", "no usable feature columns")


# --- evaluation --------------------------------------------------------------------------------


def test_evaluation_settings_are_checked(user, dataset):
    nodes, edges = workflow(
        {"dataset_id": dataset.pk},
        pre=ENCODE,
        evaluation={"metrics": ["accuracy", "r2", "bogus"], "plots": ["residuals"], "cv_folds": 11, "test_size": 0.9},
    )
    assert_one_error(user, nodes, edges, "ev", "metrics", "'r2' is not available for classification")
    assert_one_error(user, nodes, edges, "ev", "metrics", "unknown metric: 'bogus'")
    assert_one_error(user, nodes, edges, "ev", "plots", "'residuals' is not available")
    assert_one_error(user, nodes, edges, "ev", "cv_folds", "at most 10")
    assert_one_error(user, nodes, edges, "ev", "test_size", "at most 0.5")
    nodes[-1]["data"] = {"metrics": "accuracy", "cv_folds": 1}
    assert_one_error(user, nodes, edges, "ev", "metrics", "list of slugs")
    assert_one_error(user, nodes, edges, "ev", "cv_folds", "at least 2")


def test_a_plot_needs_a_model_that_can_draw_it(user, dataset):
    nodes, edges = workflow(
        {"dataset_id": dataset.pk},
        pre=ENCODE,
        models=(("m1", "knn", {}), ("m2", "svm", {"kernel": "rbf"})),
        evaluation={"plots": ["feature_importance"]},
    )
    assert_one_error(user, nodes, edges, "ev", "plots", "Feature importance is not available for K-Nearest")
    nodes[3]["data"]["params"] = {"kernel": "linear"}
    assert validate_workflow(user=user, nodes=nodes, edges=edges).valid


def test_parameters_bounded_by_the_data(user):
    dataset = make_dataset(user, rows=50)
    nodes, edges = workflow({"dataset_id": dataset.pk}, models=(("m1", "knn", {"n_neighbors": 40}),))
    # 50 rows, 20% held out, 5 folds: each fit sees 32 rows.
    assert_one_error(user, nodes, edges, "m1", "params.n_neighbors", "the 32 rows")
    nodes[1]["data"]["params"] = {"n_neighbors": 30}
    assert validate_workflow(user=user, nodes=nodes, edges=edges).valid
    tiny = make_dataset(user, rows=12)
    nodes, edges = workflow(
        {"dataset_id": tiny.pk, "problem_type": "clustering"}, models=(("m1", "kmeans", {"n_clusters": 20}),)
    )
    assert_one_error(user, nodes, edges, "m1", "params.n_clusters", "12 rows")


def test_folds_need_enough_training_rows(user):
    dataset = make_dataset(user, rows=12)
    nodes, edges = workflow({"dataset_id": dataset.pk}, pre=ENCODE, evaluation={"cv_folds": 10, "test_size": 0.5})
    assert_one_error(user, nodes, edges, "ev", "cv_folds", "the training split has 6")


# --- pricing -----------------------------------------------------------------------------------


def _plan(user, dataset, **kwargs):
    nodes, edges = workflow({"dataset_id": dataset.pk}, pre=ENCODE, **kwargs)
    return validate_workflow(user=user, nodes=nodes, edges=edges).plan


def test_pricing_is_deterministic_positive_and_grows_with_work(user, dataset):
    plan = _plan(user, dataset)
    cost = estimate_cost(plan=plan, row_count=1000, column_count=10)
    assert isinstance(cost, Decimal) and cost > 0 and cost == cost.quantize(Decimal("0.01"))
    # base 1.00 + forest 0.50 x 2.0 x 1.01 + one-hot 0.50 x 0.1 x 1.01, rounded up
    assert cost == Decimal("2.07")
    assert estimate_cost(plan=plan, row_count=1000, column_count=10) == cost
    assert estimate_cost(plan=plan, row_count=1_000_000, column_count=10) > cost
    assert estimate_cost(plan=plan, row_count=0, column_count=0) > 0
    leaderboard = _plan(user, dataset, models=(("m1", "random_forest", {}), ("m2", "svm", {})))
    assert estimate_cost(plan=leaderboard, row_count=1000, column_count=10) > cost
    cheap = _plan(user, dataset, models=(("m1", "logistic_regression", {}),))
    assert estimate_cost(plan=cheap, row_count=1000, column_count=10) < cost
    more_folds = _plan(user, dataset, evaluation={"cv_folds": 10})
    assert estimate_cost(plan=more_folds, row_count=1000, column_count=10) > cost


# --- over HTTP ---------------------------------------------------------------------------------


def test_validate_endpoint_answers_valid_with_a_cost(user_client, dataset):
    nodes, edges = workflow({"dataset_id": dataset.pk}, pre=ENCODE, evaluation={"metrics": ["f1"]})
    response = user_client.post("/api/workflows/validate", {"nodes": nodes, "edges": edges}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is True and body["errors"] == []
    plan = validate_workflow(user=dataset.owner, nodes=nodes, edges=edges).plan
    assert body["estimated_cost"] == float(estimate_cost(plan=plan, row_count=200, column_count=8))


def test_validate_endpoint_answers_invalid_with_200_and_errors(user_client, dataset):
    nodes, edges = workflow(
        {"dataset_id": dataset.pk}, pre=ENCODE, models=(("m1", "random_forest", {"n_estimators": 1}),)
    )
    body = user_client.post("/api/workflows/validate", {"nodes": nodes, "edges": edges}, format="json").json()
    assert body == {
        "valid": False,
        "errors": [{"node_id": "m1", "field": "params.n_estimators", "message": "must be at least 10"}],
        "estimated_cost": None,
    }


def test_validate_endpoint_hides_another_users_dataset(other_client, dataset):
    nodes, edges = workflow({"dataset_id": dataset.pk}, pre=ENCODE)
    body = other_client.post("/api/workflows/validate", {"nodes": nodes, "edges": edges}, format="json").json()
    assert body["valid"] is False
    assert body["errors"] == [{"node_id": "d1", "field": "dataset_id", "message": "Dataset not found"}]


@pytest.mark.parametrize(
    ("payload", "content_type", "code"),
    [
        ("{not json", "application/json", "MALFORMED_JSON"),
        (json.dumps({"nodes": []}), "application/json", "VALIDATION_ERROR"),
        (json.dumps({"nodes": {"a": 1}, "edges": []}), "application/json", "VALIDATION_ERROR"),
        (json.dumps([1, 2]), "application/json", "VALIDATION_ERROR"),
    ],
)
def test_validate_endpoint_bad_bodies_are_400_json(user_client, payload, content_type, code):
    response = user_client.post("/api/workflows/validate", payload, content_type=content_type)
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == code and {"detail", "timestamp"} <= set(body)


def test_validate_endpoint_needs_a_token(api_client):
    response = api_client.post("/api/workflows/validate", {"nodes": [], "edges": []}, format="json")
    assert response.status_code == 401 and response.json()["error_code"] == "UNAUTHORIZED"


def test_an_empty_workflow_is_invalid_not_an_error(user_client):
    body = user_client.post("/api/workflows/validate", {"nodes": [], "edges": []}, format="json").json()
    assert body["valid"] is False and body["errors"][0]["field"] == "nodes"
