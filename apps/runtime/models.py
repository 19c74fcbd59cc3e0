"""Images that admins register for the local runtime."""

from django.db import models


class LocalImage(models.Model):
    """A root-filesystem folder served under an image name (it must contain usr/bin/python3)."""

    name = models.CharField(max_length=200, unique=True, help_text="Image name, e.g. alpine-python:3.12")
    rootfs = models.CharField(max_length=500, help_text="Absolute path of the root filesystem folder")
    description = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name
