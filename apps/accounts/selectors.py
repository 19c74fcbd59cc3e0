"""Reads of accounts, scoped to the caller."""

from django.db.models import QuerySet
from django.http import HttpRequest
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken

from apps.accounts.models import Role, User
from apps.accounts.tokens import is_access_revoked
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
    if hasattr(request, "_hangar_user"):
        return request._hangar_user
    from django.conf import settings

    user = None
    raw = request.COOKIES.get(settings.JWT_ACCESS_COOKIE)
    if raw:
        try:
            token = AccessToken(raw)
            if not is_access_revoked(token):
                user = User.objects.filter(pk=token[api_settings.USER_ID_CLAIM], is_active=True).first()
        except (TokenError, KeyError):
            user = None
    request._hangar_user = user
    return user
