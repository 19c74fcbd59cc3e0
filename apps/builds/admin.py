"""Builds in the admin site, read mostly."""

from django.contrib import admin

from apps.builds.models import Build


@admin.register(Build)
class BuildAdmin(admin.ModelAdmin):
    """Builds, with their status, builder and cache use."""

    list_display = ("build_id", "owner", "notebook", "status", "builder", "cache_hit", "created_at")
    list_filter = ("status", "builder", "cache_hit")
    search_fields = ("build_id", "owner__email", "cache_key")
    readonly_fields = ("created_at", "started_at", "finished_at")
