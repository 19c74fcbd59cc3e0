"""Input validation and 003's output shapes for datasets, versions and ingestion jobs."""

from rest_framework import serializers

from apps.datasets import selectors
from apps.datasets.models import Dataset, DatasetVersion, IngestionJob, ProblemType


class UploadUrlInput(serializers.Serializer):
    """``{filename, size_bytes}``."""

    filename = serializers.CharField(max_length=255)
    size_bytes = serializers.IntegerField(min_value=1, max_value=10**13)


class UploadUrlOutput(serializers.Serializer):
    """003's upload-url answer."""

    upload_id = serializers.UUIDField()
    upload_url = serializers.CharField()
    expires_at = serializers.DateTimeField()
    max_size_bytes = serializers.IntegerField()


class UploadReceivedOutput(serializers.Serializer):
    """The answer to a signed PUT."""

    upload_id = serializers.UUIDField()
    size_bytes = serializers.IntegerField()
    message = serializers.CharField()


class ConfirmInput(serializers.Serializer):
    """003's confirm body; ``dataset_name`` is required for a new dataset, ``dataset_id`` for a new version."""

    upload_id = serializers.UUIDField()
    dataset_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    problem_type = serializers.ChoiceField(choices=ProblemType.choices, required=False, allow_blank=True, default="")
    target_column = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    create_new_version = serializers.BooleanField(required=False, default=False)
    dataset_id = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)
    version_label = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict) -> dict:
        attrs["dataset_name"] = attrs["dataset_name"].strip()
        if attrs["create_new_version"]:
            if attrs["dataset_id"] is None:
                raise serializers.ValidationError({"dataset_id": ["Required when create_new_version is true."]})
        elif not attrs["dataset_name"]:
            raise serializers.ValidationError({"dataset_name": ["Required for a new dataset."]})
        return attrs


class ConfirmOutput(serializers.Serializer):
    """003's confirm answer."""

    job_id = serializers.UUIDField()
    dataset_id = serializers.IntegerField()
    dataset_version_id = serializers.IntegerField()
    version_number = serializers.IntegerField()
    status = serializers.CharField()
    estimated_duration_seconds = serializers.FloatField()


class DatasetListQuery(serializers.Serializer):
    """003's list parameters; bad values are a 400."""

    page = serializers.IntegerField(min_value=1, max_value=10**6, default=1)
    per_page = serializers.IntegerField(min_value=1, max_value=100, default=20)
    problem_type = serializers.ChoiceField(choices=ProblemType.choices, required=False, allow_blank=True, default="")
    search = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    sort_by = serializers.ChoiceField(choices=selectors.SORT_FIELDS, default="created_at")
    sort_order = serializers.ChoiceField(choices=["asc", "desc"], default="desc")


class IngestionJobSerializer(serializers.ModelSerializer):
    """003's job status object."""

    job_id = serializers.UUIDField(source="id")
    status = serializers.CharField(help_text="pending, processing, completed or failed")
    dataset_version_id = serializers.IntegerField()
    error_message = serializers.SerializerMethodField()

    class Meta:
        model = IngestionJob
        fields = [
            "job_id",
            "status",
            "progress_percentage",
            "error_message",
            "dataset_id",
            "dataset_version_id",
            "estimated_duration_seconds",
            "created_at",
            "started_at",
            "completed_at",
        ]

    def get_error_message(self, job: IngestionJob) -> str | None:
        return job.error_message or None


class DatasetVersionSerializer(serializers.ModelSerializer):
    """A version, with the status of its ingestion."""

    status = serializers.SerializerMethodField()
    job_id = serializers.SerializerMethodField()
    error_message = serializers.SerializerMethodField()

    class Meta:
        model = DatasetVersion
        fields = [
            "id",
            "version_number",
            "version_label",
            "original_filename",
            "row_count",
            "column_count",
            "raw_size_bytes",
            "file_size_bytes",
            "status",
            "job_id",
            "error_message",
            "created_at",
        ]

    def get_status(self, version: DatasetVersion) -> str:
        job = selectors.latest_job(version)
        return job.status if job else IngestionJob.Status.PENDING

    def get_job_id(self, version: DatasetVersion) -> str | None:
        job = selectors.latest_job(version)
        return str(job.id) if job else None

    def get_error_message(self, version: DatasetVersion) -> str | None:
        job = selectors.latest_job(version)
        return (job.error_message or None) if job else None


class DatasetSerializer(serializers.ModelSerializer):
    """003's Dataset Object (figures from the current, i.e. newest completed, version), plus the
    ingestion ``status`` of the newest version and every version."""

    current_version_id = serializers.IntegerField(allow_null=True)
    row_count = serializers.SerializerMethodField()
    column_count = serializers.SerializerMethodField()
    columns_metadata = serializers.SerializerMethodField()
    file_size_bytes = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()
    versions = DatasetVersionSerializer(many=True)

    class Meta:
        model = Dataset
        fields = [
            "id",
            "name",
            "description",
            "problem_type",
            "target_column",
            "current_version_id",
            "row_count",
            "column_count",
            "columns_metadata",
            "file_size_bytes",
            "status",
            "versions",
            "created_at",
            "updated_at",
        ]

    def get_row_count(self, dataset: Dataset) -> int | None:
        return dataset.current_version.row_count if dataset.current_version else None

    def get_column_count(self, dataset: Dataset) -> int | None:
        return dataset.current_version.column_count if dataset.current_version else None

    def get_columns_metadata(self, dataset: Dataset) -> list[dict]:
        return dataset.current_version.columns_metadata if dataset.current_version else []

    def get_file_size_bytes(self, dataset: Dataset) -> int | None:
        return dataset.current_version.file_size_bytes if dataset.current_version else None

    def get_status(self, dataset: Dataset) -> str:
        return selectors.dataset_status(dataset)


class DatasetPageOutput(serializers.Serializer):
    """003's list answer."""

    datasets = DatasetSerializer(many=True)
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    per_page = serializers.IntegerField()
    total_pages = serializers.IntegerField()
