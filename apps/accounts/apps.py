from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users, organizations, roles, tokens and every document's auth routes."""

    name = "apps.accounts"
