"""Fixtures shared by every test module."""

import freezegun
import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from apps.accounts.tests.factories import PASSWORD, UserFactory
from apps.accounts.tokens import tokens_for
from config.celery import app as celery_app

# The kubernetes client builds pydantic models lazily; under a frozen clock pydantic would meet
# freezegun's fake datetime class and fail. Those modules keep the real clock.
freezegun.configure(extend_ignore_list=["kubernetes", "pydantic", "pydantic_core"])


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and revoked tokens must not leak between tests."""
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("*")  # only this test worker's prefix, not the whole Redis database
    else:
        cache.clear()
    yield


@pytest.fixture(autouse=True)
def _eager_celery():
    """Tasks run inline unless a test starts a real worker (see test_celery_modes)."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def password() -> str:
    """The password every factory user has."""
    return PASSWORD


@pytest.fixture
def user(db):
    """An ordinary verified user."""
    return UserFactory()


@pytest.fixture
def other_user(db):
    """A second tenant, for isolation tests."""
    return UserFactory()


@pytest.fixture
def superuser(db):
    """A superuser (holds admin:all)."""
    return UserFactory(is_superuser=True, is_staff=True)


@pytest.fixture
def api_client() -> APIClient:
    """An anonymous DRF test client."""
    return APIClient()


def bearer_client(user) -> APIClient:
    """A client that sends ``user``'s access token as a bearer header."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_for(user).access}")
    return client


@pytest.fixture
def user_client(user) -> APIClient:
    """``user`` signed in with a bearer token."""
    return bearer_client(user)


@pytest.fixture
def other_client(other_user) -> APIClient:
    """``other_user`` signed in with a bearer token."""
    return bearer_client(other_user)


@pytest.fixture
def superuser_client(superuser) -> APIClient:
    """The admin signed in with a bearer token."""
    return bearer_client(superuser)
