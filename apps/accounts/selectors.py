"""Reads of accounts, scoped to the caller."""

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.models import Role, User
from apps.accounts.tokens import user_for_access_token
from apps.core.errors import NotFound


def user_list() -> QuerySet[User]:
    """Every user, for admins."""
    return User.objects.select_related("organization").prefetch_related("roles")


def user_get(*, user_id: int) -> User:
    """One user by id, for admins; 404 when missing."""
    user = user_list().filter(pk=user_id).first()
    if user is None:
        raise NotFound("User not found")
    return user


def role_list() -> QuerySet[Role]:
    """Every role."""
    return Role.objects.all()


def user_from_cookie(request: HttpRequest) -> User | None:
    """The active user named by the browser's access cookie, or None. Cached on the request."""
    if not hasattr(request, "_hangar_user"):
        request._hangar_user = user_for_access_token(request.COOKIES.get(settings.JWT_ACCESS_COOKIE))
    return request._hangar_user


def user_by_identifier(identifier: str) -> User | None:
    """The user a username or an email names, in any case (000 and 002 send either as username)."""
    identifier = identifier.strip()
    if not identifier:
        return None
    field = "email__iexact" if "@" in identifier else "username__iexact"
    return User.objects.filter(**{field: identifier}).first()
