"""The 001 shape of an activity entry."""

from rest_framework import serializers

from apps.activity.models import Activity


class ActivitySerializer(serializers.ModelSerializer):
    """``{"id", "user_id", "action", "details", "timestamp", "status"}``."""

    timestamp = serializers.DateTimeField(source="created_at")

    class Meta:
        model = Activity
        fields = ["id", "user_id", "action", "details", "timestamp", "status"]
