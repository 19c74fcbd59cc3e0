"""000's Admin & IAM routes, 001's /admin/users, roles and permission classes."""

import pytest
from rest_framework.test import APIRequestFactory

from apps.accounts.models import Organization, Role
from apps.accounts.permissions import IsHangarAdmin, require_permission
from apps.accounts.services import roles_init_defaults
from apps.accounts.tests.factories import UserFactory
from apps.core.errors import ErrorCode
from conftest import bearer_client

pytestmark = pytest.mark.django_db


def test_init_roles_is_idempotent(superuser_client):
    first = superuser_client.post("/api/v1/admin/init-roles")
    second = superuser_client.post("/api/v1/admin/init-roles")
    assert first.status_code == second.status_code == 200
    assert [r["name"] for r in second.json()["roles"]] == ["admin", "developer", "viewer"]
    assert Role.objects.count() == 3


def test_roles_list_has_the_documented_shape(superuser_client):
    roles_init_defaults()
    roles = superuser_client.get("/api/v1/admin/roles").json()
    admin = next(r for r in roles if r["name"] == "admin")
    assert admin["permissions"] == ["admin:all"] and admin["description"] == "Full system access"
    developer = next(r for r in roles if r["name"] == "developer")
    assert {"notebook:create", "build:trigger", "deploy:create"} <= set(developer["permissions"])


def test_assign_role_makes_a_user_an_admin(superuser_client, user):
    admin_role = roles_init_defaults()[0]
    response = superuser_client.post(
        "/api/v1/admin/roles/assign", {"user_id": user.pk, "role_id": admin_role.pk}, format="json"
    )
    assert response.status_code == 200
    assert bearer_client(user).get("/api/v1/admin/roles").status_code == 200


@pytest.mark.parametrize("body", [{"user_id": 999999, "role_id": 1}, {"user_id": 1, "role_id": 999999}])
def test_assign_to_missing_user_or_role_is_404(superuser_client, superuser, body):
    roles_init_defaults()
    body = {**body, "user_id": superuser.pk if body["user_id"] == 1 else body["user_id"]}
    response = superuser_client.post("/api/v1/admin/roles/assign", body, format="json")
    assert response.status_code == 404


def test_assign_validates_its_input(superuser_client):
    response = superuser_client.post("/api/v1/admin/roles/assign", {"user_id": "x"}, format="json")
    assert response.status_code == 400
    assert {"user_id", "role_id"} <= set(response.json()["errors"])


def test_admin_lists_users_with_skip_and_limit(superuser_client, superuser):
    UserFactory.create_batch(3)
    response = superuser_client.get("/api/v1/admin/users?skip=1&limit=2")
    assert response.status_code == 200
    assert len(response.json()) == 2
    assert response["X-Total-Count"] == "4"


@pytest.mark.parametrize("query", ["limit=0", "limit=abc", "skip=-1", "limit=100000"])
def test_bad_pagination_is_400(superuser_client, query):
    response = superuser_client.get(f"/api/v1/admin/users?{query}")
    assert response.status_code == 400
    assert response.json()["error_code"] == ErrorCode.VALIDATION_ERROR


def test_admin_updates_a_user(superuser_client, user):
    org = Organization.objects.create(name="Acme")
    response = superuser_client.put(
        f"/api/v1/admin/users/{user.pk}",
        {"is_active": True, "is_superuser": False, "organization_id": org.pk, "tier": "pro"},
        format="json",
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.organization_id, user.tier) == (org.pk, "pro")


def test_deactivating_a_user_cuts_their_tokens(superuser_client, user, user_client):
    superuser_client.put(f"/api/v1/admin/users/{user.pk}", {"is_active": False}, format="json")
    assert user_client.get("/api/v1/auth/me").status_code == 401


def test_update_of_unknown_user_or_organization_is_404(superuser_client, user):
    assert superuser_client.put("/api/v1/admin/users/999999", {}, format="json").status_code == 404
    response = superuser_client.put(f"/api/v1/admin/users/{user.pk}", {"organization_id": 999}, format="json")
    assert response.status_code == 404


def test_update_refuses_a_bad_tier(superuser_client, user):
    response = superuser_client.put(f"/api/v1/admin/users/{user.pk}", {"tier": "platinum"}, format="json")
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/admin/users"),
        ("put", "/api/v1/admin/users/{other}"),
        ("get", "/api/v1/admin/roles"),
        ("post", "/api/v1/admin/roles/assign"),
        ("post", "/api/v1/admin/init-roles"),
        ("get", "/admin/users"),
        ("get", "/admin/activity"),
    ],
)
def test_non_admins_are_refused_every_admin_route(user_client, other_user, method, path):
    response = getattr(user_client, method)(path.format(other=other_user.pk), {}, format="json")
    assert response.status_code == 403
    assert response.json()["error_code"] == ErrorCode.FORBIDDEN
    other_user.refresh_from_db()
    assert other_user.is_active


def test_anonymous_admin_route_is_401(api_client):
    assert api_client.get("/api/v1/admin/users").status_code == 401


def test_cmb_admin_users_shape(superuser_client, user):
    body = superuser_client.get("/admin/users").json()
    assert body["status"] == "success"
    emails = {u["email"]: u for u in body["data"]["users"]}
    assert emails[user.email]["role"] == "user"
    assert {"id", "email", "role", "subscription_tier", "created_at"} <= set(emails[user.email])


def test_django_admin_site_stays_at_admin(client):
    response = client.get("/admin/", HTTP_ACCEPT="text/html")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_require_permission_checks_role_strings(user):
    factory = APIRequestFactory()
    request = factory.get("/")
    request.user = user
    can_deploy = require_permission("deploy:create")()
    assert not can_deploy.has_permission(request, None)
    developer = roles_init_defaults()[1]
    user.roles.add(developer)
    assert can_deploy.has_permission(request, None)
    assert not require_permission("admin:all")().has_permission(request, None)
    assert not IsHangarAdmin().has_permission(request, None)
