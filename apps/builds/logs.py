"""A build's log: a text file under the build's folder, and a channel-layer group per build.

Every line is appended to ``BUILDS_ROOT/<build_id>/build.log`` (so the HTTP endpoint and a socket
that connects late can replay it) and sent to the build's group with its line number, so a socket
that joined the group before reading the file can drop the lines it has already sent.
"""

import logging
import threading
from pathlib import Path
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)

# A chatty install must not fill the disk: past this many lines only the last line is kept.
MAX_LINES = 20_000
MAX_LINE_CHARS = 4_000
EVENT_TYPE = "build.event"


def build_dir(build_id: str) -> Path:
    """The host folder of one build: its sources, its workspace and its log."""
    return Path(settings.BUILDS_ROOT) / build_id


def log_path(build_id: str) -> Path:
    """Where the build's log lines are kept."""
    return build_dir(build_id) / "build.log"


def log_group(build_pk: int) -> str:
    """The channel-layer group every log socket of one build joins."""
    return f"build.logs.{build_pk}"


def publish(build_pk: int, message: dict[str, Any]) -> None:
    """Send ``message`` to the build's sockets; best effort, a broken layer never fails a build."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(log_group(build_pk), {"type": EVENT_TYPE, "message": message})
    except Exception:
        logger.warning("Could not publish to the log sockets of build %s", build_pk, exc_info=True)


def read_lines(build_id: str, *, offset: int = 0) -> list[str]:
    """The log's lines from line number ``offset`` (0-based) on; none when there is no log yet."""
    try:
        with log_path(build_id).open(encoding="utf-8", errors="replace") as handle:
            lines = handle.read().split("\n")
    except FileNotFoundError:
        return []
    # The file ends with a newline, so the last element is the empty remainder of a complete file.
    return lines[offset:-1] if len(lines) > offset else []


class BuildLog:
    """Appends lines to one build's log file and its sockets; safe to use from several threads."""

    def __init__(self, *, build_pk: int, build_id: str) -> None:
        self.build_pk = build_pk
        self.build_id = build_id
        self._lock = threading.Lock()
        self._count = len(read_lines(build_id))
        self._truncated = False

    @property
    def count(self) -> int:
        """How many lines the log holds."""
        return self._count

    def write(self, text: str) -> None:
        """Append ``text`` (split into lines) to the file, then send each line to the sockets."""
        for line in text.splitlines() or [""]:
            self._write_line(line.rstrip("\r")[:MAX_LINE_CHARS])

    def _write_line(self, line: str) -> None:
        with self._lock:
            if self._count >= MAX_LINES:
                if self._truncated:
                    return
                self._truncated = True
                line = f"[log truncated after {MAX_LINES} lines]"
            path = log_path(self.build_id)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
            number = self._count
            self._count += 1
        publish(
            self.build_pk,
            {"type": "log", "n": number, "line": line, "timestamp": timezone.now().isoformat()},
        )
