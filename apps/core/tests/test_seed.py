"""``manage.py seed``: roles, and an admin from the environment, safely."""

import pytest
from django.core.management import call_command

from apps.accounts.models import Role, User
from apps.accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_seed_is_idempotent_and_creates_the_admin(monkeypatch):
    monkeypatch.setenv("HANGAR_ADMIN_EMAIL", "Boss@Example.com")
    monkeypatch.setenv("HANGAR_ADMIN_PASSWORD", "Sturdy-Passw0rd!")
    call_command("seed")
    call_command("seed")
    admin = User.objects.get(email="boss@example.com")
    assert admin.is_superuser and admin.is_hangar_admin
    assert Role.objects.filter(name__in=["admin", "developer", "viewer"]).count() == 3


def test_seed_never_promotes_an_existing_ordinary_account(monkeypatch):
    squatter = UserFactory(email="boss@example.com")
    monkeypatch.setenv("HANGAR_ADMIN_EMAIL", "boss@example.com")
    monkeypatch.setenv("HANGAR_ADMIN_PASSWORD", "Sturdy-Passw0rd!")
    call_command("seed")
    squatter.refresh_from_db()
    assert not squatter.is_hangar_admin
