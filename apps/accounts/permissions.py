"""DRF permission classes built on roles and their permission strings."""

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView


class IsHangarAdmin(BasePermission):
    """The caller holds the ``admin`` role (``admin:all``) or is a superuser."""

    message = "Admin role required"

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_hangar_admin)


def require_permission(permission: str) -> type[BasePermission]:
    """A permission class that needs ``permission`` (or ``admin:all``), e.g. ``deploy:create``."""

    class HasPermissionString(BasePermission):
        message = f"Permission '{permission}' required"

        def has_permission(self, request: Request, view: APIView) -> bool:
            user = request.user
            return bool(user and user.is_authenticated and user.has_permission_string(permission))

    HasPermissionString.__name__ = f"Has_{permission.replace(':', '_')}"
    return HasPermissionString
