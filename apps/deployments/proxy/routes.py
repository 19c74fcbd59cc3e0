"""Where ``/apps/<service_name>/`` goes: the active revision's target, cached at two levels.

The database says which revision of a service is deployed. The Django cache holds the answer for
every process (Redis in production), and each process keeps it in memory for
``DEPLOY_ROUTE_CACHE_SECONDS`` so a proxied request costs no lookup at all. A switch (a new
revision, scale to zero, a wake, a stop) rewrites the shared entry and drops this process's copy;
other processes pick it up within their short in-memory lifetime, and the old revision keeps
serving for ``DEPLOY_DRAIN_SECONDS`` to cover exactly that window.

Requests are counted the same way: a timestamp in memory, written to the shared cache at most
every ``LAST_REQUEST_WRITE_SECONDS``, and flushed to ``Deployment.last_request_at`` by the
periodic idle task; never a database write per request.
"""

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections

ROUTE_KEY = "deploy:route:{}"
LAST_REQUEST_KEY = "deploy:last-request:{}"
# How long the shared cache keeps an answer; every switch rewrites it, so this only bounds staleness
# after a crash between the database commit and the cache write.
SHARED_TTL_SECONDS = 60
LAST_REQUEST_WRITE_SECONDS = 5.0
MAX_LOCAL_ROUTES = 10_000


@dataclass(frozen=True)
class Route:
    """A service's state for the proxy.

    ``state`` is ``up`` (forward to ``target``), ``asleep`` (scaled to zero: wake ``deployment_id``
    first), ``down`` (the service exists but no revision is deployed) or ``unknown``.
    """

    state: str
    deployment_id: int | None = None
    target: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.state, "deployment_id": self.deployment_id, "target": self.target}


_local: dict[str, tuple[float, Route]] = {}
_last_request: dict[str, float] = {}
_last_written: dict[str, float] = {}


def route_from_database(service_name: str) -> Route:
    """The route as the database has it (the newest deployed revision wins)."""
    from apps.deployments.models import Deployment

    active = (
        Deployment.objects.filter(service_name=service_name, status=Deployment.Status.DEPLOYED)
        .order_by("-revision", "-id")
        .only("pk", "instances", "runtime_state")
        .first()
    )
    if active is not None:
        target = (active.runtime_state or {}).get("target", "")
        if active.instances > 0 and target:
            return Route("up", active.pk, target)
        return Route("asleep", active.pk)
    if Deployment.objects.filter(service_name=service_name).exists():
        return Route("down")
    return Route("unknown")


def publish(service_name: str) -> Route:
    """Recompute the route from the database and share it; call after a switch has committed."""
    route = route_from_database(service_name)
    cache.set(ROUTE_KEY.format(service_name), route.as_dict(), SHARED_TTL_SECONDS)
    _local.pop(service_name, None)
    return route


def forget_local(service_name: str) -> None:
    """Drop this process's copy (e.g. its target refused a connection)."""
    _local.pop(service_name, None)


def _lookup_shared(service_name: str) -> Route:
    """The shared cache's answer, or the database's (then shared). Runs in a worker thread."""
    try:
        cached = cache.get(ROUTE_KEY.format(service_name))
        if cached is not None:
            return Route(**cached)
        route = route_from_database(service_name)
        cache.set(ROUTE_KEY.format(service_name), route.as_dict(), SHARED_TTL_SECONDS)
        return route
    finally:
        close_old_connections()


async def resolve(service_name: str) -> Route:
    """The route for ``service_name``: from memory when fresh, else the shared cache or database."""
    now = time.monotonic()
    hit = _local.get(service_name)
    if hit is not None and hit[0] > now:
        return hit[1]
    route = await sync_to_async(_lookup_shared, thread_sensitive=False)(service_name)
    if len(_local) >= MAX_LOCAL_ROUTES:
        # Requests for made-up names must not grow this without bound.
        _local.clear()
    _local[service_name] = (now + settings.DEPLOY_ROUTE_CACHE_SECONDS, route)
    return route


def note_request(service_name: str) -> None:
    """Remember that the app was used now; shared at most every few seconds, in the background."""
    now = time.time()
    _last_request[service_name] = now
    if now - _last_written.get(service_name, 0.0) >= LAST_REQUEST_WRITE_SECONDS:
        _last_written[service_name] = now
        task = asyncio.get_running_loop().create_task(cache.aset(LAST_REQUEST_KEY.format(service_name), now, None))
        _background.add(task)
        task.add_done_callback(_background.discard)


# Strong references, so pending cache writes are not garbage-collected mid-flight.
_background: set[asyncio.Task] = set()


def last_request(service_name: str) -> float | None:
    """When the app was last requested (epoch seconds), as far as this process and the cache know."""
    shared = cache.get(LAST_REQUEST_KEY.format(service_name))
    local = _last_request.get(service_name)
    values = [value for value in (shared, local) if value is not None]
    return max(values) if values else None
