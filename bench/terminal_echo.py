"""Terminal keystroke echo round trip over the WebSocket, through a real served Hangar.

What is measured: one environment (python-3.11), one terminal socket
``/api/v1/ws/terminal/{id}``; 500 times, send one character as ``{"type": "input"}`` and time
until it comes back in an ``{"type": "output"}`` frame (the shell's line editor echoes it). Every
20 keystrokes the line is cleared with Ctrl-U (not timed), so the shell never wraps long lines.

For comparison (profiling, no target), the same round trip is measured at the runtime level: the
local backend's PTY (``LocalBackend.open_pty``, the agent's unix socket) in this process, without
daphne, Channels or the WebSocket.

Target (issue 3): p50 <= 10 ms.

Usage: ``.venv/bin/python bench/terminal_echo.py [--keys 500]``.
"""

import argparse
import asyncio
import json
import string
import sys
import time
from pathlib import Path

import common  # also makes the repository importable
import websocket
from common import Api, Report

NAME = "terminal_echo"
TARGET_P50_MS = 10.0
# Fewer than 26 keys per line: no letter repeats on a line, and the prompt plus line never wraps.
CLEAR_EVERY = 20
KEYS = string.ascii_lowercase


def wait_running(api: Api, environment_id: str, timeout: float = 60) -> None:
    ok = common.wait_until(
        lambda: api.request("GET", f"/api/v1/environments/{environment_id}")["status"] in ("running", "error"),
        timeout,
        interval=0.05,
    )
    status = api.request("GET", f"/api/v1/environments/{environment_id}")["status"]
    if not ok or status != "running":
        raise RuntimeError(f"environment {environment_id} is {status}")


def drain(sock: websocket.WebSocket, quiet: float = 0.2) -> str:
    """Everything the terminal prints until it has been quiet for ``quiet`` seconds."""
    sock.settimeout(quiet)
    output = ""
    try:
        while True:
            message = json.loads(sock.recv())
            output += message.get("data", "")
    except websocket.WebSocketTimeoutException:
        pass
    finally:
        sock.settimeout(10)
    return output


def websocket_round_trips(api: Api, environment_id: str, keys: int) -> list[float]:
    """Per keystroke: ms from sending the character until an output frame carries it back."""
    sock = websocket.create_connection(api.ws_url(f"/api/v1/ws/terminal/{environment_id}"), timeout=10)
    timings: list[float] = []
    try:
        drain(sock, quiet=0.5)  # the prompt
        for i in range(keys):
            if i and i % CLEAR_EVERY == 0:
                sock.send(json.dumps({"type": "input", "data": "\x15"}))
                drain(sock)
            key = KEYS[i % len(KEYS)]
            began = time.perf_counter()
            sock.send(json.dumps({"type": "input", "data": key}))
            while True:
                message = json.loads(sock.recv())
                if message.get("type") == "output" and key in message["data"]:
                    break
            timings.append(common.ms_since(began))
    finally:
        sock.close()
    return timings


async def _agent_round_trips(environment_id: str, keys: int) -> list[float]:
    from apps.runtime.backends.local import LocalBackend

    pty = await LocalBackend().open_pty(environment_id, session="benchdirect")
    timings: list[float] = []
    try:

        async def read_until(needle: bytes, quiet: float | None = None) -> None:
            while True:
                try:
                    chunk = await asyncio.wait_for(pty.read(), quiet or 10)
                except TimeoutError:
                    if quiet:
                        return
                    raise
                if chunk is None or (needle and needle in chunk):
                    return

        await read_until(b"", quiet=0.5)
        for i in range(keys):
            if i and i % CLEAR_EVERY == 0:
                await pty.write(b"\x15")
                await read_until(b"", quiet=0.2)
            key = KEYS[i % len(KEYS)].encode()
            began = time.perf_counter()
            await pty.write(key)
            await read_until(key)
            timings.append(common.ms_since(began))
    finally:
        await pty.close()
    return timings


def agent_round_trips(runtime_root: Path, environment_id: str, keys: int) -> list[float]:
    """The same round trip on the runtime's PTY directly (agent socket, no WebSocket)."""
    common.django_setup(runtime_root)
    return asyncio.run(_agent_round_trips(environment_id, keys))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--keys", type=int, default=500)
    args = parser.parse_args()
    workdir = common.short_temp_dir("hb-echo-")
    runtime_root = workdir / "rt"
    report = Report(NAME, f"Terminal keystroke echo round trip ({args.keys} keystrokes)")
    over_ws: list[float] = []
    direct: list[float] = []
    try:
        with common.hangar(workdir, runtime_root) as api:
            environment = api.create_environment("echo-bench", api.template_id("python-3.11"))
            try:
                wait_running(api, environment["id"])
                over_ws = websocket_round_trips(api, environment["id"], args.keys)
                direct = agent_round_trips(runtime_root, environment["id"], args.keys)
            finally:
                api.delete_all_environments()
    finally:
        common.django_setup(runtime_root)
        leftovers = common.stop_all_workloads(runtime_root)
        common.remove_tree(workdir)
    report.add_summary("echo over WebSocket", over_ws, "ms", {"p50": TARGET_P50_MS})
    report.add_summary("echo on agent PTY (no WS)", direct, "ms", {})
    report.notes.append("WebSocket path: client -> daphne -> TerminalConsumer -> agent socket -> PTY, and back")
    report.notes.append("agent PTY path: this process -> agent unix socket -> PTY, and back (for comparison)")
    report.data = {
        "websocket_ms": over_ws,
        "agent_pty_ms": direct,
        "websocket": common.summarize(over_ws),
        "agent_pty": common.summarize(direct),
        "leftover_workloads": leftovers,
    }
    report.print()
    report.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
