"""Authentication backend that accepts a username or an email, in any case."""

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from apps.accounts.models import User
from apps.accounts.selectors import user_by_identifier


class UsernameOrEmailBackend(ModelBackend):
    """Log in with either identifier; 000 and 002 send ``username``, 004 sends ``email``."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs
    ):
        if password is None:
            return None
        user = user_by_identifier(username or kwargs.get("email") or "")
        if user is None:
            # Spend the same time as a real check, so timing does not reveal which accounts exist.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
