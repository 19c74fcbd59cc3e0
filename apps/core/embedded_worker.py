"""The embedded default's Celery worker and beat: threads inside the server process.

They use the in-memory transport, which only the same process can reach, so the server, its
worker and its beat must share a process. Beat therefore runs as a thread here: Celery's own
``beat=True`` option forks a child process, whose in-memory broker no worker ever reads (and
which outlives the server). Production runs ``celery worker`` and ``celery beat`` instead.
"""

import logging
import threading

from celery._state import _set_task_join_will_block
from celery.beat import EmbeddedService
from celery.worker import WorkController
from celery.worker import state as worker_state
from django.conf import settings

from config.celery import app

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_running: dict = {}  # "worker", "thread" and "beat" while the embedded worker runs


def start_embedded_worker() -> bool:
    """Start the worker thread and the beat thread once, when the embedded mode asks for it."""
    if not settings.CELERY_EMBEDDED_WORKER:
        return False
    with _lock:
        if _running:
            return False
        worker = WorkController(
            app=app,
            pool_cls="solo",
            concurrency=1,
            without_heartbeat=True,
            without_mingle=True,
            without_gossip=True,
            hostname="embedded@hangar",
        )
        # Creating the solo pool marks the whole process as "inside a task", where result.get()
        # raises. Here the process is the web server, whose threads are not tasks: undo it, as
        # Celery's own test worker does.
        _set_task_join_will_block(False)
        thread = threading.Thread(target=worker.start, name="hangar-embedded-worker", daemon=True)
        beat = EmbeddedService(
            app,
            thread=True,
            scheduler_cls=app.conf.beat_scheduler,
            schedule_filename=app.conf.beat_schedule_filename,
        )
        thread.start()
        beat.start()
        _running.update(worker=worker, thread=thread, beat=beat)
    logger.info("Embedded Celery worker and beat started on %s", settings.CELERY_BROKER_URL)
    return True


def stop_embedded_worker(timeout: float = 10.0) -> None:
    """Stop beat, then the worker (warm: the running task finishes), and wait for both threads.

    The server never needs this (its threads are daemons); tests and shutdown hooks do.
    """
    with _lock:
        if not _running:
            return
        beat, thread = _running["beat"], _running["thread"]
        # Not beat.stop(): it waits for a "stopped" event that a beat thread which died never sets.
        beat.service.stop(wait=False)
        # The worker's loop polls this flag, which is how Celery's own test worker stops too.
        worker_state.should_terminate = 0
        try:
            beat.join(timeout)
            thread.join(timeout)
        finally:
            worker_state.should_terminate = None
        _running.clear()
        if beat.is_alive() or thread.is_alive():
            raise RuntimeError(f"The embedded Celery worker or beat did not stop within {timeout} s")
