"""The host side of the in-sandbox agent's protocol (see ``agent/hangar_agent.py``)."""

import asyncio
import contextlib
import json
import socket
import struct

from apps.runtime.errors import RuntimeBackendError

AGENT_SCRIPT_NAME = "hangar_agent.py"


def _unreachable(detail: str) -> RuntimeBackendError:
    return RuntimeBackendError(
        "The workload is not reachable; is it running?", code="WORKLOAD_UNREACHABLE", detail=detail
    )


def call(socket_path: str, request: dict, *, timeout: float = 10) -> dict:
    """Send one request and return the agent's JSON answer."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(socket_path)
            sock.sendall(json.dumps(request).encode() + b"\n")
            with sock.makefile("rb") as answer:
                line = answer.readline()
    except OSError as exc:
        raise _unreachable(f"{socket_path}: {exc}") from exc
    if not line:
        raise _unreachable(f"{socket_path}: closed without an answer")
    body = json.loads(line)
    if not body.get("ok"):
        raise RuntimeBackendError("The workload refused the request", detail=str(body.get("error")))
    return body


class AgentPty:
    """A terminal in a local workload; satisfies ``spec.PtyStream``."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, created: bool) -> None:
        self._reader = reader
        self._writer = writer
        self.created = created
        self.exit_status: int | None = None

    @classmethod
    async def open(cls, socket_path: str, *, session: str, cols: int, rows: int) -> "AgentPty":
        """Connect and attach to (or start) the terminal ``session``."""
        try:
            reader, writer = await asyncio.open_unix_connection(socket_path)
            request = {"op": "pty", "session": session, "cols": cols, "rows": rows}
            writer.write(json.dumps(request).encode() + b"\n")
            await writer.drain()
            answer = json.loads(await asyncio.wait_for(reader.readline(), timeout=10) or b"{}")
        except (OSError, TimeoutError, ValueError) as exc:
            raise _unreachable(f"{socket_path}: {exc}") from exc
        if not answer.get("ok"):
            writer.close()
            raise RuntimeBackendError("Could not open a terminal", detail=str(answer.get("error")))
        return cls(reader, writer, bool(answer.get("created")))

    async def read(self) -> bytes | None:
        """The next output chunk; None once the shell has exited or the agent went away."""
        while True:
            try:
                header = await self._reader.readexactly(5)
                payload = await self._reader.readexactly(struct.unpack(">I", header[1:])[0])
            except (asyncio.IncompleteReadError, ConnectionError):
                return None
            if header[:1] == b"o":
                return payload
            if header[:1] == b"x":
                self.exit_status = int(payload or b"0")
                return None

    async def _send(self, kind: bytes, payload: bytes) -> None:
        try:
            self._writer.write(kind + struct.pack(">I", len(payload)) + payload)
            await self._writer.drain()
        except ConnectionError as exc:
            raise _unreachable(str(exc)) from exc

    async def write(self, data: bytes) -> None:
        """Send keystrokes."""
        await self._send(b"i", data)

    async def resize(self, cols: int, rows: int) -> None:
        """Change the terminal size."""
        await self._send(b"r", f"{int(cols)},{int(rows)}".encode())

    async def close(self) -> None:
        """Detach; the agent keeps the shell for its grace period."""
        self._writer.close()
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()
