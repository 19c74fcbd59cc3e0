"""The embedded default's Celery worker: a thread inside the server process.

It consumes the in-memory transport, which only the same process can reach, so the server and
its worker must share a process. Production runs ``celery worker`` and ``celery beat`` instead.
"""

import logging
import threading

from celery.worker import WorkController
from django.conf import settings

from config.celery import app

logger = logging.getLogger(__name__)
_started = threading.Event()


def start_embedded_worker() -> bool:
    """Start the worker thread (with embedded beat) once, when the embedded mode asks for it."""
    if not settings.CELERY_EMBEDDED_WORKER or _started.is_set():
        return False
    _started.set()
    worker = WorkController(
        app=app,
        pool_cls="solo",
        concurrency=1,
        beat=True,
        without_heartbeat=True,
        without_mingle=True,
        without_gossip=True,
        hostname="embedded@hangar",
    )
    threading.Thread(target=worker.start, name="hangar-embedded-worker", daemon=True).start()
    logger.info("Embedded Celery worker started on %s", settings.CELERY_BROKER_URL)
    return True
