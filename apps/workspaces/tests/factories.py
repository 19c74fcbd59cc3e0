"""Test factories for code sessions."""

import factory

from apps.accounts.tests.factories import UserFactory
from apps.workspaces.models import CodeSession


class CodeSessionFactory(factory.django.DjangoModelFactory):
    """A session row only; use ``services.session_create`` when the workspace files matter."""

    class Meta:
        model = CodeSession

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Session {n}")
