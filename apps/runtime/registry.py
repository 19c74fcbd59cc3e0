"""Which runtime backend runs workloads, chosen by ``settings.RUNTIME_BACKEND``."""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from apps.runtime.base import RuntimeBackend

BACKENDS = {
    "local": "apps.runtime.backends.local.LocalBackend",
    "kubernetes": "apps.runtime.backends.kubernetes.KubernetesBackend",
}


@cache
def get_backend() -> RuntimeBackend:
    """The configured backend (one instance per process; backends keep their state on disk)."""
    return import_string(BACKENDS[settings.RUNTIME_BACKEND])()
