"""Users, organizations and roles."""

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower

USERNAME_RULE = RegexValidator(
    r"^[A-Za-z0-9_]{3,50}$",
    "Username must be 3 to 50 characters: letters, digits and underscores.",
)


class Organization(models.Model):
    """A group of users; every user may belong to one."""

    name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Role(models.Model):
    """A named set of permission strings such as ``notebook:create`` (000's IAM)."""

    ADMIN_ALL = "admin:all"

    name = models.CharField(max_length=50, unique=True)
    description = models.CharField(max_length=200, blank=True)
    permissions = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class HangarUserManager(UserManager):
    """Finds users by username in any case; superusers start verified."""

    def get_by_natural_key(self, username: str) -> "User":
        return self.get(username__iexact=username)

    def create_superuser(self, username: str, email: str | None = None, password: str | None = None, **extra: Any):
        extra.setdefault("is_verified", True)
        return super().create_superuser(username, email, password, **extra)


class User(AbstractUser):
    """A Hangar account. Username and email are unique in any case and stored lower-cased."""

    class Tier(models.TextChoices):
        FREE = "free"
        PRO = "pro"
        ENTERPRISE = "enterprise"

    username = models.CharField(max_length=50, unique=True, validators=[USERNAME_RULE])
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    avatar_url = models.URLField(max_length=500, blank=True)
    is_verified = models.BooleanField(default=False)
    oauth_provider = models.CharField(max_length=20, blank=True)
    tier = models.CharField(max_length=20, choices=Tier.choices, default=Tier.FREE)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    roles = models.ManyToManyField(Role, blank=True, related_name="users")
    updated_at = models.DateTimeField(auto_now=True)

    objects = HangarUserManager()
    REQUIRED_FIELDS = ["email"]

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.username = self.username.lower()
        self.email = self.email.lower()
        super().save(*args, **kwargs)

    @property
    def tier_limits(self) -> dict:
        """The per-tier limits from settings (uptime, uploads, storage, rate)."""
        return settings.HANGAR_TIERS[self.tier]

    def permission_strings(self) -> set[str]:
        """Every permission string the user's roles grant."""
        granted: set[str] = set()
        for role in self.roles.all():
            granted.update(role.permissions)
        return granted

    def has_permission_string(self, permission: str) -> bool:
        """True if a role grants ``permission`` or ``admin:all``; superusers have everything."""
        if self.is_superuser:
            return True
        granted = self.permission_strings()
        return Role.ADMIN_ALL in granted or permission in granted

    @property
    def is_hangar_admin(self) -> bool:
        """Superusers and holders of ``admin:all`` administer Hangar."""
        return self.is_active and self.has_permission_string(Role.ADMIN_ALL)
