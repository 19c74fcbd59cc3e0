"""Writes to templates: admin create, update, deprecate, and the five defaults."""

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F

from apps.activity.services import activity_record
from apps.core.errors import ErrorCode, HangarError
from apps.environments.defaults import DEFAULT_TEMPLATES
from apps.environments.models import Template

_EDITABLE = (
    "name",
    "display_name",
    "description",
    "category",
    "tags",
    "docker_image",
    "default_port",
    "default_resources",
    "environment_variables",
    "startup_commands",
    "documentation_url",
    "icon_url",
    "status",
    "version",
    "runtimes",
    "network_policy",
)


def _name_taken(name: str) -> HangarError:
    return HangarError(f"A template named '{name}' already exists", error_code=ErrorCode.CONFLICT, status_code=409)


@transaction.atomic
def template_create(*, actor: Any, data: dict[str, Any]) -> Template:
    """Create a template from validated ``data``; 409 when the name is taken."""
    if Template.objects.filter(name=data["name"]).exists():
        raise _name_taken(data["name"])
    try:
        with transaction.atomic():
            template = Template.objects.create(**{key: data[key] for key in _EDITABLE if key in data})
    except IntegrityError:
        raise _name_taken(data["name"]) from None
    activity_record(user=actor, action="template_created", details=f"Created template {template.name}")
    return template


@transaction.atomic
def template_update(*, template: Template, actor: Any, data: dict[str, Any]) -> Template:
    """Change the fields present in validated ``data``."""
    if "name" in data and data["name"] != template.name and Template.objects.filter(name=data["name"]).exists():
        raise _name_taken(data["name"])
    for key in _EDITABLE:
        if key in data:
            setattr(template, key, data[key])
    template.save()
    activity_record(user=actor, action="template_updated", details=f"Updated template {template.name}")
    return template


@transaction.atomic
def template_deprecate(*, template: Template, actor: Any) -> Template:
    """004's DELETE: the template stays (environments refer to it) but is marked deprecated."""
    template.status = Template.Status.DEPRECATED
    template.save(update_fields=["status", "updated_at"])
    activity_record(user=actor, action="template_deprecated", details=f"Deprecated template {template.name}")
    return template


@transaction.atomic
def templates_initialize_defaults(*, actor: Any = None) -> tuple[list[Template], int]:
    """Create whichever of the five default templates are missing; existing ones stay as they are.

    Returns the five templates and how many were created, so calling it twice creates nothing.
    """
    templates, created = [], 0
    for spec in DEFAULT_TEMPLATES:
        template, was_created = Template.objects.get_or_create(
            name=spec["name"], defaults={key: value for key, value in spec.items() if key != "name"}
        )
        templates.append(template)
        created += int(was_created)
    if actor is not None:
        activity_record(user=actor, action="templates_initialized", details=f"{created} default templates created")
    return templates, created


def template_count_use(*, template: Template) -> None:
    """Count one more environment made from ``template`` (atomic, no lost updates)."""
    Template.objects.filter(pk=template.pk).update(usage_count=F("usage_count") + 1)
