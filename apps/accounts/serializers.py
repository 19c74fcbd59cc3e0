"""Input validation and each family's user shape."""

from rest_framework import serializers

from apps.accounts.models import USERNAME_RULE, Role, User


class RegisterInput(serializers.Serializer):
    """Registration fields shared by 000, 002 and 004."""

    username = serializers.CharField(max_length=50, validators=[USERNAME_RULE])
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    full_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class LoginInput(serializers.Serializer):
    """A username or an email, and a password; 004 sends ``email``, 000 and 002 ``username``."""

    username = serializers.CharField(max_length=254, required=False)
    email = serializers.CharField(max_length=254, required=False)
    password = serializers.CharField(max_length=128, trim_whitespace=False)

    def validate(self, attrs: dict) -> dict:
        identifier = attrs.get("username") or attrs.get("email")
        if not identifier:
            raise serializers.ValidationError({"username": ["Provide a username or an email."]})
        attrs["identifier"] = identifier
        return attrs


class RefreshInput(serializers.Serializer):
    """``refresh_token`` (000, 003, 004); simplejwt's ``refresh`` is accepted too."""

    refresh_token = serializers.CharField(required=False)
    refresh = serializers.CharField(required=False)

    def validate(self, attrs: dict) -> dict:
        token = attrs.get("refresh_token") or attrs.get("refresh")
        if not token:
            raise serializers.ValidationError({"refresh_token": ["This field is required."]})
        return {"token": token}


class OptionalRefreshInput(serializers.Serializer):
    """Logout's optional refresh token."""

    refresh_token = serializers.CharField(required=False, allow_blank=True)
    refresh = serializers.CharField(required=False, allow_blank=True)


class TokenInput(serializers.Serializer):
    """A single token: email verification, or a Google ID token."""

    token = serializers.CharField(max_length=4096)


class GoogleTokenInput(serializers.Serializer):
    """004's Google sign-in: the ID token, as ``token``, ``id_token`` or ``credential``."""

    token = serializers.CharField(max_length=8192, required=False)
    id_token = serializers.CharField(max_length=8192, required=False)
    credential = serializers.CharField(max_length=8192, required=False)

    def validate(self, attrs: dict) -> dict:
        token = attrs.get("token") or attrs.get("id_token") or attrs.get("credential")
        if not token:
            raise serializers.ValidationError({"token": ["This field is required."]})
        return {"token": token}


class DevLoginInput(serializers.Serializer):
    """003's development sign-in."""

    email = serializers.EmailField(max_length=254)
    full_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class UserSerializer(serializers.ModelSerializer):
    """The user object of 000 and 004."""

    subscription_plan = serializers.CharField(source="tier")
    created_at = serializers.DateTimeField(source="date_joined")
    roles = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "full_name",
            "is_active",
            "is_verified",
            "is_superuser",
            "avatar_url",
            "oauth_provider",
            "subscription_plan",
            "organization_id",
            "roles",
            "created_at",
            "last_login",
        ]


class ExecUserSerializer(serializers.ModelSerializer):
    """The user object of 002."""

    created_at = serializers.DateTimeField(source="date_joined")

    class Meta:
        model = User
        fields = ["id", "username", "email", "created_at", "updated_at"]


class CmbUserSerializer(serializers.ModelSerializer):
    """The user object of 001 (``/users/me``, ``/admin/users``)."""

    role = serializers.SerializerMethodField()
    subscription_tier = serializers.CharField(source="tier")
    created_at = serializers.DateTimeField(source="date_joined")
    max_uptime_minutes = serializers.SerializerMethodField()
    auto_shutdown_enabled = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "username",
            "role",
            "subscription_tier",
            "created_at",
            "max_uptime_minutes",
            "auto_shutdown_enabled",
        ]

    def get_role(self, user: User) -> str:
        return "admin" if user.is_hangar_admin else "user"

    def get_max_uptime_minutes(self, user: User) -> int:
        return user.tier_limits["max_uptime_minutes"]

    def get_auto_shutdown_enabled(self, user: User) -> bool:
        return user.tier_limits["auto_shutdown_enabled"]


class AutomlUserSerializer(serializers.ModelSerializer):
    """The profile of 003's ``/api/auth/me``."""

    tier = serializers.CharField()
    email_verified = serializers.BooleanField(source="is_verified")
    created_at = serializers.DateTimeField(source="date_joined")

    class Meta:
        model = User
        fields = ["id", "email", "username", "full_name", "tier", "email_verified", "oauth_provider", "created_at"]


class RoleSerializer(serializers.ModelSerializer):
    """000's role object."""

    class Meta:
        model = Role
        fields = ["id", "name", "description", "permissions"]


class RoleAssignInput(serializers.Serializer):
    """``{"user_id", "role_id"}``."""

    user_id = serializers.IntegerField(min_value=1)
    role_id = serializers.IntegerField(min_value=1)


class AdminUserUpdateInput(serializers.Serializer):
    """000's ``PUT /api/v1/admin/users/{id}``; only the fields sent are changed."""

    is_active = serializers.BooleanField(required=False)
    is_superuser = serializers.BooleanField(required=False)
    is_verified = serializers.BooleanField(required=False)
    organization_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    tier = serializers.ChoiceField(choices=User.Tier.choices, required=False)
    full_name = serializers.CharField(max_length=200, required=False, allow_blank=True)


class TokenPairOutput(serializers.Serializer):
    """The token response of 000 and 004 (documentation only)."""

    access_token = serializers.CharField()
    refresh_token = serializers.CharField()
    token_type = serializers.CharField()
    expires_in = serializers.IntegerField()
    user = UserSerializer(required=False)
