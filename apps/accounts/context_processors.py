"""Template context: the user signed in through the JWT cookie."""

from django.http import HttpRequest

from apps.accounts.selectors import user_from_cookie


def hangar_user(request: HttpRequest) -> dict:
    """Expose ``hangar_user`` (or None) to every template."""
    return {"hangar_user": user_from_cookie(request)}
