"""Builders, chosen by ``settings.BUILD_BACKEND``: ``local`` (default) or ``cloudbuild``."""

from django.conf import settings
from django.utils.module_loading import import_string

from apps.builds.builders.base import Builder, BuildResult

BUILDERS = {
    "local": "apps.builds.builders.local.LocalBuilder",
    "cloudbuild": "apps.builds.builders.cloudbuild.CloudBuildBuilder",
}

__all__ = ["BUILDERS", "BuildResult", "Builder", "get_builder"]


def get_builder(name: str | None = None) -> Builder:
    """The builder called ``name``, or the configured one."""
    return import_string(BUILDERS[name or settings.BUILD_BACKEND])()
