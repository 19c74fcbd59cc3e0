"""The IAM console at /admin/: every model with search and filters, and the user actions."""

import pytest
from django.test import Client
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from apps.accounts.models import Organization, Role
from apps.accounts.tests.factories import UserFactory
from apps.accounts.tokens import tokens_for
from apps.activity.services import activity_record

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    "/admin/accounts/user/?q=user&tier__exact=free&is_active__exact=1",
    "/admin/accounts/role/?q=admin",
    "/admin/accounts/organization/?q=acme",
    "/admin/token_blacklist/outstandingtoken/",
    "/admin/token_blacklist/blacklistedtoken/",
    "/admin/activity/activity/?q=login&status__exact=success",
]


@pytest.fixture
def console(superuser) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


@pytest.mark.parametrize("url", CHANGELISTS)
def test_every_iam_model_is_listed_with_search_and_filters(console, url, user):
    Organization.objects.create(name="Acme")
    Role.objects.create(name="admin", permissions=["admin:all"])
    tokens_for(user)
    activity_record(user=user, action="login")
    response = console.get(url, HTTP_ACCEPT="text/html")
    assert response.status_code == 200


def test_the_deactivate_action_cuts_tokens(console, user):
    refresh = tokens_for(user).refresh
    response = console.post(
        "/admin/accounts/user/",
        {"action": "deactivate_users", "_selected_action": [user.pk]},
        HTTP_ACCEPT="text/html",
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.is_active
    assert (
        BlacklistedToken.objects.filter(token__user=user).count() == OutstandingToken.objects.filter(user=user).count()
    )
    assert Client().post("/api/v1/auth/refresh", {"refresh_token": refresh}).status_code == 401


def test_the_tier_action(console):
    users = UserFactory.create_batch(2)
    console.post(
        "/admin/accounts/user/",
        {"action": "set_tier_pro", "_selected_action": [u.pk for u in users]},
        HTTP_ACCEPT="text/html",
    )
    assert {u.tier for u in type(users[0]).objects.filter(pk__in=[u.pk for u in users])} == {"pro"}


def test_ordinary_users_cannot_open_the_console(user):
    client = Client()
    client.force_login(user)
    response = client.get("/admin/accounts/user/", HTTP_ACCEPT="text/html")
    assert response.status_code == 302
