"""The embedded default's channel layer: in memory, safe to send to from the worker thread."""

import asyncio

from channels.layers import InMemoryChannelLayer


class ThreadSafeInMemoryChannelLayer(InMemoryChannelLayer):
    """Channels' in-memory layer, except that a send from another thread's event loop (the
    embedded Celery worker's) wakes the receiving server loop at once.

    The stock layer hands the message to an ``asyncio.Queue`` owned by the server's loop; from
    another thread that resolves the waiting ``get()`` without waking the loop, so the message
    sat until the loop's next timer, up to a second later.
    """

    async def send(self, channel: str, message: dict) -> None:
        await super().send(channel, message)
        loop = getattr(self.channels.get(channel), "_loop", None)
        if loop is not None and loop is not asyncio.get_running_loop() and not loop.is_closed():
            loop.call_soon_threadsafe(lambda: None)
