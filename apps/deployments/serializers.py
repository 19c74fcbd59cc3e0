"""Request and response shapes of /api/v1/deployments (000)."""

from rest_framework import serializers

from apps.deployments.models import Deployment
from apps.deployments.quantities import parse_cpu, parse_memory
from apps.deployments.services.deployments import MAX_INSTANCES_LIMIT


class DeploymentCreateInput(serializers.Serializer):
    """000's deploy request: a notebook, one of its successful builds, and resources."""

    notebook_id = serializers.IntegerField(min_value=1)
    # The numeric id or the documented "build-<notebook>-<epoch>".
    build_id = serializers.CharField(max_length=64)
    cpu = serializers.CharField(max_length=16, default="1")
    memory = serializers.CharField(max_length=16, default="512Mi")
    min_instances = serializers.IntegerField(min_value=0, max_value=MAX_INSTANCES_LIMIT, default=0)
    max_instances = serializers.IntegerField(min_value=1, max_value=MAX_INSTANCES_LIMIT, default=10)

    def validate_cpu(self, value: str) -> str:
        try:
            parse_cpu(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value

    def validate_memory(self, value: str) -> str:
        try:
            parse_memory(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value

    def validate(self, attrs: dict) -> dict:
        if attrs["min_instances"] > attrs["max_instances"]:
            raise serializers.ValidationError({"min_instances": ["Must not be more than max_instances."]})
        return attrs


class DeploymentListQuery(serializers.Serializer):
    """``status`` filter of the list (``skip``/``limit`` are read by the paginator)."""

    status = serializers.ChoiceField(choices=Deployment.Status.choices, required=False)
    skip = serializers.IntegerField(min_value=0, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=1000, required=False)


class DeploymentLogsQuery(serializers.Serializer):
    """How many of the latest log lines (1-1000)."""

    lines = serializers.IntegerField(min_value=1, max_value=1000, default=100)


class DeploymentCreatedSerializer(serializers.ModelSerializer):
    """000's answer to a deploy request."""

    notebook_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = Deployment
        fields = ["id", "notebook_id", "service_name", "status", "created_at"]


class DeploymentSerializer(serializers.ModelSerializer):
    """One deployment (a revision of a notebook's app)."""

    notebook_id = serializers.IntegerField(read_only=True)
    build_id = serializers.IntegerField(read_only=True)
    error_message = serializers.SerializerMethodField()
    service_url = serializers.SerializerMethodField()

    class Meta:
        model = Deployment
        fields = [
            "id",
            "notebook_id",
            "build_id",
            "service_name",
            "revision",
            "status",
            "service_url",
            "deployed_at",
            "error_message",
            "cpu",
            "memory",
            "min_instances",
            "max_instances",
            "instances",
            "created_at",
        ]

    def get_error_message(self, deployment: Deployment) -> str | None:
        """``null`` unless it failed, as 000's examples show."""
        return deployment.error_message or None

    def get_service_url(self, deployment: Deployment) -> str | None:
        """The app's URL while it is deployed, else ``null``."""
        return deployment.service_url if deployment.status == Deployment.Status.DEPLOYED else None


class DeploymentListSerializer(serializers.Serializer):
    """A page of deployments."""

    total = serializers.IntegerField()
    skip = serializers.IntegerField()
    limit = serializers.IntegerField()
    deployments = DeploymentSerializer(many=True)
