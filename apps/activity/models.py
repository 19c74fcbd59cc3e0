"""The activity log."""

from django.conf import settings
from django.db import models


class Activity(models.Model):
    """One thing that happened, to whom, and whether it worked."""

    class Status(models.TextChoices):
        SUCCESS = "success"
        FAILURE = "failure"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )
    action = models.CharField(max_length=64, db_index=True)
    details = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUCCESS)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        return f"{self.action} ({self.status})"
