"""The shapes 000 documents for builds, and validation of the list and log queries."""

from typing import Any

from django.conf import settings
from rest_framework import serializers

from apps.builds.models import Build


def logs_path(build: Build) -> str:
    """The path of the build's logs endpoint."""
    return f"/api/v1/builds/{build.pk}/logs"


def logs_url(build: Build, request: Any = None) -> str:
    """The absolute URL of the build's logs: from the request, or ``PUBLIC_URL`` outside one."""
    if request is not None:
        return request.build_absolute_uri(logs_path(build))
    return settings.PUBLIC_URL.rstrip("/") + logs_path(build)


class BuildSerializer(serializers.ModelSerializer):
    """One build: the trigger answer and the status answer of 000, in one superset shape."""

    notebook_id = serializers.IntegerField(read_only=True)
    log_url = serializers.SerializerMethodField()
    error_message = serializers.SerializerMethodField()
    external_log_url = serializers.SerializerMethodField()

    class Meta:
        model = Build
        fields = [
            "id",
            "build_id",
            "notebook_id",
            "status",
            "builder",
            "image_name",
            "log_url",
            "external_log_url",
            "cache_hit",
            "error_message",
            "started_at",
            "finished_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_log_url(self, build: Build) -> str:
        return logs_url(build, self.context.get("request"))

    def get_error_message(self, build: Build) -> str | None:
        return build.error_message or None

    def get_external_log_url(self, build: Build) -> str | None:
        return build.external_log_url or None


class BuildListQuery(serializers.Serializer):
    """``skip``, ``limit``, ``status`` and ``notebook_id`` of ``GET /api/v1/builds``."""

    skip = serializers.IntegerField(min_value=0, max_value=10**9, default=0)
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=100)
    status = serializers.ChoiceField(choices=Build.Status.choices, required=False)
    notebook_id = serializers.IntegerField(min_value=1, max_value=10**18, required=False)


class BuildListSerializer(serializers.Serializer):
    """The list answer, in the ``{"total", "<items>"}`` shape of 000's pipeline history."""

    total = serializers.IntegerField()
    builds = BuildSerializer(many=True)


class BuildLogsQuery(serializers.Serializer):
    """``offset``: the first line to return (0-based), to poll a running build incrementally."""

    offset = serializers.IntegerField(min_value=0, max_value=10**9, default=0)


class BuildLogsSerializer(serializers.Serializer):
    """A slice of a build's log."""

    build_id = serializers.CharField()
    status = serializers.CharField()
    complete = serializers.BooleanField()
    offset = serializers.IntegerField()
    next_offset = serializers.IntegerField()
    lines = serializers.ListField(child=serializers.CharField())
