"""``manage.py seed``: default roles, the site record, and an admin from the environment."""

import os

from django.conf import settings
from django.contrib.sites.models import Site
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.accounts.models import Role, User
from apps.accounts.services import roles_init_defaults
from apps.environments.services.templates import templates_initialize_defaults


class Command(BaseCommand):
    """Idempotent: running it twice changes nothing the second time."""

    help = "Seed default roles, and create an admin from HANGAR_ADMIN_EMAIL and HANGAR_ADMIN_PASSWORD."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        roles = roles_init_defaults()
        self.stdout.write(f"Roles: {', '.join(role.name for role in roles)}")
        self.stdout.write(f"Templates: {', '.join(t.name for t in templates_initialize_defaults()[0])}")
        domain = settings.PUBLIC_URL.split("://", 1)[-1].rstrip("/")
        Site.objects.update_or_create(pk=settings.SITE_ID, defaults={"domain": domain, "name": "Hangar"})
        email = os.environ.get("HANGAR_ADMIN_EMAIL", "").strip().lower()
        password = os.environ.get("HANGAR_ADMIN_PASSWORD", "")
        if email and password:
            self._ensure_admin(email, password)

    def _ensure_admin(self, email: str, password: str) -> None:
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            username = os.environ.get("HANGAR_ADMIN_USERNAME", "admin")
            user = User.objects.create_superuser(username, email, password)
            self.stdout.write(f"Created admin {user.username} <{email}>")
        elif not user.is_superuser:
            # Someone may have registered that address first; never hand them the admin role.
            self.stderr.write(f"{email} belongs to an ordinary account; it was not made an admin")
            return
        else:
            self.stdout.write(f"Admin {email} already exists")
        user.roles.add(Role.objects.get(name="admin"))
