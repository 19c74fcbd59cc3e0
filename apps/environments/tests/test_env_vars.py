"""001's /user-env-vars: masked, encrypted at rest, validated, per user."""

import pytest

from apps.core.crypto import decrypt_text
from apps.environments.models import UserEnvVar
from apps.environments.tests.test_environments_v1 import assert_error

pytestmark = pytest.mark.django_db


def test_set_list_and_delete(user_client, user):
    response = user_client.post("/user-env-vars", {"key": "API_KEY", "value": "secret-value-here"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "success"
    assert body["data"]["key"] == "API_KEY"
    assert body["data"]["value"] == "***encrypted***"
    assert "created_at" in body["data"]
    listed = user_client.get("/user-env-vars").json()["data"]["env_vars"]
    assert [(v["key"], v["value"]) for v in listed] == [("API_KEY", "***encrypted***")]
    assert "secret-value-here" not in user_client.get("/user-env-vars").content.decode()
    response = user_client.delete("/user-env-vars/API_KEY")
    assert response.status_code == 200
    assert response.json()["message"] == "Environment variable deleted"
    assert user_client.get("/user-env-vars").json()["data"]["env_vars"] == []
    assert_error(user_client.delete("/user-env-vars/API_KEY"), 404, "NOT_FOUND")


def test_values_are_encrypted_at_rest(user_client, user):
    user_client.post("/user-env-vars", {"key": "DATABASE_URL", "value": "postgres://u:pw@db/x"}, format="json")
    stored = UserEnvVar.objects.get(user=user, key="DATABASE_URL")
    assert "postgres" not in stored.value_encrypted
    assert decrypt_text(stored.value_encrypted) == "postgres://u:pw@db/x"


def test_post_upserts(user_client, user):
    user_client.post("/user-env-vars", {"key": "K", "value": "one"}, format="json")
    user_client.post("/user-env-vars", {"key": "K", "value": "two"}, format="json")
    assert UserEnvVar.objects.filter(user=user).count() == 1
    assert decrypt_text(UserEnvVar.objects.get(user=user).value_encrypted) == "two"


def test_empty_values_are_allowed(user_client):
    assert user_client.post("/user-env-vars", {"key": "EMPTY", "value": ""}, format="json").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"key": "A"},
        {"value": "x"},
        {"key": "", "value": "x"},
        {"key": "1ABC", "value": "x"},
        {"key": "A-B", "value": "x"},
        {"key": "A B", "value": "x"},
        {"key": "A" * 129, "value": "x"},
        {"key": "A", "value": "x" * (32 * 1024 + 1)},
        {"key": "A", "value": "nul\x00byte"},
    ],
)
def test_bad_input_is_400(user_client, body):
    assert_error(user_client.post("/user-env-vars", body, format="json"), 400, "VALIDATION_ERROR")


def test_delete_with_a_bad_key_is_400(user_client):
    assert_error(user_client.delete("/user-env-vars/bad-key"), 400)


def test_variables_are_per_user(user_client, other_client, other_user):
    other_client.post("/user-env-vars", {"key": "THEIRS", "value": "x"}, format="json")
    assert user_client.get("/user-env-vars").json()["data"]["env_vars"] == []
    assert_error(user_client.delete("/user-env-vars/THEIRS"), 404)
    assert UserEnvVar.objects.filter(user=other_user, key="THEIRS").exists()


def test_needs_authentication(api_client):
    assert_error(api_client.get("/user-env-vars"), 401, "UNAUTHORIZED")
