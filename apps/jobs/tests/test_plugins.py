"""The plugin catalogue as Python: every model fits, every step transforms, every metric and plot works."""

import io
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs, make_classification, make_regression
from sklearn.pipeline import make_pipeline

from apps.jobs.plugins import (
    InvalidParams,
    NotApplicable,
    ParamError,
    PlotContext,
    UnknownPlugin,
    registry,
)
from apps.jobs.plugins.base import PROBLEM_TYPES

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
REQUIRED_MODELS = {
    "logistic_regression": {"classification"},
    "random_forest": {"classification", "regression"},
    "gradient_boosting": {"classification", "regression"},
    "svm": {"classification", "regression"},
    "knn": {"classification", "regression"},
    "linear_regression": {"regression"},
    "ridge": {"regression"},
    "lasso": {"regression"},
    "kmeans": {"clustering"},
    "dbscan": {"clustering"},
}
REQUIRED_PREPROCESSING = {
    "imputation": {"simple_imputer", "constant_imputer"},
    "scaling": {"standard_scaler", "minmax_scaler", "robust_scaler"},
    "encoding": {"one_hot_encoder", "ordinal_encoder"},
    "feature_selection": {"variance_threshold", "select_k_best"},
}
REQUIRED_METRICS = {
    "classification": {"accuracy", "precision", "recall", "f1", "roc_auc"},
    "regression": {"r2", "mae", "mse", "rmse"},
    "clustering": {"silhouette", "davies_bouldin", "calinski_harabasz"},
}
REQUIRED_PLOTS = {"confusion_matrix", "roc_curve", "feature_importance", "residuals", "cluster_scatter"}


def tiny(problem_type: str, *, n_classes: int = 2):
    """A small dataset for ``problem_type`` (cluster labels as y for clustering)."""
    if problem_type == "classification":
        return make_classification(n_samples=80, n_features=5, n_informative=3, n_classes=n_classes, random_state=0)
    if problem_type == "regression":
        return make_regression(n_samples=80, n_features=5, noise=5, random_state=0)
    return make_blobs(n_samples=80, n_features=3, centers=3, cluster_std=0.5, random_state=0)


def test_the_catalogue_has_every_required_plugin():
    models = {m.slug: set(m.problem_types) for m in registry.models()}
    for slug, problem_types in REQUIRED_MODELS.items():
        assert problem_types <= models[slug], slug
    for category, slugs in REQUIRED_PREPROCESSING.items():
        assert slugs <= {p.slug for p in registry.preprocessors(category=category)}
    for problem_type, slugs in REQUIRED_METRICS.items():
        assert {m.slug for m in registry.metrics(problem_type=problem_type)} == slugs
    assert {p.slug for p in registry.plots()} == REQUIRED_PLOTS


def test_lookups_raise_unknown_plugin():
    for lookup in (registry.model, registry.preprocessor, registry.metric, registry.plot):
        with pytest.raises(UnknownPlugin):
            lookup("no_such_plugin")
    with pytest.raises(UnknownPlugin):
        registry.model(None)
    # A slug of another kind is not found either.
    with pytest.raises(UnknownPlugin):
        registry.model("standard_scaler")


def test_registering_a_duplicate_slug_is_refused():
    from apps.jobs.plugins.base import MetricPlugin

    class Duplicate(MetricPlugin):
        slug = "accuracy"
        problem_types = ("classification",)

    with pytest.raises(TypeError, match="duplicate"):
        registry.register(Duplicate)


def test_every_summary_has_the_documented_fields():
    fields = {"slug", "name", "description", "icon", "problemTypes", "category", "bestFor"}
    plugins = registry.models() + registry.preprocessors() + registry.metrics() + registry.plots()
    for plugin in plugins:
        summary = plugin.summary()
        assert fields <= set(summary), plugin.slug
        assert all(summary[f] for f in fields), plugin.slug
        assert set(summary["problemTypes"]) <= set(PROBLEM_TYPES)


@pytest.mark.parametrize("slug", [*sorted(REQUIRED_MODELS), "decision_tree"])
def test_every_model_builds_and_fits_for_each_problem_type_it_claims(slug):
    plugin = registry.model(slug)
    for problem_type in plugin.problem_types:
        X, y = tiny(problem_type)
        estimator = plugin.build({}, problem_type)
        with warnings.catch_warnings():
            warnings.simplefilter("error", FutureWarning)  # no deprecated arguments
            if problem_type == "clustering":
                labels = estimator.fit_predict(X)
                assert len(labels) == len(X)
            else:
                predictions = estimator.fit(X, y).predict(X)
                assert predictions.shape == y.shape
        if problem_type == "classification":
            assert plugin.build({}, problem_type).fit(X, y).predict_proba(X).shape == (len(X), 2)


def test_svm_calibrates_with_fewer_folds_when_a_class_is_rare():
    X, y = tiny("classification")
    y = y.copy()
    y[np.flatnonzero(y == 1)[2:]] = 0  # class 1 keeps two rows
    model = registry.model("svm").build({}, "classification").fit(X, y)
    assert model.predict_proba(X).shape == (len(X), 2)


def test_build_fills_defaults_and_coerces_types():
    estimator = registry.model("random_forest").build({"n_estimators": "20", "max_depth": 4.0}, "regression")
    assert estimator.n_estimators == 20 and isinstance(estimator.n_estimators, int)
    assert estimator.max_depth == 4 and isinstance(estimator.max_depth, int)
    assert estimator.min_samples_split == 2  # default
    assert estimator.max_features == "sqrt"
    assert registry.model("random_forest").build({"max_features": "all"}, "regression").max_features is None
    logistic = registry.model("logistic_regression").build({"C": 2, "fit_intercept": "false"}, "classification")
    assert logistic.C == 2 and logistic.fit_intercept is False and logistic.random_state == 42


def test_validate_params_reports_each_problem_by_field():
    forest = registry.model("random_forest")
    assert forest.validate_params({}) == []
    assert forest.validate_params({"n_estimators": 5}) == [ParamError("n_estimators", "must be at least 10")]
    assert forest.validate_params({"n_estimators": 5000})[0].message == "must be at most 1000"
    assert forest.validate_params({"n_estimators": "many"})[0] == ParamError("n_estimators", "must be a number")
    assert forest.validate_params({"n_estimators": 10.5})[0].message == "must be a whole number"
    assert forest.validate_params({"n_estimators": True})[0].message == "must be a number"
    assert forest.validate_params({"bootstrap": "yes"})[0] == ParamError("bootstrap", "must be true or false")
    assert forest.validate_params({"max_features": "half"})[0].field == "max_features"
    assert forest.validate_params({"max_depth": None}) == []  # nullable
    assert forest.validate_params({"n_estimators": None})[0].message == "is required"
    assert forest.validate_params({"colour": "red"}) == [ParamError("colour", "is not a parameter of this plugin")]
    assert forest.validate_params([1, 2]) == [ParamError("params", "must be an object of parameter values")]
    # class_weight exists for classification only.
    assert forest.validate_params({"class_weight": "balanced"}, problem_type="regression")[0].field == "class_weight"
    assert forest.validate_params({"class_weight": "balanced"}, problem_type="classification") == []


def test_cross_field_rules():
    logistic = registry.model("logistic_regression")
    assert logistic.validate_params({"l1_ratio": 0.5})[0].field == "solver"
    assert logistic.validate_params({"l1_ratio": 0.5, "solver": "saga"}) == []
    assert registry.preprocessor("minmax_scaler").validate_params({"feature_range_min": 2, "feature_range_max": 1})
    with pytest.raises(InvalidParams) as caught:
        logistic.build({"l1_ratio": 1}, "classification")
    assert caught.value.errors[0].field == "solver"


def test_build_refuses_an_unsupported_problem_type():
    with pytest.raises(ValueError, match="does not support"):
        registry.model("kmeans").build({}, "classification")
    with pytest.raises(ValueError, match="does not support"):
        registry.preprocessor("select_k_best").build({}, problem_type="clustering")


def test_hyperparameter_definitions_have_the_documented_shape():
    keys = {"key", "name", "type", "default", "description", "min", "max", "step", "options", "required"}
    for plugin in registry.models() + registry.preprocessors():
        groups = plugin.hyperparameter_groups()
        assert set(groups) == {"main", "advanced"}
        for definition in groups["main"] + groups["advanced"]:
            assert keys <= set(definition), (plugin.slug, definition["key"])
            assert definition["type"] in ("number", "integer", "select", "boolean", "string")
            if definition["type"] == "select":
                assert definition["default"] in [o["value"] for o in definition["options"]]
        assert plugin.validate_params({}) == [], plugin.slug  # every default is valid


def test_capabilities_follow_the_problem_type_and_the_model():
    forest = registry.model("random_forest")
    assert forest.capabilities("regression") == {
        "metrics": ["r2", "mae", "mse", "rmse"],
        "plots": ["feature_importance", "residuals"],
    }
    assert "roc_curve" in forest.capabilities("classification")["plots"]
    assert "feature_importance" not in registry.model("knn").capabilities("classification")["plots"]
    assert registry.model("kmeans").capabilities() == {
        "metrics": ["silhouette", "davies_bouldin", "calinski_harabasz"],
        "plots": ["cluster_scatter"],
    }


def _mixed_frame() -> tuple[pd.DataFrame, np.ndarray]:
    X, y = make_classification(n_samples=60, n_features=4, n_informative=3, n_redundant=0, random_state=1)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    frame["colour"] = np.where(y == 0, "red", "blue")
    frame["size"] = np.where(X[:, 0] > 0, "big", "small")
    frame.loc[[2, 5], "a"] = np.nan
    frame.loc[[3], "colour"] = None
    return frame, y


@pytest.mark.parametrize("slug", sorted(set().union(*REQUIRED_PREPROCESSING.values())))
def test_every_preprocessing_step_transforms_a_mixed_frame(slug):
    frame, y = _mixed_frame()
    plugin = registry.preprocessor(slug)
    if plugin.category == "feature_selection":
        frame = frame.fillna({"a": 0.0})  # scikit-learn's selectors refuse missing values
    step = plugin.build_step({}, problem_type="classification")
    out = step.fit_transform(frame, y)
    assert isinstance(out, pd.DataFrame) and len(out) == len(frame)
    if plugin.category == "imputation":
        assert not out[["a", "b", "c", "d"]].isna().any().any()
    if plugin.category == "scaling":
        assert out["colour"].equals(frame["colour"])  # text passes through untouched
        assert abs(out["b"].mean()) < 1.5
    if plugin.category == "encoding":
        assert all(pd.api.types.is_numeric_dtype(dtype) for dtype in out.dtypes)
    assert plugin.columns({}) in ("numeric", "categorical", "all")


def test_most_frequent_imputer_fills_text_columns_too():
    frame, y = _mixed_frame()
    plugin = registry.preprocessor("simple_imputer")
    assert plugin.columns({"strategy": "most_frequent"}) == "all"
    assert plugin.columns({"strategy": "median"}) == "numeric"
    out = plugin.build_step({"strategy": "most_frequent"}).fit_transform(frame, y)
    assert not out.isna().any().any()
    assert pd.api.types.is_numeric_dtype(out["a"])  # numbers stay numbers


def test_select_k_best_keeps_k_columns_and_all_when_fewer():
    frame, y = _mixed_frame()
    numeric = frame[["b", "c", "d"]]
    assert registry.preprocessor("select_k_best").build({"k": 2}, problem_type="classification").fit_transform(
        numeric, y
    ).shape == (60, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = (
            registry.preprocessor("select_k_best").build({"k": 50}, problem_type="regression").fit_transform(numeric, y)
        )
    assert out.shape == (60, 3)


def test_a_full_pipeline_of_steps_and_a_model_trains():
    frame, y = _mixed_frame()
    steps = [
        registry.preprocessor("simple_imputer").build_step({"strategy": "median"}),
        registry.preprocessor("constant_imputer").build_step({}),
        registry.preprocessor("one_hot_encoder").build_step({}),
        registry.preprocessor("standard_scaler").build_step({}),
    ]
    pipeline = make_pipeline(*steps, registry.model("logistic_regression").build({}, "classification"))
    assert pipeline.fit(frame, y).score(frame, y) > 0.7


def _classification_outputs(n_classes: int):
    X, y = tiny("classification", n_classes=n_classes)
    model = registry.model("random_forest").build({"n_estimators": 20}, "classification").fit(X, y)
    return X, y, model.predict(X), model.predict_proba(X), model


@pytest.mark.parametrize("n_classes", [2, 3])
def test_classification_metrics_compute(n_classes):
    _, y, pred, proba, _ = _classification_outputs(n_classes)
    for slug in REQUIRED_METRICS["classification"]:
        value = registry.metric(slug).compute(y, pred, y_score=proba, labels=sorted(set(y)))
        assert 0.0 <= value <= 1.0, slug
    assert registry.metric("accuracy").compute([1, 0, 1, 1], [1, 0, 0, 1]) == 0.75
    assert registry.metric("roc_auc").scorer(n_classes=n_classes) == (
        "roc_auc" if n_classes == 2 else "roc_auc_ovr_weighted"
    )
    with pytest.raises(NotApplicable):
        registry.metric("roc_auc").compute(y, pred)


def test_regression_metrics_compute_and_undo_negated_scorers():
    y_true, y_pred = np.array([3.0, 5.0, 2.0, 7.0]), np.array([2.5, 5.0, 3.0, 8.0])
    assert registry.metric("mae").compute(y_true, y_pred) == pytest.approx(0.625)
    assert registry.metric("mse").compute(y_true, y_pred) == pytest.approx(0.5625)
    assert registry.metric("rmse").compute(y_true, y_pred) == pytest.approx(0.75)
    assert registry.metric("r2").compute(y_true, y_pred) == pytest.approx(1 - 2.25 / 14.75)
    assert registry.metric("rmse").scorer() == "neg_root_mean_squared_error"
    assert registry.metric("rmse").from_cv(-0.75) == 0.75
    assert registry.metric("r2").from_cv(0.5) == 0.5


def test_clustering_metrics_compute_and_refuse_one_cluster():
    X, _ = tiny("clustering")
    labels = registry.model("kmeans").build({"n_clusters": 3}, "clustering").fit_predict(X)
    assert registry.metric("silhouette").compute(None, labels, X=X) > 0.5
    assert registry.metric("davies_bouldin").compute(None, labels, X=X) > 0
    assert registry.metric("calinski_harabasz").compute(None, labels, X=X) > 0
    assert registry.metric("silhouette").scorer() is None
    with pytest.raises(NotApplicable):
        registry.metric("silhouette").compute(None, np.zeros(len(X)), X=X)
    with pytest.raises(NotApplicable):
        registry.metric("silhouette").compute(None, labels)


def _assert_png(data: bytes) -> None:
    from PIL import Image

    assert data.startswith(PNG_MAGIC)
    image = Image.open(io.BytesIO(data))
    image.verify()
    assert image.size[0] > 100 and image.size[1] > 100


@pytest.mark.parametrize("n_classes", [2, 3])
def test_classification_plots_render_png(n_classes):
    X, y, pred, proba, model = _classification_outputs(n_classes)
    ctx = PlotContext(
        problem_type="classification",
        y_true=y,
        y_pred=pred,
        y_score=proba,
        X=X,
        feature_names=[f"f{i}" for i in range(X.shape[1])],
        estimator=model,
        labels=sorted(set(y)),
    )
    for slug in ("confusion_matrix", "roc_curve", "feature_importance"):
        _assert_png(registry.plot(slug).render(ctx))


def test_regression_plots_render_png_for_coefficients_too():
    X, y = tiny("regression")
    model = registry.model("ridge").build({}, "regression").fit(X, y)
    ctx = PlotContext(problem_type="regression", y_true=y, y_pred=model.predict(X), X=X, estimator=model)
    _assert_png(registry.plot("residuals").render(ctx))
    _assert_png(registry.plot("feature_importance").render(ctx))


def test_feature_importance_needs_a_model_that_explains_itself():
    X, y = tiny("classification")
    knn = registry.model("knn").build({}, "classification").fit(X, y)
    with pytest.raises(NotApplicable):
        registry.plot("feature_importance").render(PlotContext(problem_type="classification", estimator=knn))
    plot = registry.plot("feature_importance")
    assert not plot.supports_model(registry.model("knn"))
    assert plot.supports_model(registry.model("svm"), {"kernel": "linear"})
    assert not plot.supports_model(registry.model("svm"), {"kernel": "rbf"})
    linear_svc = registry.model("svm").build({"kernel": "linear"}, "classification").fit(X, y)
    _assert_png(plot.render(PlotContext(problem_type="classification", estimator=linear_svc)))


@pytest.mark.parametrize("n_features", [1, 2, 3])
def test_cluster_scatter_renders_png_with_noise(n_features):
    X, _ = make_blobs(n_samples=60, n_features=n_features, centers=3, random_state=0)
    labels = registry.model("dbscan").build({"eps": 0.8}, "clustering").fit_predict(X)
    _assert_png(registry.plot("cluster_scatter").render(PlotContext(problem_type="clustering", X=X, y_pred=labels)))


def test_plots_refuse_missing_inputs():
    with pytest.raises(NotApplicable):
        registry.plot("roc_curve").render(PlotContext(problem_type="classification", y_true=[0, 1], y_pred=[0, 1]))
    with pytest.raises(NotApplicable):
        registry.plot("residuals").render(PlotContext(problem_type="regression"))
