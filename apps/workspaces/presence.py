"""How many sockets have a terminal attached to each session, counted in the shared cache.

The cache is Redis in production, so every daphne process sees the same numbers; a process that
dies without detaching cannot pin a count forever because the counters expire.
"""

import contextlib
import uuid

from django.core.cache import cache

_TTL_SECONDS = 24 * 3600


def _key(session_id: uuid.UUID | str) -> str:
    return f"code_session:sockets:{session_id}"


def attached_sockets(session_id: uuid.UUID | str) -> int:
    """Sockets that have the session's terminal open right now."""
    return max(int(cache.get(_key(session_id), 0)), 0)


async def attach(session_id: uuid.UUID | str) -> None:
    """Count one more socket on the session's terminal."""
    await cache.aadd(_key(session_id), 0, timeout=_TTL_SECONDS)
    await cache.aincr(_key(session_id))


async def detach(session_id: uuid.UUID | str) -> None:
    """Count one socket fewer."""
    # A ValueError means the counter expired meanwhile: nothing is left to release.
    with contextlib.suppress(ValueError):
        await cache.adecr(_key(session_id))
