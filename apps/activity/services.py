"""Writes to the activity log."""

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.http import HttpRequest

from apps.activity.consumers import activity_group
from apps.activity.models import Activity


def activity_record(
    *,
    user: Any,
    action: str,
    details: str = "",
    status: str = Activity.Status.SUCCESS,
    request: HttpRequest | None = None,
    metadata: dict | None = None,
) -> Activity:
    """Record one event. ``user`` may be None or anonymous for failed sign-ins."""
    owner = user if user is not None and getattr(user, "is_authenticated", False) else None
    ip = request.META.get("REMOTE_ADDR") if request is not None else None
    activity = Activity.objects.create(
        user=owner, action=action, details=details, status=status, ip_address=ip, metadata=metadata or {}
    )
    if owner is not None:
        transaction.on_commit(lambda: _broadcast(activity))
    return activity


def _broadcast(activity: Activity) -> None:
    """Push the entry to the user's open ``/ws/activity`` sockets."""
    from apps.activity.serializers import ActivitySerializer

    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "activity.event", "activity": ActivitySerializer(activity).data}
    async_to_sync(layer.group_send)(activity_group(activity.user_id), message)
