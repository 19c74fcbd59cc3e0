"""The IAM console at /admin/: users, roles, organizations and tokens."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.models import Organization, Role, User
from apps.accounts.services import user_deactivate_tokens


def _set_tier(tier: str):
    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = queryset.update(tier=tier)
        modeladmin.message_user(request, f"{count} user(s) moved to the {tier} tier.", messages.SUCCESS)

    action.__name__ = f"set_tier_{tier}"
    action.short_description = f"Change tier to {tier}"
    return action


@admin.action(description="Deactivate selected users (their tokens stop working)")
def deactivate_users(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[User]) -> None:
    for user in queryset:
        user.is_active = False
        user.save(update_fields=["is_active"])
        user_deactivate_tokens(user=user)
    modeladmin.message_user(request, f"{queryset.count()} user(s) deactivated.", messages.SUCCESS)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Users with their tier, organization, roles and verification state."""

    list_display = ["username", "email", "full_name", "tier", "organization", "is_verified", "is_active", "date_joined"]
    list_filter = ["tier", "is_active", "is_verified", "is_superuser", "oauth_provider", "organization", "roles"]
    search_fields = ["username", "email", "full_name"]
    ordering = ["-date_joined"]
    filter_horizontal = ["roles", "groups", "user_permissions"]
    actions = [deactivate_users, _set_tier("free"), _set_tier("pro"), _set_tier("enterprise")]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (
            "Hangar",
            {"fields": ("full_name", "avatar_url", "tier", "organization", "roles", "is_verified", "oauth_provider")},
        ),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("username", "email", "password1", "password2", "tier")}),)


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    """Roles and their permission strings."""

    list_display = ["name", "description", "permissions"]
    search_fields = ["name", "description"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    """Organizations and their members."""

    list_display = ["name", "created_at"]
    search_fields = ["name"]
