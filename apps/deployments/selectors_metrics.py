"""000's metrics, computed by the database (counts, averages and per-day groups), never by looping
over rows in Python. Scoped to the caller; admins (superusers, ``admin:all``) see everyone's."""

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import (
    Avg,
    CharField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import TruncDate
from django.utils import timezone
from rest_framework.fields import DateTimeField as DateTimeOutput

from apps.builds.models import Build
from apps.deployments.models import Deployment
from apps.notebooks.models import Notebook

RECENT_ACTIVITY_LIMIT = 20
_datetime = DateTimeOutput()


def _scoped(queryset: QuerySet, user: Any, since: Any) -> QuerySet:
    queryset = queryset.filter(created_at__gte=since)
    return queryset if user.is_hangar_admin else queryset.filter(owner=user)


def _since(days: int) -> Any:
    return timezone.now() - timedelta(days=days)


def _rate(part: int, total: int) -> float:
    return round(part * 100.0 / total, 1) if total else 0.0


def _by_status(queryset: QuerySet) -> dict[str, int]:
    rows = queryset.order_by().values("status").annotate(count=Count("id")).values_list("status", "count")
    return dict(rows)


def build_metrics(*, user: Any, days: int) -> dict[str, Any]:
    """``GET /api/v1/metrics/builds``: counts, success rate and the mean time of finished builds."""
    builds = _scoped(Build.objects.all(), user, _since(days))
    duration = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    totals = builds.aggregate(
        total=Count("id"),
        successful=Count("id", filter=Q(status=Build.Status.SUCCESS)),
        failed=Count("id", filter=Q(status=Build.Status.FAILED)),
    )
    timed = builds.filter(started_at__isnull=False, finished_at__isnull=False)
    timed = timed.filter(status__in=[Build.Status.SUCCESS, Build.Status.FAILED])
    average = timed.aggregate(average=Avg(duration))["average"]
    return {
        "total_builds": totals["total"],
        "successful_builds": totals["successful"],
        "failed_builds": totals["failed"],
        "success_rate": _rate(totals["successful"], totals["total"]),
        "average_build_time_seconds": round(average.total_seconds(), 1) if average is not None else 0.0,
        "builds_by_status": _by_status(builds),
    }


def _deployment_succeeded() -> Q:
    # A deployment succeeded if it ever served: deployed now, or stopped (or replaced) after serving.
    return Q(deployed_at__isnull=False) | Q(status=Deployment.Status.DEPLOYED)


def deployment_metrics(*, user: Any, days: int) -> dict[str, Any]:
    """``GET /api/v1/metrics/deployments``: counts, live deployments and the success rate."""
    deployments = _scoped(Deployment.objects.all(), user, _since(days))
    totals = deployments.aggregate(
        total=Count("id"),
        successful=Count("id", filter=_deployment_succeeded()),
        failed=Count("id", filter=Q(status=Deployment.Status.FAILED)),
        active=Count("id", filter=Q(status=Deployment.Status.DEPLOYED)),
    )
    return {
        "total_deployments": totals["total"],
        "successful_deployments": totals["successful"],
        "failed_deployments": totals["failed"],
        "active_deployments": totals["active"],
        "success_rate": _rate(totals["successful"], totals["total"]),
        "deployments_by_status": _by_status(deployments),
    }


def _activity_rows(queryset: QuerySet, kind: str, notebook: Any, url: Any) -> QuerySet:
    # Every column is an annotation, in one order, so the three queries line up in the UNION.
    return (
        queryset.order_by()
        .annotate(
            kind=Value(kind, output_field=CharField()),
            item_id=F("id"),
            item_status=F("status"),
            item_notebook=notebook,
            item_url=url,
            item_created=F("created_at"),
        )
        .values_list("kind", "item_id", "item_status", "item_notebook", "item_url", "item_created")
    )


def activity_metrics(*, user: Any, days: int) -> dict[str, Any]:
    """``GET /api/v1/metrics/activity``: what was created in the window and the newest of it."""
    since = _since(days)
    notebooks = _scoped(Notebook.objects.all(), user, since)
    builds = _scoped(Build.objects.all(), user, since)
    deployments = _scoped(Deployment.objects.all(), user, since)
    no_url = Value(None, output_field=CharField())
    union = (
        _activity_rows(notebooks, "notebook", F("id"), no_url)
        .union(
            _activity_rows(builds, "build", F("notebook_id"), no_url),
            _activity_rows(deployments, "deployment", F("notebook_id"), F("service_url")),
            all=True,
        )
        .order_by("-item_created", "-item_id")[:RECENT_ACTIVITY_LIMIT]
    )
    recent = [
        {
            "type": kind,
            "id": item_id,
            "status": status,
            "notebook_id": notebook_id,
            "service_url": url or None,
            "created_at": _datetime.to_representation(created),
        }
        for kind, item_id, status, notebook_id, url, created in union
    ]
    return {
        "total_notebooks": notebooks.count(),
        "total_builds": builds.count(),
        "total_deployments": deployments.count(),
        "recent_activity": recent,
    }


def _timeseries(queryset: QuerySet, success: Q, failure: Q, days: int) -> dict[str, Any]:
    rows = (
        queryset.order_by()
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(
            total=Count("id"),
            successful=Count("id", filter=success),
            failed=Count("id", filter=failure),
        )
        .order_by("day")
    )
    by_day = {_as_date(row["day"]): row for row in rows}
    today = timezone.localdate()
    data = []
    # One entry per day of the window (days without any are zero), oldest first, for charts.
    for offset in range(days - 1, -1, -1):
        day = today - timedelta(days=offset)
        row = by_day.get(day, {"total": 0, "successful": 0, "failed": 0})
        data.append(
            {
                "date": day.isoformat(),
                "total": row["total"],
                "successful": row["successful"],
                "failed": row["failed"],
                "success_rate": _rate(row["successful"], row["total"]),
            }
        )
    return {"period_days": days, "data": data}


def _as_date(value: Any) -> date:
    # SQLite may hand TruncDate back as text on some versions; PostgreSQL gives a date.
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _window_start(days: int) -> Any:
    # The window of a time series is whole days: today and the days - 1 before it.
    start = timezone.localdate() - timedelta(days=days - 1)
    return datetime.combine(start, time.min, tzinfo=timezone.get_current_timezone())


def build_timeseries(*, user: Any, days: int) -> dict[str, Any]:
    """``GET /api/v1/metrics/timeseries/builds``: builds per day with their success rate."""
    builds = _scoped(Build.objects.all(), user, _window_start(days))
    return _timeseries(builds, Q(status=Build.Status.SUCCESS), Q(status=Build.Status.FAILED), days)


def deployment_timeseries(*, user: Any, days: int) -> dict[str, Any]:
    """``GET /api/v1/metrics/timeseries/deployments``: deployments per day with their success rate."""
    deployments = _scoped(Deployment.objects.all(), user, _window_start(days))
    return _timeseries(deployments, _deployment_succeeded(), Q(status=Deployment.Status.FAILED), days)
