"""002's session shape and the inputs of the session and workspace routes."""

from rest_framework import serializers

from apps.workspaces.models import CodeSession


class SessionSerializer(serializers.ModelSerializer):
    """002's Session: ``id``, ``user_id``, ``name``, ``code``, ``language``, ``is_active`` and times."""

    user_id = serializers.IntegerField(source="owner_id", read_only=True)

    class Meta:
        model = CodeSession
        fields = ["id", "user_id", "name", "code", "language", "is_active", "created_at", "updated_at"]
        read_only_fields = fields


class SessionCreateInput(serializers.Serializer):
    """``name``, and 002's optional ``user_id`` (which must be the caller unless an admin)."""

    name = serializers.CharField(max_length=200)
    user_id = serializers.IntegerField(required=False, min_value=1)


class StrictCharField(serializers.CharField):
    """A string field that refuses numbers and booleans instead of turning them into text."""

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class FileWriteInput(serializers.Serializer):
    """The new content of a file; its size is checked by the service (413 past the cap)."""

    content = StrictCharField(allow_blank=True, trim_whitespace=False)
