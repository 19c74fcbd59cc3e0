"""002's WebSocket ``/ws``: terminals of code sessions, and small file operations.

Every message names its session by ``sessionId``. A session the caller may not see gets the same
``{"type": "error"}`` answer as an unknown one, and nothing else. The first terminal input starts
the session's sandbox (with progress lines while it starts), then opens its PTY; each socket
reads each session's PTY with one task. Closing the socket only detaches: the shell lives on for
the runtime's grace period, so a reconnect reattaches and replays recent output.

Besides 002's documented messages, ``terminal_resize`` (``cols``, ``rows``) resizes the terminal.
"""

import asyncio
import codecs
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.utils import timezone

from apps.core.consumers import AuthenticatedJsonConsumer
from apps.core.errors import ErrorCode, HangarError
from apps.runtime import registry
from apps.runtime.errors import RuntimeBackendError
from apps.runtime.spec import PtyStream
from apps.workspaces import presence, selectors, services
from apps.workspaces.models import CodeSession

logger = logging.getLogger(__name__)

FORBIDDEN_CLOSE_CODE = 4403
BAD_REQUEST_CLOSE_CODE = 4400
MAX_INPUT_CHARS = 64 * 1024
# Terminal activity postpones the idle shutdown; writing it on every keystroke would be wasteful.
ACTIVITY_WRITE_INTERVAL_SECONDS = 30
PROGRESS_INTERVAL_SECONDS = 1.0
DEFAULT_COLS, DEFAULT_ROWS = 80, 24


@dataclass
class Terminal:
    """One open PTY of a session on this socket, and the task that forwards its output."""

    stream: PtyStream
    reader: asyncio.Task


def _now() -> str:
    return timezone.now().isoformat()


def _session_ready(session: CodeSession) -> bool:
    session.refresh_from_db()
    return selectors.session_container_ready(session=session)


class CodeSessionConsumer(AuthenticatedJsonConsumer):
    """``/ws``: ``terminal_input``, ``touch``, ``rm``, ``sync_files`` (and ``terminal_resize``)."""

    owner_id: int | None = None

    async def connect(self) -> None:
        """Refuse a ``user_id`` naming someone else (4403) before the usual auth and socket limit."""
        user = self.scope.get("user")
        query = parse_qs(self.scope.get("query_string", b"").decode())
        raw_user_id = (query.get("user_id") or [None])[0]
        if raw_user_id and user is not None and user.is_authenticated:
            try:
                self.owner_id = await database_sync_to_async(selectors.owner_id_for)(user=user, user_id=raw_user_id)
            except HangarError as exc:
                # Accept, then close with a code, like the base class: a refused handshake only
                # shows the client a bare 403.
                await self.accept()
                await self.close(code=FORBIDDEN_CLOSE_CODE if exc.status_code == 403 else BAD_REQUEST_CLOSE_CODE)
                return
        await super().connect()

    async def on_connect(self) -> None:
        self.terminals: dict[str, Terminal] = {}
        self.terminal_locks: dict[str, asyncio.Lock] = {}
        self.sizes: dict[str, tuple[int, int]] = {}
        self.activity_written: dict[str, float] = {}
        await self.send_json(
            {"type": "connection_established", "message": "WebSocket connected successfully", "timestamp": _now()}
        )

    async def on_disconnect(self) -> None:
        for key in list(self.terminals):
            await self._close_terminal(key)

    # --- Framing ---------------------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        """Decode JSON ourselves: bad JSON answers an error instead of dropping the socket."""
        if text_data is None:
            await self._error(None, "Send JSON text frames", ErrorCode.BAD_REQUEST)
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self._error(None, "Malformed JSON", ErrorCode.MALFORMED_JSON)
            return
        await self.receive_json(content)

    async def on_message(self, content: Any) -> None:
        if not isinstance(content, dict):
            await self._error(None, "Messages must be JSON objects", ErrorCode.BAD_REQUEST)
            return
        kind = content.get("type")
        handler = self.handlers.get(kind) if isinstance(kind, str) else None
        raw_id = content.get("sessionId")
        session_id = raw_id if isinstance(raw_id, str) and len(raw_id) <= 64 else None
        if handler is None:
            await self._error(session_id, "Unknown message type", ErrorCode.BAD_REQUEST)
            return
        session = await self._session(session_id)
        if session is None:
            await self._error(session_id, selectors.SESSION_NOT_FOUND, ErrorCode.NOT_FOUND)
            return
        await handler(self, session, content)

    @database_sync_to_async
    def _session(self, session_id: str | None) -> CodeSession | None:
        if not session_id:
            return None
        try:
            return selectors.session_get(user=self.user, session_id=session_id, user_id=self.owner_id)
        except HangarError:
            return None

    async def _error(self, session_id: str | None, detail: str, code: str) -> None:
        message: dict[str, Any] = {"type": "error", "error_code": code, "detail": detail, "message": detail}
        if session_id is not None:
            message["sessionId"] = session_id
        await self.send_json(message)

    async def _send(self, kind: str, session_id: str, **fields: Any) -> None:
        await self.send_json({"type": kind, "sessionId": session_id, **fields, "timestamp": _now()})

    # --- terminal_input ----------------------------------------------------------------------------

    async def handle_terminal_input(self, session: CodeSession, content: dict) -> None:
        """Send ``input`` to the session's terminal, starting the sandbox the first time."""
        key = str(session.id)
        data = content.get("input")
        if not isinstance(data, str) or len(data) > MAX_INPUT_CHARS:
            await self._error(key, f"input must be a string of at most {MAX_INPUT_CHARS} characters", "BAD_REQUEST")
            return
        try:
            terminal = await self._terminal(session)
        except HangarError as exc:
            await self._error(key, str(exc.detail), exc.error_code)
            return
        except RuntimeBackendError as exc:
            logger.warning("Terminal of session %s failed: %s", key, exc.detail)
            await self._error(key, exc.user_message, exc.code)
            return
        try:
            await terminal.stream.write(data.encode("utf-8"))
        except Exception:
            # The shell or its sandbox went away under us; the next input opens a fresh one.
            logger.warning("Writing to the terminal of session %s failed", key, exc_info=True)
            await self._close_terminal(key)
            await self._error(key, "The terminal was lost; send the input again", "TERMINAL_LOST")
            return
        await self._note_activity(session)

    async def _terminal(self, session: CodeSession) -> Terminal:
        """This socket's PTY of the session, starting the sandbox and opening the PTY as needed."""
        key = str(session.id)
        async with self.terminal_locks.setdefault(key, asyncio.Lock()):
            terminal = self.terminals.get(key)
            if terminal is not None and not terminal.reader.done():
                return terminal
            if not await database_sync_to_async(_session_ready)(session):
                await self._start_with_progress(session)
            cols, rows = self.sizes.get(key, (DEFAULT_COLS, DEFAULT_ROWS))
            stream = await registry.get_backend().open_pty(session.workload_id, session=key, cols=cols, rows=rows)
            terminal = Terminal(stream=stream, reader=asyncio.create_task(self._pump(key, stream)))
            self.terminals[key] = terminal
            await presence.attach(key)
            return terminal

    async def _start_with_progress(self, session: CodeSession) -> None:
        key = str(session.id)
        began = time.monotonic()

        async def progress() -> None:
            while True:
                elapsed = int(time.monotonic() - began)
                await self._send("terminal_output", key, output=f"⏳ Initializing environment... ({elapsed}s)")
                await asyncio.sleep(PROGRESS_INTERVAL_SECONDS)

        ticker = asyncio.create_task(progress())
        try:
            # Not thread-sensitive: a slow start must not hold up every other socket's database calls.
            await database_sync_to_async(services.session_workload_start, thread_sensitive=False)(session_id=session.id)
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
            await self._send("terminal_clear_progress", key)
        await self._send("pod_ready", key)

    async def _pump(self, key: str, stream: PtyStream) -> None:
        """Forward PTY output until the shell exits; a multi-byte character may span two reads."""
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        exited = False
        try:
            while True:
                chunk = await stream.read()
                if chunk is None:
                    exited = True
                    break
                text = decoder.decode(chunk)
                if text:
                    await self._send("terminal_output", key, output=text)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("Terminal stream of session %s failed", key)
            exited = True
        finally:
            if exited and self.terminals.get(key) is not None and self.terminals[key].stream is stream:
                del self.terminals[key]
                await presence.detach(key)
        await self._send("terminal_output", key, output="\r\n[The shell exited; type to start a new one]\r\n")

    async def _close_terminal(self, key: str) -> None:
        terminal = self.terminals.pop(key, None)
        if terminal is None:
            return
        terminal.reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await terminal.reader
        try:
            await terminal.stream.close()
        except Exception:
            logger.exception("Could not detach the terminal of session %s", key)
        await presence.detach(key)

    async def _note_activity(self, session: CodeSession) -> None:
        key = str(session.id)
        now = time.monotonic()
        if now - self.activity_written.get(key, float("-inf")) < ACTIVITY_WRITE_INTERVAL_SECONDS:
            return
        self.activity_written[key] = now
        await database_sync_to_async(services.session_activity_touch)(session_id=session.id)

    # --- terminal_resize (an addition to 002) ------------------------------------------------------

    async def handle_terminal_resize(self, session: CodeSession, content: dict) -> None:
        """Resize the open terminal, or remember the size for the next one opened."""
        key = str(session.id)
        cols, rows = content.get("cols"), content.get("rows")
        valid = all(isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 1000 for n in (cols, rows))
        if not valid:
            await self._error(key, "cols and rows must be integers from 1 to 1000", ErrorCode.BAD_REQUEST)
            return
        self.sizes[key] = (cols, rows)
        terminal = self.terminals.get(key)
        if terminal is not None:
            await terminal.stream.resize(cols, rows)

    # --- Files ---------------------------------------------------------------------------------------

    async def _file_operation(
        self, session: CodeSession, content: dict, reply: str, operation: Callable[..., Any], done: str
    ) -> None:
        key = str(session.id)
        filename = content.get("filename")
        if not isinstance(filename, str) or not filename:
            await self._send_file_reply(reply, key, False, filename, "filename is required")
            return
        try:
            await database_sync_to_async(operation)(session=session, path=filename)
        except HangarError as exc:
            await self._send_file_reply(reply, key, False, filename, str(exc.detail))
            return
        except OSError:
            logger.exception("File operation on session %s failed", key)
            await self._send_file_reply(reply, key, False, filename, f"Could not change '{filename}'")
            return
        await self._send_file_reply(reply, key, True, filename, f"File '{filename}' {done} successfully")

    async def _send_file_reply(self, kind: str, key: str, success: bool, filename: Any, message: str) -> None:
        await self.send_json(
            {"type": kind, "sessionId": key, "success": success, "filename": filename, "message": message}
        )

    async def handle_touch(self, session: CodeSession, content: dict) -> None:
        """Create ``filename`` (empty) in the workspace unless it exists."""
        await self._file_operation(session, content, "touch_response", services.session_file_touch, "created")

    async def handle_rm(self, session: CodeSession, content: dict) -> None:
        """Remove ``filename`` from the workspace."""
        await self._file_operation(session, content, "rm_response", services.session_file_delete, "removed")

    async def handle_sync_files(self, session: CodeSession, content: dict) -> None:
        """Answer truthfully that there is nothing to sync."""
        # The workspace folder is bind-mounted at /workspace: nothing needs copying, ever.
        await self.send_json(
            {
                "type": "sync_response",
                "sessionId": str(session.id),
                "success": True,
                "message": "Files are already in sync: the workspace folder is mounted in the sandbox",
            }
        )

    handlers: dict[str, Callable[["CodeSessionConsumer", CodeSession, dict], Awaitable[None]]] = {
        "terminal_input": handle_terminal_input,
        "terminal_resize": handle_terminal_resize,
        "touch": handle_touch,
        "rm": handle_rm,
        "sync_files": handle_sync_files,
    }
