"""Uploaded notebooks and what parsing found in them."""

from django.conf import settings
from django.db import models

from apps.core.state import StatusMachine


class Notebook(StatusMachine, models.Model):
    """A user's ``.ipynb`` (000). ``status`` follows the notebook through parse, build and deploy."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded"
        PARSED = "parsed"
        BUILDING = "building"
        BUILT = "built"
        DEPLOYING = "deploying"
        DEPLOYED = "deployed"
        FAILED = "failed"

    # A notebook may be parsed again (a webhook brings a new revision), built and deployed again.
    TRANSITIONS = {
        Status.UPLOADED: {Status.PARSED, Status.FAILED},
        Status.PARSED: {Status.UPLOADED, Status.BUILDING, Status.FAILED},
        Status.BUILDING: {Status.BUILT, Status.FAILED},
        Status.BUILT: {Status.UPLOADED, Status.BUILDING, Status.DEPLOYING, Status.FAILED},
        Status.DEPLOYING: {Status.DEPLOYED, Status.FAILED},
        Status.DEPLOYED: {Status.UPLOADED, Status.BUILDING, Status.DEPLOYING, Status.FAILED},
        Status.FAILED: {Status.UPLOADED, Status.PARSED, Status.BUILDING, Status.DEPLOYING},
    }

    class AppKind(models.TextChoices):
        STREAMLIT = "streamlit"
        GRADIO = "gradio"
        DASH = "dash"
        FLASK = "flask"
        FASTAPI = "fastapi"
        OUTPUTS = "outputs"  # any other notebook: a page of its executed outputs

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notebooks")
    name = models.CharField(max_length=200)
    filename = models.CharField(max_length=255)
    file = models.FileField(upload_to="notebooks/%Y/%m/", max_length=500)
    size_bytes = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADED, db_index=True)
    code_cells_count = models.PositiveIntegerField(default=0)
    dependencies = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    app_kind = models.CharField(max_length=16, choices=AppKind.choices, blank=True)
    main_py = models.TextField(blank=True)
    requirements_txt = models.TextField(blank=True)
    error_message = models.TextField(blank=True)
    parsed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name
