from django.contrib import admin

from apps.notebooks.models import Notebook


@admin.register(Notebook)
class NotebookAdmin(admin.ModelAdmin):
    """Uploaded notebooks (000); status changes go through the API so the state machine applies."""

    list_display = ["id", "name", "owner", "status", "app_kind", "code_cells_count", "created_at"]
    list_filter = ["status", "app_kind"]
    search_fields = ["name", "filename", "owner__email"]
    readonly_fields = ["status", "main_py", "requirements_txt", "parsed_at", "created_at", "updated_at"]
