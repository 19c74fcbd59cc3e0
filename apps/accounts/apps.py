from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users, organizations, roles, tokens and every document's auth routes."""

    name = "apps.accounts"

    def ready(self) -> None:
        # Registers the OpenAPI descriptions of the authentication classes.
        from apps.accounts import schema  # noqa: F401
