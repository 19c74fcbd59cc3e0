"""Test factories for accounts."""

import factory

from apps.accounts.models import User

PASSWORD = "Sturdy-Passw0rd!"


class UserFactory(factory.django.DjangoModelFactory):
    """A verified, active user with the password ``PASSWORD``."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user_{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    is_verified = True
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(user: User, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            user.save()
