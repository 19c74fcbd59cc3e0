"""Input validation and each family's output shapes for templates, environments, clusters, env vars."""

import re
from typing import Any

import yaml
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from apps.core.crypto import MASK
from apps.environments.models import Cluster, Environment, Template, UserEnvVar
from apps.environments.resources import validate_resources
from apps.runtime.registry import BACKENDS

ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_KEY_LENGTH = 128
MAX_VALUE_LENGTH = 32 * 1024
MAX_VARIABLES = 100
MAX_KUBECONFIG_BYTES = 256 * 1024
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def validate_env_key(key: str) -> str:
    """A POSIX-style variable name, at most ``MAX_KEY_LENGTH`` characters."""
    if not isinstance(key, str) or not ENV_KEY.match(key):
        raise serializers.ValidationError("Keys must match [A-Za-z_][A-Za-z0-9_]*")
    if len(key) > MAX_KEY_LENGTH:
        raise serializers.ValidationError(f"Keys are limited to {MAX_KEY_LENGTH} characters")
    return key


class EnvironmentVariablesField(serializers.DictField):
    """An object of variable names to string values (numbers and booleans become strings)."""

    def to_internal_value(self, data: Any) -> dict[str, str]:
        if not isinstance(data, dict):
            raise serializers.ValidationError("Must be an object of names to values")
        if len(data) > MAX_VARIABLES:
            raise serializers.ValidationError(f"At most {MAX_VARIABLES} variables")
        result = {}
        for key, value in data.items():
            validate_env_key(key)
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, int | float):
                value = str(value)
            if not isinstance(value, str):
                raise serializers.ValidationError(f"The value of {key} must be a string")
            if len(value) > MAX_VALUE_LENGTH or "\x00" in value:
                raise serializers.ValidationError(f"The value of {key} is too long or holds a NUL byte")
            result[key] = value
        return result


class _PlainText(serializers.CharField):
    """Text without control characters (names and descriptions are shown in terminals and logs)."""

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if _CONTROL.search(value):
            raise serializers.ValidationError("Control characters are not allowed")
        return value


# --- Templates ------------------------------------------------------------------------------------


class TemplateSerializer(serializers.ModelSerializer):
    """004's Template Object, plus ``runtimes`` and ``network_policy``."""

    id = serializers.CharField(read_only=True)

    class Meta:
        model = Template
        fields = [
            "id",
            "name",
            "display_name",
            "description",
            "category",
            "tags",
            "docker_image",
            "default_port",
            "default_resources",
            "environment_variables",
            "startup_commands",
            "documentation_url",
            "icon_url",
            "status",
            "version",
            "created_at",
            "updated_at",
            "usage_count",
            "runtimes",
            "network_policy",
        ]


class TemplateInput(serializers.Serializer):
    """An admin's template; on update (``partial``) every field is optional."""

    name = serializers.SlugField(max_length=64)
    display_name = _PlainText(max_length=100)
    description = _PlainText(max_length=2000, required=False, allow_blank=True)
    category = serializers.ChoiceField(choices=Template.Category.choices, required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), max_length=30, required=False)
    docker_image = serializers.RegexField(r"^[A-Za-z0-9][A-Za-z0-9._/:@-]*$", max_length=255)
    default_port = serializers.IntegerField(min_value=1, max_value=65535, required=False)
    default_resources = serializers.JSONField(required=False)
    environment_variables = EnvironmentVariablesField(required=False)
    startup_commands = serializers.ListField(
        child=serializers.CharField(max_length=2000, trim_whitespace=False), max_length=50, required=False
    )
    documentation_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    icon_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=Template.Status.choices, required=False)
    version = serializers.CharField(max_length=32, required=False)
    runtimes = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(BACKENDS)), max_length=len(BACKENDS), required=False
    )
    network_policy = serializers.ChoiceField(choices=Template.Network.choices, required=False)

    def validate_default_resources(self, value: Any) -> dict[str, str]:
        try:
            return validate_resources(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate(self, attrs: dict) -> dict:
        if not self.partial and "default_resources" not in attrs:
            attrs["default_resources"] = {"cpu": "500m", "memory": "1Gi", "storage": "10Gi"}
        if not self.partial and "runtimes" not in attrs:
            attrs["runtimes"] = sorted(BACKENDS)
        if "runtimes" in attrs:
            attrs["runtimes"] = sorted(set(attrs["runtimes"]))
        return attrs


# --- Environments (004) --------------------------------------------------------------------------


class EnvironmentSerializer(serializers.ModelSerializer):
    """004's Environment Object, plus the lifecycle details Hangar knows."""

    template_id = serializers.CharField(source="template.pk", read_only=True)
    template_name = serializers.CharField(source="template.name", read_only=True)
    url = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Environment
        fields = [
            "id",
            "name",
            "description",
            "template_id",
            "template_name",
            "status",
            "docker_image",
            "port",
            "resources",
            "environment_variables",
            "installation_completed",
            "created_at",
            "updated_at",
            "last_activity",
            "started_at",
            "status_reason",
            "stop_reason",
            "url",
        ]


class EnvironmentCreateInput(serializers.Serializer):
    """004's create body."""

    name = _PlainText(max_length=100)
    template_id = serializers.UUIDField()
    description = _PlainText(max_length=1000, required=False, allow_blank=True, default="")
    environment_variables = EnvironmentVariablesField(required=False, default=dict)


class EnvironmentUpdateInput(serializers.Serializer):
    """004's update body: any of name, description, environment_variables."""

    name = _PlainText(max_length=100, required=False)
    description = _PlainText(max_length=1000, required=False, allow_blank=True)
    environment_variables = EnvironmentVariablesField(required=False)

    def validate(self, attrs: dict) -> dict:
        if not attrs:
            raise serializers.ValidationError("Give at least one of name, description, environment_variables.")
        return attrs


class EnvironmentListQuery(serializers.Serializer):
    """004's list filters; unknown values are a 400, not an empty list."""

    status = serializers.ChoiceField(choices=Environment.Status.choices, required=False)
    template_id = serializers.UUIDField(required=False)


class LogsQuery(serializers.Serializer):
    """004's logs parameters: ``lines`` 1..1000 (default 100) and an ISO ``since``."""

    lines = serializers.IntegerField(min_value=1, max_value=1000, required=False, default=100)
    since = serializers.CharField(required=False)

    def validate_since(self, value: str) -> Any:
        try:
            moment = parse_datetime(value.strip())
        except ValueError:
            moment = None
        if moment is None:
            raise serializers.ValidationError("Must be an ISO 8601 timestamp, e.g. 2024-01-01T12:00:00Z")
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment, timezone.UTC)


class TemplateListQuery(serializers.Serializer):
    """004's template filters."""

    category = serializers.ChoiceField(choices=Template.Category.choices, required=False)
    status = serializers.ChoiceField(choices=Template.Status.choices, required=False)


# --- Environments (001) ---------------------------------------------------------------------------


class CmbEnvironmentSerializer(serializers.ModelSerializer):
    """001's environment shape."""

    env_id = serializers.CharField(source="id", read_only=True)
    pod_name = serializers.CharField(read_only=True)
    url = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Environment
        fields = ["env_id", "pod_name", "name", "status", "created_at", "url"]


class CmbAdminEnvironmentSerializer(CmbEnvironmentSerializer):
    """001's admin listing adds the owner."""

    user_id = serializers.CharField(source="owner_id", read_only=True)

    class Meta(CmbEnvironmentSerializer.Meta):
        fields = ["env_id", "user_id", "pod_name", "name", "status", "created_at"]


class CmbConfigInput(serializers.Serializer):
    name = _PlainText(max_length=100, required=False, allow_blank=True)
    description = _PlainText(max_length=1000, required=False, allow_blank=True)


class CmbEnvironmentCreateInput(serializers.Serializer):
    """001's create body: an image (matched to a template), an application id and a config."""

    image = serializers.CharField(max_length=255, required=False)
    application_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    config = CmbConfigInput(required=False, default=dict)


class HeartbeatInput(serializers.Serializer):
    """001's heartbeat; ``env_id`` names one environment, else all the caller's live ones."""

    env_id = serializers.CharField(max_length=40, required=False)


# --- User environment variables (001) ------------------------------------------------------------


class UserEnvVarSerializer(serializers.ModelSerializer):
    """001's variable shape: the value is never returned."""

    value = serializers.SerializerMethodField()

    class Meta:
        model = UserEnvVar
        fields = ["key", "value", "created_at", "updated_at"]

    def get_value(self, obj: UserEnvVar) -> str:
        return MASK


class UserEnvVarInput(serializers.Serializer):
    """A key and its value (the value may be empty, as in a shell)."""

    key = serializers.CharField(max_length=MAX_KEY_LENGTH, validators=[validate_env_key])
    value = serializers.CharField(max_length=MAX_VALUE_LENGTH, allow_blank=True, trim_whitespace=False)

    def validate_value(self, value: str) -> str:
        if "\x00" in value:
            raise serializers.ValidationError("Values may not hold NUL bytes")
        return value


# --- Clusters (004) -------------------------------------------------------------------------------


def validate_kubeconfig(text: str) -> str:
    """A kubeconfig: YAML with ``clusters`` and ``contexts``, each with a name, and credentials
    given inline. ``exec`` and ``auth-provider`` plugins and file paths are refused: loading them
    would run commands or read files on the Hangar host."""
    if len(text.encode("utf-8")) > MAX_KUBECONFIG_BYTES:
        raise serializers.ValidationError(f"Kubeconfigs are limited to {MAX_KUBECONFIG_BYTES // 1024} KB")
    try:
        # Anchors and aliases are refused: kubeconfigs never need them, and nested aliases can
        # expand a small document into gigabytes ("billion laughs").
        if any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, Loader=yaml.SafeLoader)):
            raise serializers.ValidationError("YAML aliases are not allowed in a kubeconfig")
        config = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise serializers.ValidationError(f"Not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(config, dict):
        raise serializers.ValidationError("A kubeconfig is a YAML mapping")
    for section in ("clusters", "contexts"):
        entries = config.get(section)
        if not isinstance(entries, list) or not entries:
            raise serializers.ValidationError(f"A kubeconfig needs a non-empty '{section}' list")
        if not all(isinstance(entry, dict) and entry.get("name") for entry in entries):
            raise serializers.ValidationError(f"Every entry of '{section}' needs a name")
    for entry in config["clusters"]:
        cluster = entry.get("cluster")
        if not isinstance(cluster, dict) or not cluster.get("server"):
            raise serializers.ValidationError("Every cluster needs a 'server'")
        if "certificate-authority" in cluster:
            raise serializers.ValidationError("Use certificate-authority-data, not a file path")
    for entry in config.get("users") or []:
        user = (entry or {}).get("user") or {}
        if not isinstance(user, dict):
            raise serializers.ValidationError("Every user entry needs a 'user' mapping")
        refused = {"exec", "auth-provider", "client-certificate", "client-key", "tokenFile"} & set(user)
        if refused:
            raise serializers.ValidationError(
                f"Credentials must be inline; not allowed here: {', '.join(sorted(refused))}"
            )
    return text


class ClusterSerializer(serializers.ModelSerializer):
    """004's Cluster Object; the kubeconfig is never returned."""

    id = serializers.CharField(read_only=True)
    kubeconfig = serializers.SerializerMethodField()

    class Meta:
        model = Cluster
        fields = [
            "id",
            "name",
            "description",
            "provider",
            "region",
            "kubeconfig",
            "status",
            "node_count",
            "created_at",
            "updated_at",
            "last_health_check",
            "last_health_status",
        ]

    def get_kubeconfig(self, obj: Cluster) -> str:
        return MASK


class ClusterInput(serializers.Serializer):
    """An admin's cluster; on update (``partial``) every field is optional."""

    name = serializers.RegexField(r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$", max_length=100)
    description = _PlainText(max_length=2000, required=False, allow_blank=True)
    provider = serializers.ChoiceField(choices=Cluster.Provider.choices, required=False)
    region = serializers.RegexField(r"^[A-Za-z0-9][A-Za-z0-9_-]*$", max_length=64)
    kubeconfig = serializers.CharField(trim_whitespace=False, validators=[validate_kubeconfig])
    status = serializers.ChoiceField(choices=Cluster.Status.choices, required=False)
    node_count = serializers.IntegerField(min_value=0, max_value=100000, required=False)
