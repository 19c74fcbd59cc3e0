"""000's metrics: builds, deployments, activity and per-day series, over the last ``days`` days.

Each answers the caller's own numbers; admins (superusers, ``admin:all``) get everyone's.
"""

from collections.abc import Callable
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.pagination import int_param
from apps.deployments import selectors_metrics as metrics

MAX_DAYS = 365


def _days_parameter(default: int) -> OpenApiParameter:
    return OpenApiParameter(
        "days", OpenApiTypes.INT, description=f"1 to {MAX_DAYS} (default {default})", required=False
    )


class _MetricsView(APIView):
    """One metrics selector over a validated ``days`` window (400 outside 1..365)."""

    selector: Callable[..., dict[str, Any]]
    default_days = 30

    def get(self, request: Request) -> Response:
        days = int_param(request, "days", self.default_days, 1, MAX_DAYS)
        return Response(type(self).selector(user=request.user, days=days))


def _schema(default: int) -> Callable:
    return extend_schema(parameters=[_days_parameter(default)], responses=OpenApiTypes.OBJECT)


class BuildMetricsView(_MetricsView):
    """Build counts, success rate, mean build time and counts by status."""

    selector = staticmethod(metrics.build_metrics)

    @_schema(30)
    def get(self, request: Request) -> Response:
        return super().get(request)


class DeploymentMetricsView(_MetricsView):
    """Deployment counts, live deployments, success rate and counts by status."""

    selector = staticmethod(metrics.deployment_metrics)

    @_schema(30)
    def get(self, request: Request) -> Response:
        return super().get(request)


class ActivityMetricsView(_MetricsView):
    """Notebooks, builds and deployments created in the window, and the newest twenty of them."""

    selector = staticmethod(metrics.activity_metrics)
    default_days = 7

    @_schema(7)
    def get(self, request: Request) -> Response:
        return super().get(request)


class BuildTimeseriesView(_MetricsView):
    """Builds per day (every day of the window) with their success rate."""

    selector = staticmethod(metrics.build_timeseries)

    @_schema(30)
    def get(self, request: Request) -> Response:
        return super().get(request)


class DeploymentTimeseriesView(_MetricsView):
    """Deployments per day (every day of the window) with their success rate."""

    selector = staticmethod(metrics.deployment_timeseries)

    @_schema(30)
    def get(self, request: Request) -> Response:
        return super().get(request)
