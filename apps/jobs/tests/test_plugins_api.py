"""003's /api/plugins/* over HTTP: filters, details, 404 and 400 as JSON, auth, cache headers."""

import pytest

pytestmark = pytest.mark.django_db

SUMMARY_FIELDS = {"slug", "name", "description", "icon", "problemTypes", "category", "bestFor"}


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error_code"] == code
    assert {"detail", "error_code", "timestamp"} <= set(body)
    return body


def test_catalogue_lists_models_and_preprocessing(user_client):
    body = user_client.get("/api/plugins").json()
    assert set(body) == {"models", "preprocessing"}
    assert {"random_forest", "kmeans", "linear_regression"} <= {m["slug"] for m in body["models"]}
    assert {"standard_scaler", "one_hot_encoder"} <= {p["slug"] for p in body["preprocessing"]}
    for item in body["models"] + body["preprocessing"]:
        assert set(item) == SUMMARY_FIELDS


def test_catalogue_filters_by_problem_type(user_client):
    body = user_client.get("/api/plugins?problem_type=clustering").json()
    assert {m["slug"] for m in body["models"]} == {"kmeans", "dbscan"}
    assert "select_k_best" not in {p["slug"] for p in body["preprocessing"]}
    assert user_client.get("/api/plugins?problem_type=").json() == user_client.get("/api/plugins").json()


def test_models_filter_by_problem_type(user_client):
    everything = user_client.get("/api/plugins/models").json()
    regression = user_client.get("/api/plugins/models", {"problem_type": "regression"}).json()
    assert {m["slug"] for m in regression} == {
        "random_forest",
        "gradient_boosting",
        "svm",
        "knn",
        "decision_tree",
        "linear_regression",
        "ridge",
        "lasso",
    }
    assert all("regression" in m["problemTypes"] for m in regression)
    assert len(everything) > len(regression)
    assert set(everything[0]) == SUMMARY_FIELDS


def test_model_detail_has_hyperparameters_and_capabilities(user_client):
    body = user_client.get("/api/plugins/models/random_forest").json()
    assert set(body) >= SUMMARY_FIELDS
    assert set(body["hyperparameters"]) == {"main", "advanced"}
    n_estimators = next(p for p in body["hyperparameters"]["main"] if p["key"] == "n_estimators")
    assert n_estimators == {
        "key": "n_estimators",
        "name": "Number of trees",
        "type": "integer",
        "default": 100,
        "description": n_estimators["description"],
        "min": 10,
        "max": 1000,
        "step": 10,
        "options": [],
        "required": False,
        "nullable": False,
    }
    max_features = next(p for p in body["hyperparameters"]["advanced"] if p["key"] == "max_features")
    assert max_features["type"] == "select"
    assert [o["value"] for o in max_features["options"]] == ["sqrt", "log2", "all"]
    assert {"accuracy", "r2"} <= set(body["capabilities"]["metrics"])


def test_model_detail_capabilities_follow_problem_type(user_client):
    body = user_client.get("/api/plugins/models/random_forest?problem_type=regression").json()
    assert body["capabilities"] == {
        "metrics": ["r2", "mae", "mse", "rmse"],
        "plots": ["feature_importance", "residuals"],
    }
    keys = {p["key"] for group in body["hyperparameters"].values() for p in group}
    assert "class_weight" not in keys  # classification only
    classification = user_client.get("/api/plugins/models/random_forest?problem_type=classification").json()
    assert "roc_auc" in classification["capabilities"]["metrics"]
    assert "class_weight" in {p["key"] for p in classification["hyperparameters"]["advanced"]}


def test_model_detail_unknown_slug_is_404_json(user_client):
    assert_error(user_client.get("/api/plugins/models/no_such_model"), 404, "NOT_FOUND")
    assert_error(user_client.get("/api/plugins/models/standard_scaler"), 404, "NOT_FOUND")


def test_model_detail_for_a_problem_type_it_does_not_serve_is_400(user_client):
    body = assert_error(user_client.get("/api/plugins/models/kmeans?problem_type=classification"), 400, "BAD_REQUEST")
    assert "classification" in body["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/plugins?problem_type=timeseries",
        "/api/plugins/models?problem_type=Classification",
        "/api/plugins/models/svm?problem_type=ranking",
        "/api/plugins/metrics?problem_type=x",
        "/api/plugins/plots?problem_type=x",
        "/api/plugins/preprocessing?category=magic",
    ],
)
def test_invalid_filters_are_400_json(user_client, path):
    body = assert_error(user_client.get(path), 400, "VALIDATION_ERROR")
    assert set(body["errors"]) <= {"problem_type", "category"}


def test_preprocessing_filters_by_category(user_client):
    scaling = user_client.get("/api/plugins/preprocessing?category=scaling").json()
    assert {p["slug"] for p in scaling} == {"standard_scaler", "minmax_scaler", "robust_scaler"}
    assert all(p["category"] == "scaling" for p in scaling)
    everything = user_client.get("/api/plugins/preprocessing").json()
    assert {p["category"] for p in everything} == {"imputation", "scaling", "encoding", "feature_selection"}


def test_preprocessing_categories(user_client):
    body = user_client.get("/api/plugins/preprocessing/categories").json()
    assert [c["key"] for c in body] == ["imputation", "scaling", "encoding", "feature_selection"]
    assert all(set(c) == {"key", "name", "description", "icon"} for c in body)


def test_preprocessing_detail_and_404(user_client):
    body = user_client.get("/api/plugins/preprocessing/simple_imputer").json()
    assert body["slug"] == "simple_imputer" and body["appliesTo"] == "numeric"
    strategy = body["hyperparameters"]["main"][0]
    assert strategy["key"] == "strategy"
    assert [o["value"] for o in strategy["options"]] == ["mean", "median", "most_frequent"]
    assert_error(user_client.get("/api/plugins/preprocessing/no_such_step"), 404, "NOT_FOUND")


def test_metrics_and_plots_filter_by_problem_type(user_client):
    assert {m["slug"] for m in user_client.get("/api/plugins/metrics?problem_type=regression").json()} == {
        "r2",
        "mae",
        "mse",
        "rmse",
    }
    clustering = user_client.get("/api/plugins/metrics?problem_type=clustering").json()
    assert {m["slug"] for m in clustering} == {"silhouette", "davies_bouldin", "calinski_harabasz"}
    assert next(m for m in clustering if m["slug"] == "davies_bouldin")["higherIsBetter"] is False
    assert len(user_client.get("/api/plugins/metrics").json()) == 12
    plots = user_client.get("/api/plugins/plots?problem_type=classification").json()
    assert {p["slug"] for p in plots} == {"confusion_matrix", "roc_curve", "feature_importance"}
    assert len(user_client.get("/api/plugins/plots").json()) == 5


@pytest.mark.parametrize(
    "path",
    [
        "/api/plugins",
        "/api/plugins/models",
        "/api/plugins/models/svm",
        "/api/plugins/preprocessing",
        "/api/plugins/preprocessing/categories",
        "/api/plugins/preprocessing/standard_scaler",
        "/api/plugins/metrics",
        "/api/plugins/plots",
    ],
)
def test_every_route_needs_a_token(api_client, path):
    assert_error(api_client.get(path), 401, "UNAUTHORIZED")


def test_answers_are_cacheable_and_revalidate_with_etag(user_client, other_client):
    first = user_client.get("/api/plugins/models?problem_type=classification")
    etag = first["ETag"]
    assert first["Cache-Control"] == "private, max-age=3600"
    again = user_client.get("/api/plugins/models?problem_type=classification", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag
    # The catalogue is the same for every user; another filter is another body.
    assert other_client.get("/api/plugins/models?problem_type=classification")["ETag"] == etag
    other = user_client.get("/api/plugins/models?problem_type=regression", HTTP_IF_NONE_MATCH=etag)
    assert other.status_code == 200 and other["ETag"] != etag


def test_routes_are_read_only(user_client):
    assert_error(user_client.post("/api/plugins/models", {}, format="json"), 405, "METHOD_NOT_ALLOWED")
