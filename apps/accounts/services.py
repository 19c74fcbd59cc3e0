"""Every write to accounts: registration, sign-in, sign-out, verification, roles."""

import logging

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework_simplejwt.tokens import Token

from apps.accounts.models import Organization, Role, User
from apps.accounts.selectors import user_by_identifier
from apps.accounts.tokens import blacklist_all_refresh, blacklist_refresh, revoke_access
from apps.activity.models import Activity
from apps.activity.services import activity_record
from apps.core.consumers import close_user_sockets
from apps.core.errors import ErrorCode, HangarError, NotFound

logger = logging.getLogger(__name__)

_VERIFY_SALT = "hangar.email-verification"

DEFAULT_ROLES = {
    "admin": ("Full system access", ["admin:all"]),
    "developer": (
        "Can create and deploy notebooks",
        [
            "notebook:create",
            "notebook:read",
            "build:trigger",
            "deploy:create",
            "environment:create",
            "session:create",
            "dataset:create",
            "job:create",
        ],
    ),
    "viewer": ("Read-only access", ["notebook:read", "build:read", "deploy:read"]),
}


def _conflict(detail: str) -> HangarError:
    return HangarError(detail, error_code=ErrorCode.CONFLICT, status_code=409)


def _check_unique(username: str, email: str) -> None:
    if User.objects.filter(username__iexact=username).exists():
        raise _conflict("Username already exists")
    if User.objects.filter(email__iexact=email).exists():
        raise _conflict("Email already registered")


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationError({"password": list(exc.messages)}) from None


def user_register(
    *, username: str, email: str, password: str, full_name: str = "", request: HttpRequest | None = None
) -> User:
    """Create an account and send the verification email. Duplicates in any case get 409."""
    username, email = username.strip().lower(), email.strip().lower()
    _check_unique(username, email)
    user = User(username=username, email=email, full_name=full_name.strip())
    _check_password(password, user)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        # Two registrations raced past the check above; the database constraint decides.
        raise _conflict("Username or email already registered") from None
    activity_record(user=user, action="user_registered", details=f"Registered {username}", request=request)
    email_verification_send(user=user)
    return user


def user_login(*, identifier: str, password: str, request: HttpRequest | None = None) -> User:
    """Check a username-or-email and password. Wrong ones get 401; a disabled account 403."""
    user = user_by_identifier(identifier)
    if user is None:
        # Hash anyway, so the response time does not reveal which accounts exist.
        User().set_password(password)
    if user is None or not user.check_password(password):
        activity_record(
            user=None,
            action="login_failed",
            details=f"Failed sign-in for {identifier[:100]}",
            status=Activity.Status.FAILURE,
            request=request,
        )
        raise HangarError(
            "Invalid username/email or password", error_code=ErrorCode.INVALID_CREDENTIALS, status_code=401
        )
    if not user.is_active:
        raise HangarError("Account is disabled", error_code=ErrorCode.ACCOUNT_DISABLED, status_code=403)
    user_mark_login(user=user, request=request, how="password")
    return user


def user_mark_login(*, user: User, request: HttpRequest | None, how: str) -> None:
    """Stamp ``last_login`` and log the sign-in."""
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    activity_record(user=user, action="login", details=f"Signed in ({how})", request=request)


def user_logout(
    *, user: User, refresh: str | None = None, access: Token | None = None, request: HttpRequest | None = None
) -> None:
    """Blacklist the user's refresh token when given, revoke the access token in use, and close
    the sockets that access token opened. Other devices stay signed in."""
    if refresh:
        blacklist_refresh(refresh, owner=user)
    if access is not None:
        revoke_access(access)
        close_user_sockets(user_id=user.pk, jti=str(access.get("jti")))
    activity_record(user=user, action="logout", details="Signed out", request=request)


DEV_LOGIN_PROVIDER = "dev"


def user_dev_login(*, email: str, full_name: str = "", request: HttpRequest | None = None) -> User:
    """003's development sign-in: find or create a verified user by email, without a password.

    It only signs in accounts it created itself, so it can never take over an account that has a
    password or a provider (an admin's, say) on a development install.
    """
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User(
            username=_free_username(email.split("@")[0]),
            email=email,
            full_name=full_name,
            is_verified=True,
            oauth_provider=DEV_LOGIN_PROVIDER,
        )
        user.set_unusable_password()
        user.save()
        activity_record(user=user, action="user_registered", details="Registered by dev-login", request=request)
    elif user.oauth_provider != DEV_LOGIN_PROVIDER or user.has_usable_password() or user.is_staff:
        raise HangarError(
            "This account signs in with a password or a provider, not dev-login",
            error_code=ErrorCode.FORBIDDEN,
            status_code=403,
        )
    if not user.is_active:
        raise HangarError("Account is disabled", error_code=ErrorCode.ACCOUNT_DISABLED, status_code=403)
    user_mark_login(user=user, request=request, how="dev-login")
    return user


def _free_username(seed: str) -> str:
    """A valid, unused username derived from ``seed`` (an email's local part, a login name)."""
    base = "".join(ch for ch in seed.lower() if ch.isalnum() or ch == "_")[:40] or "user"
    base = base.ljust(3, "_")
    candidate, n = base, 1
    while User.objects.filter(username__iexact=candidate).exists():
        n += 1
        candidate = f"{base}_{n}"
    return candidate


def oauth_user_get_or_create(
    *, provider: str, email: str, email_verified: bool, full_name: str = "", avatar_url: str = "", login_hint: str = ""
) -> User:
    """The user an OAuth sign-in ends in: matched by verified email, else created.

    An unverified provider email never takes over an existing account.
    """
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is not None:
        if not email_verified:
            raise HangarError(
                "The provider did not verify this email address", error_code=ErrorCode.OAUTH_FAILED, status_code=400
            )
        if not user.is_active:
            raise HangarError("Account is disabled", error_code=ErrorCode.ACCOUNT_DISABLED, status_code=403)
        changed = _fill_profile(user, full_name=full_name, avatar_url=avatar_url)
        if not user.is_verified:
            user.is_verified, changed = True, True
        if changed:
            user.save()
        return user
    user = User(
        username=_free_username(login_hint or email.split("@")[0]),
        email=email,
        full_name=full_name,
        avatar_url=avatar_url,
        is_verified=email_verified,
        oauth_provider=provider,
    )
    user.set_unusable_password()
    user.save()
    activity_record(user=user, action="user_registered", details=f"Registered through {provider}")
    return user


def _fill_profile(user: User, *, full_name: str, avatar_url: str) -> bool:
    changed = False
    if full_name and not user.full_name:
        user.full_name, changed = full_name, True
    if avatar_url and not user.avatar_url:
        user.avatar_url, changed = avatar_url, True
    return changed


# --- Email verification -----------------------------------------------------------------------


def email_verification_token(*, user: User) -> str:
    """A signed, expiring token naming the user and the address being verified."""
    return signing.dumps({"u": user.pk, "e": user.email}, salt=_VERIFY_SALT)


def email_verification_send(*, user: User) -> None:
    """Queue the verification email once the surrounding transaction commits."""
    from apps.accounts.tasks import send_verification_email

    if user.is_verified:
        return
    # robust: a broker outage is logged and must not fail the registration that already committed.
    transaction.on_commit(lambda: send_verification_email.delay(user.pk), robust=True)


def email_verification_deliver(*, user: User) -> None:
    """Send the verification email now (called by the Celery task)."""
    link = f"{settings.PUBLIC_URL.rstrip('/')}/verify-email?token={email_verification_token(user=user)}"
    send_mail(
        subject="Verify your Hangar email address",
        message=(
            f"Hello {user.full_name or user.username},\n\n"
            f"Confirm your email address by opening this link:\n{link}\n\n"
            "The link expires in three days. If you did not sign up for Hangar, ignore this email.\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
    )


def email_verify(*, token: str, request: HttpRequest | None = None) -> User:
    """Mark the user a token names as verified. Bad, expired or stale tokens get 400."""
    max_age = settings.EMAIL_VERIFICATION_MAX_AGE
    try:
        payload = signing.loads(token, salt=_VERIFY_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise HangarError(
            "Verification link has expired", error_code=ErrorCode.TOKEN_INVALID, status_code=400
        ) from None
    except signing.BadSignature:
        raise HangarError(
            "Verification token is invalid", error_code=ErrorCode.TOKEN_INVALID, status_code=400
        ) from None
    user = User.objects.filter(pk=payload.get("u"), email__iexact=payload.get("e", "")).first()
    if user is None:
        raise HangarError("Verification token is invalid", error_code=ErrorCode.TOKEN_INVALID, status_code=400)
    if not user.is_verified:
        user.is_verified = True
        user.save(update_fields=["is_verified", "updated_at"])
        activity_record(user=user, action="email_verified", details=user.email, request=request)
    return user


# --- Roles and administration -----------------------------------------------------------------


def roles_init_defaults() -> list[Role]:
    """Create the admin, developer and viewer roles if missing. Safe to call any number of times."""
    roles = []
    for name, (description, permissions) in DEFAULT_ROLES.items():
        role, _created = Role.objects.get_or_create(
            name=name, defaults={"description": description, "permissions": permissions}
        )
        roles.append(role)
    return roles


def role_assign(*, user_id: int, role_id: int, actor: User) -> User:
    """Give a user a role."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFound("User not found")
    role = Role.objects.filter(pk=role_id).first()
    if role is None:
        raise NotFound("Role not found")
    user.roles.add(role)
    activity_record(user=actor, action="role_assigned", details=f"{role.name} to {user.username}")
    return user


def user_admin_update(*, user: User, actor: User, data: dict) -> User:
    """Apply an admin's changes (active, superuser, organization, tier) to ``user``."""
    if "organization_id" in data:
        org_id = data["organization_id"]
        if org_id is not None and not Organization.objects.filter(pk=org_id).exists():
            raise NotFound("Organization not found")
        user.organization_id = org_id
    for field in ("is_active", "is_superuser", "tier", "full_name", "is_verified"):
        if field in data:
            setattr(user, field, data[field])
    user.save()
    if data.get("is_active") is False:
        user_deactivate_tokens(user=user)
    activity_record(
        user=actor, action="user_updated", details=f"Updated {user.username}", metadata={"fields": sorted(data)}
    )
    return user


def user_deactivate_tokens(*, user: User) -> None:
    """Blacklist a deactivated user's refresh tokens and close their open sockets (access tokens
    already fail on is_active)."""
    blacklist_all_refresh(user)
    close_user_sockets(user_id=user.pk)
