"""004's sockets: ``/api/v1/ws/terminal/{id}`` (an interactive shell in the environment) and
``/api/v1/ws/logs/{id}`` (installation progress, then live logs). Owner only: another user's or an
unknown id is accepted and then closed with 4404."""

import asyncio
import codecs
import contextlib
import json
import logging
import re
import time
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async

from apps.core.consumers import AuthenticatedJsonConsumer
from apps.core.errors import NotFound
from apps.environments import selectors, streams
from apps.environments.models import Environment
from apps.environments.services.environments import environment_touch
from apps.runtime import registry
from apps.runtime.errors import RuntimeBackendError

logger = logging.getLogger(__name__)

NOT_FOUND_CLOSE_CODE = 4404
NOT_RUNNING_CLOSE_CODE = 4409
BAD_REQUEST_CLOSE_CODE = 4400
# Terminal input refreshes last_activity at most this often, so typing is not a write per key.
ACTIVITY_THROTTLE_SECONDS = 30
_SESSION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_MAX_TERMINAL_SIZE = 1000
_INSTALLATION_REPLAY_LINES = 500


@database_sync_to_async
def _owned_environment(user: Any, environment_id: str) -> Environment | None:
    try:
        return selectors.environment_get(user=user, environment_id=environment_id)
    except NotFound:
        return None


@database_sync_to_async
def _touch(environment: Environment) -> None:
    environment_touch(environment=environment)


def _query(scope: dict) -> dict[str, str]:
    parsed = parse_qs(scope.get("query_string", b"").decode(errors="replace"))
    return {key: values[0] for key, values in parsed.items() if values}


def _error(detail: str, code: str = "BAD_REQUEST") -> dict[str, str]:
    return {"type": "error", "error_code": code, "detail": detail}


class _EnvironmentSocket(AuthenticatedJsonConsumer):
    """Resolves ``{id}`` to one of the caller's environments once the base class has authenticated
    the socket; never crashes on malformed frames.

    Like the base class it accepts first and then closes with a code (4404, 4409, 4400), because a
    refused handshake only shows the browser a bare 403.
    """

    environment: Environment | None = None

    async def on_connect(self) -> None:
        environment_id = self.scope["url_route"]["kwargs"]["environment_id"]
        self.environment = await _owned_environment(self.user, environment_id)
        if self.environment is None:
            await self.close(code=NOT_FOUND_CLOSE_CODE)
            return
        refusal = self.refuse(self.environment)
        if refusal is not None:
            await self.close(code=refusal)
            return
        await self.on_environment_connect()

    async def on_environment_connect(self) -> None:
        """Called once the socket is accepted for one of the caller's environments."""

    def refuse(self, environment: Environment) -> int | None:
        """A close code when this socket cannot serve ``environment``, else None."""
        return None

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if text_data is None:
            await self.send_json(_error("Send JSON text frames"))
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self.send_json(_error("Malformed JSON", "MALFORMED_JSON"))
            return
        if not isinstance(content, dict):
            await self.send_json(_error("Messages are JSON objects with a 'type'"))
            return
        await self.receive_json(content)


class TerminalConsumer(_EnvironmentSocket):
    """A shell in the environment. Closing the socket detaches; the shell survives for the
    runtime's grace period, and reconnecting to the same ``?session=`` reattaches and replays."""

    pty = None
    reader_task: asyncio.Task | None = None
    _last_touch = 0.0

    def refuse(self, environment: Environment) -> int | None:
        if environment.status != Environment.Status.RUNNING:
            return NOT_RUNNING_CLOSE_CODE
        if not _SESSION_NAME.match(_query(self.scope).get("session", "main")):
            return BAD_REQUEST_CLOSE_CODE
        return None

    async def on_environment_connect(self) -> None:
        query = _query(self.scope)
        cols, rows = _size(query.get("cols"), 80), _size(query.get("rows"), 24)
        try:
            self.pty = await registry.get_backend().open_pty(
                self.environment.id, session=query.get("session", "main"), cols=cols, rows=rows
            )
        except RuntimeBackendError as exc:
            await self.send_json(_error(exc.user_message, exc.code))
            await self.close(code=NOT_RUNNING_CLOSE_CODE)
            return
        self.reader_task = asyncio.create_task(self._pump_output())
        await self._touch()

    async def _pump_output(self) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        try:
            while True:
                chunk = await self.pty.read()
                if chunk is None:
                    break
                text = decoder.decode(chunk)
                if text:
                    await self.send_json({"type": "output", "data": text})
            await self.send_json({"type": "exit", "exit_status": getattr(self.pty, "exit_status", None)})
            await self.close()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.warning("Terminal output of %s failed", self.environment.id, exc_info=True)
            with contextlib.suppress(Exception):
                await self.close()

    async def _touch(self) -> None:
        now = time.monotonic()
        if now - self._last_touch >= ACTIVITY_THROTTLE_SECONDS:
            self._last_touch = now
            await _touch(self.environment)

    async def on_message(self, content: dict) -> None:
        kind = content.get("type")
        if self.pty is None:
            await self.send_json(_error("The terminal is not open", "CONFLICT"))
        elif kind == "input":
            data = content.get("data")
            if not isinstance(data, str):
                await self.send_json(_error("'input' needs a string 'data'"))
                return
            await self._send_to_pty(self.pty.write(data.encode("utf-8")))
            await self._touch()
        elif kind == "resize":
            cols, rows = content.get("cols"), content.get("rows")
            if not (_valid_size(cols) and _valid_size(rows)):
                await self.send_json(_error(f"'resize' needs integer cols and rows from 1 to {_MAX_TERMINAL_SIZE}"))
                return
            await self._send_to_pty(self.pty.resize(cols, rows))
        else:
            await self.send_json(_error(f"Unknown message type: {kind!r}"))

    async def _send_to_pty(self, operation: Any) -> None:
        try:
            await operation
        except RuntimeBackendError as exc:
            await self.send_json(_error(exc.user_message, exc.code))

    async def on_disconnect(self) -> None:
        if self.reader_task is not None:
            self.reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.reader_task
        if self.pty is not None:
            with contextlib.suppress(Exception):
                await self.pty.close()
            self.pty = None


def _valid_size(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= _MAX_TERMINAL_SIZE


def _size(raw: str | None, default: int) -> int:
    try:
        value = int(raw) if raw else default
    except ValueError:
        return default
    return value if 1 <= value <= _MAX_TERMINAL_SIZE else default


@database_sync_to_async
def _installation_replay(environment_id: str) -> tuple[Environment | None, list[dict]]:
    environment = Environment.objects.filter(pk=environment_id).first()
    if environment is None:
        return None, []
    lines = selectors.environment_installation_lines(environment=environment, limit=_INSTALLATION_REPLAY_LINES)
    return environment, [line.as_log() for line in lines]


class LogsConsumer(_EnvironmentSocket):
    """Replays the installation status and output, then forwards live installation messages and
    the runtime's log entries as ``{"type": "log", ...}``."""

    follow_task: asyncio.Task | None = None
    group: str | None = None

    async def on_environment_connect(self) -> None:
        self.group = streams.logs_group(self.environment.id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        environment, lines = await _installation_replay(self.environment.id)
        if environment is None:
            await self.close(code=NOT_FOUND_CLOSE_CODE)
            return
        base = {"environment_id": environment.id}
        await self.send_json(
            {
                "type": streams.INSTALLATION_STATUS,
                **base,
                "status": environment.status,
                "reason": environment.status_reason,
                "installation_completed": environment.installation_completed,
                "replay": True,
            }
        )
        for line in lines:
            await self.send_json({"type": streams.INSTALLATION_LOG, **base, **line, "replay": True})
        if environment.installation_completed:
            await self.send_json({"type": streams.INSTALLATION_COMPLETE, **base, "replay": True})
        elif environment.status == Environment.Status.ERROR:
            await self.send_json(
                {"type": streams.INSTALLATION_ERROR, **base, "message": environment.status_reason, "replay": True}
            )
        if environment.status == Environment.Status.RUNNING:
            self._follow()

    def _follow(self) -> None:
        if self.follow_task is None or self.follow_task.done():
            self.follow_task = asyncio.create_task(self._forward_runtime_logs())

    async def _forward_runtime_logs(self) -> None:
        try:
            async for entry in registry.get_backend().follow_logs(self.environment.id):
                await self.send_json(
                    {
                        "type": "log",
                        "timestamp": entry.timestamp.isoformat(),
                        "level": entry.level,
                        "message": entry.message,
                        "source": entry.source,
                    }
                )
        except asyncio.CancelledError:
            raise
        except RuntimeBackendError as exc:
            await self.send_json(_error(exc.user_message, exc.code))
        except Exception:
            logger.warning("Following the logs of %s failed", self.environment.id, exc_info=True)

    async def environment_event(self, event: dict) -> None:
        """A lifecycle or installation message published by the services to this environment's group."""
        message = event.get("message") or {}
        await self.send_json(message)
        if message.get("type") == streams.INSTALLATION_STATUS and message.get("status") == Environment.Status.RUNNING:
            self._follow()

    async def on_message(self, content: dict) -> None:
        await self.send_json(_error(f"Unknown message type: {content.get('type')!r}"))

    async def on_disconnect(self) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
        if self.follow_task is not None:
            self.follow_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.follow_task
