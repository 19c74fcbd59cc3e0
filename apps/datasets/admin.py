from django.contrib import admin

from apps.datasets.models import Dataset, DatasetVersion, IngestionJob


class DatasetVersionInline(admin.TabularInline):
    model = DatasetVersion
    extra = 0
    can_delete = False
    fields = ["version_number", "version_label", "original_filename", "row_count", "column_count", "file_size_bytes"]
    readonly_fields = fields


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    """Datasets (003), read-only: deleting through the API also removes the stored files."""

    list_display = ["id", "name", "owner", "problem_type", "current_version", "created_at"]
    list_filter = ["problem_type"]
    search_fields = ["name", "owner__username", "owner__email"]
    readonly_fields = ["owner", "current_version", "created_at", "updated_at"]
    inlines = [DatasetVersionInline]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(IngestionJob)
class IngestionJobAdmin(admin.ModelAdmin):
    """Ingestion jobs; their status moves only through the ingestion service."""

    list_display = ["id", "dataset", "owner", "status", "progress_percentage", "created_at", "completed_at"]
    list_filter = ["status"]
    search_fields = ["id", "dataset__name", "owner__username"]
    readonly_fields = [f.name for f in IngestionJob._meta.fields]
