"""The notebooks API's shapes (000's documented bodies) and query validation."""

from rest_framework import serializers

from apps.notebooks.models import Notebook


class NotebookUploadSerializer(serializers.ModelSerializer):
    """000's upload response: ``id, name, filename, user_id, status, created_at``."""

    user_id = serializers.IntegerField(source="owner_id", read_only=True)

    class Meta:
        model = Notebook
        fields = ["id", "name", "filename", "user_id", "status", "created_at"]


class NotebookParseSerializer(serializers.ModelSerializer):
    """000's parse response, plus the detected ``app_kind`` and the translation ``warnings``."""

    dependencies = serializers.ListField(child=serializers.CharField(), read_only=True)
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Notebook
        fields = ["id", "status", "code_cells_count", "dependencies", "parsed_at", "app_kind", "warnings"]


class NotebookSerializer(serializers.ModelSerializer):
    """One notebook in full (list and detail)."""

    user_id = serializers.IntegerField(source="owner_id", read_only=True)
    dependencies = serializers.ListField(child=serializers.CharField(), read_only=True)
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Notebook
        fields = [
            "id",
            "name",
            "filename",
            "user_id",
            "status",
            "size_bytes",
            "code_cells_count",
            "dependencies",
            "app_kind",
            "warnings",
            "error_message",
            "created_at",
            "parsed_at",
            "updated_at",
        ]


class NotebookListQuery(serializers.Serializer):
    """``GET /api/v1/notebooks`` query: ``skip``, ``limit`` and a ``status`` filter."""

    skip = serializers.IntegerField(required=False, min_value=0, default=0)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=1000, default=100)
    status = serializers.ChoiceField(choices=Notebook.Status.choices, required=False)
