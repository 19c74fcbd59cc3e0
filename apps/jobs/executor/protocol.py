"""What the training process tells its supervisor: one JSON object per stdout line, after a marker.

The training process (``python -m apps.jobs.executor.run <job_id>``) never touches the database or
the channel layer; it prints events, and the supervisor (in the Celery worker) records them and
forwards them to the job's sockets. Lines without the marker (a library printing) become log lines.

Events:

- ``{"event": "node", "node_id", "status": running|completed|failed|skipped, "summary"?, "error"?}``
- ``{"event": "progress", "progress": 0-100, "node_id"?}``
- ``{"event": "log", "node_id"?, "message"}``
- ``{"event": "result", "results": {...}, "artifacts": {"plots": {name: file}, "models": {node_id: file}}}``
"""

import json
import sys
from typing import Any, TextIO

MARKER = "@@hangar-job "


def encode(event: dict[str, Any]) -> str:
    """One event as a line (without the newline)."""
    return MARKER + json.dumps(event, default=str, separators=(",", ":"))


def decode(line: str) -> dict[str, Any] | None:
    """The event on ``line``, or None for a plain output line (or a malformed event)."""
    if not line.startswith(MARKER):
        return None
    try:
        event = json.loads(line[len(MARKER) :])
    except ValueError:
        return None
    return event if isinstance(event, dict) and isinstance(event.get("event"), str) else None


class Emitter:
    """Writes events to the supervisor; flushed at once so progress is live."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def emit(self, event: str, **fields: Any) -> None:
        """Send one event."""
        self.stream.write(encode({"event": event, **fields}) + "\n")
        self.stream.flush()

    def node(self, node_id: str, status: str, **fields: Any) -> None:
        """A node changed status."""
        self.emit("node", node_id=node_id, status=status, **fields)

    def progress(self, progress: float, node_id: str | None = None) -> None:
        """Overall progress, 0 to 100."""
        self.emit("progress", progress=max(0, min(100, int(progress))), node_id=node_id)

    def log(self, message: str, node_id: str | None = None) -> None:
        """A log line for the job (and its node)."""
        self.emit("log", message=message, node_id=node_id)
