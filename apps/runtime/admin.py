from django.contrib import admin

from apps.runtime.models import LocalImage


@admin.register(LocalImage)
class LocalImageAdmin(admin.ModelAdmin):
    """Extra images for the local runtime, as root-filesystem folders."""

    list_display = ["name", "rootfs", "created_at"]
    search_fields = ["name", "rootfs"]
