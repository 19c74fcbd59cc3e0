"""Reads of the activity log, scoped to the caller."""

from django.db.models import QuerySet

from apps.activity.models import Activity


def activity_for_user(*, user, limit: int) -> list[Activity]:
    """The caller's own most recent events."""
    return list(Activity.objects.filter(user=user)[:limit])


def activity_all(*, limit: int, user_id: int | None = None) -> list[Activity]:
    """Everyone's events, for admins, optionally for one user."""
    queryset: QuerySet[Activity] = Activity.objects.all()
    if user_id is not None:
        queryset = queryset.filter(user_id=user_id)
    return list(queryset[:limit])
