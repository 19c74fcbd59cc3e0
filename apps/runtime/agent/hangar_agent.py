"""Hangar's in-sandbox agent: the main process of every local workload.

It runs inside the bubblewrap sandbox under the system's python3, with the standard library only.
It listens on a unix socket in the run folder that the host bind-mounts at ``/run/hangar``, so any
Hangar process (web server, worker, reconciler) can reach it, and it owns what must outlive any
one of them: the workload's main command and its terminal sessions.

Protocol: a client connects and sends one JSON line, the request.
- ``{"op": "ping"}`` answers ``{"ok": true}``.
- ``{"op": "exec", "argv": [...], "timeout": s, "log_source": "installation"}`` runs a command
  and answers ``{"ok": true, "exit_code": n, "output": "..."}``; with ``log_source`` each output
  line is also written to the workload log.
- ``{"op": "pty", "session": name, "cols": c, "rows": r}`` opens the terminal ``name`` or
  reattaches to it, answers ``{"ok": true, "created": bool}``, then the connection carries
  frames: one type byte, a 4-byte big-endian length, the payload. The client sends ``i`` (input)
  and ``r`` (``"cols,rows"``); the agent sends ``o`` (output; the first one replays recent
  output) and ``x`` (the shell's exit status) before closing.
A terminal with no client attached is killed after the grace period.
"""

import argparse
import collections
import contextlib
import fcntl
import json
import os
import pty
import signal
import socket
import struct
import subprocess
import sys
import termios
import threading
import time

REPLAY_BYTES = 64 * 1024
READ_CHUNK = 16 * 1024


class Agent:
    """The agent's state: configuration, terminal sessions and the log file."""

    def __init__(self, run_dir: str) -> None:
        self.run_dir = run_dir
        with open(os.path.join(run_dir, "config.json")) as handle:
            self.config = json.load(handle)
        self.env = {**self.config.get("env", {})}
        self.grace = float(self.config.get("grace_seconds", 300))
        self.output_rate = int(self.config.get("output_rate", 0))
        self.sessions: dict[str, Session] = {}
        self.lock = threading.Lock()
        self.log_lock = threading.Lock()

    def log(self, message: str, *, source: str = "container", level: str = "INFO") -> None:
        """Append one JSON line to the workload log, which the host reads."""
        line = {"timestamp": time.time(), "level": level, "source": source, "message": message}
        with self.log_lock, open(os.path.join(self.run_dir, "workload.log"), "a") as handle:
            handle.write(json.dumps(line) + "\n")

    def touch_activity(self) -> None:
        """Record user activity; the reconciler reads the file's time for idle shutdown."""
        path = os.path.join(self.run_dir, "activity")
        with open(path, "a"):
            os.utime(path)

    def session(self, name: str, cols: int, rows: int) -> tuple["Session", bool]:
        """The terminal ``name``, started if it is not running."""
        with self.lock:
            existing = self.sessions.get(name)
            if existing is not None and existing.alive:
                return existing, False
            created = Session(self, name, cols, rows)
            self.sessions[name] = created
            return created, True

    def reap_idle_sessions(self) -> None:
        """Kill terminals nobody has been attached to for longer than the grace period."""
        while True:
            time.sleep(min(self.grace, 5))
            now = time.monotonic()
            with self.lock:
                for name, session in list(self.sessions.items()):
                    if not session.alive:
                        self.sessions.pop(name, None)
                    elif not session.clients and now - session.detached_at > self.grace:
                        session.kill()
                        self.sessions.pop(name, None)


class Session:
    """One terminal: a shell on a PTY, its recent output, and the clients attached to it."""

    def __init__(self, agent: Agent, name: str, cols: int, rows: int) -> None:
        self.agent = agent
        self.name = name
        self.replay: collections.deque[bytes] = collections.deque()
        self.replay_size = 0
        self.clients: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.detached_at = time.monotonic()
        self.alive = True
        self.exit_status = 0
        shell = "/bin/bash" if os.path.exists("/bin/bash") else "/bin/sh"
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: become the shell
            os.chdir("/workspace")
            os.execve(shell, [shell, "-l"], {**os.environ, **agent.env, "TERM": "xterm-256color"})
        self.resize(cols, rows)
        threading.Thread(target=self._pump, daemon=True).start()

    def resize(self, cols: int, rows: int) -> None:
        """Set the terminal size (TIOCSWINSZ); the shell gets SIGWINCH."""
        size = struct.pack("HHHH", max(1, min(rows, 1000)), max(1, min(cols, 1000)), 0, 0)
        with contextlib.suppress(OSError):
            fcntl.ioctl(self.fd, termios.TIOCSWINSZ, size)

    def write(self, data: bytes) -> None:
        """Type into the terminal."""
        with contextlib.suppress(OSError):
            os.write(self.fd, data)

    def attach(self, client: socket.socket) -> None:
        """Add a client and send it the recent output first."""
        with self.lock:
            backlog = b"".join(self.replay)
            self.clients.add(client)
        if backlog:
            send_frame(client, b"o", backlog)

    def detach(self, client: socket.socket) -> None:
        """Remove a client; the shell keeps running for the grace period."""
        with self.lock:
            self.clients.discard(client)
            if not self.clients:
                self.detached_at = time.monotonic()

    def kill(self) -> None:
        """End the shell and everything it started in its process group."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)

    def _pump(self) -> None:
        """Copy terminal output to the replay buffer and every client, at the allowed rate."""
        budget_started, sent = time.monotonic(), 0
        while True:
            try:
                chunk = os.read(self.fd, READ_CHUNK)
            except OSError:
                chunk = b""
            if not chunk:
                break
            self._remember(chunk)
            self._broadcast(b"o", chunk)
            if self.agent.output_rate:
                # Throttle: the shell blocks on a full PTY while we sleep, as Judge0 caps output.
                sent += len(chunk)
                ahead = sent / self.agent.output_rate - (time.monotonic() - budget_started)
                if ahead > 0:
                    time.sleep(ahead)
        _pid, status = os.waitpid(self.pid, 0)
        self.exit_status = os.waitstatus_to_exitcode(status)
        self.alive = False
        self._broadcast(b"x", str(self.exit_status).encode())
        with self.lock:
            for client in self.clients:
                with contextlib.suppress(OSError):
                    client.shutdown(socket.SHUT_RDWR)
        os.close(self.fd)

    def _remember(self, chunk: bytes) -> None:
        with self.lock:
            self.replay.append(chunk)
            self.replay_size += len(chunk)
            while self.replay_size > REPLAY_BYTES and len(self.replay) > 1:
                self.replay_size -= len(self.replay.popleft())

    def _broadcast(self, kind: bytes, payload: bytes) -> None:
        with self.lock:
            clients = list(self.clients)
        for client in clients:
            try:
                send_frame(client, kind, payload)
            except OSError:
                self.detach(client)


def send_frame(sock: socket.socket, kind: bytes, payload: bytes) -> None:
    """One frame: type byte, big-endian length, payload."""
    sock.sendall(kind + struct.pack(">I", len(payload)) + payload)


def recv_exact(sock: socket.socket, size: int) -> bytes | None:
    """Exactly ``size`` bytes, or None when the peer closed."""
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def read_request(sock: socket.socket) -> dict:
    """The first line of a connection, as JSON."""
    line = b""
    while not line.endswith(b"\n"):
        chunk = sock.recv(1)
        if not chunk:
            raise ValueError("connection closed before the request")
        line += chunk
        if len(line) > 65536:
            raise ValueError("request too long")
    return json.loads(line)


def reply(sock: socket.socket, body: dict) -> None:
    """Answer a request with one JSON line."""
    sock.sendall(json.dumps(body).encode() + b"\n")


def handle_exec(agent: Agent, sock: socket.socket, request: dict) -> None:
    """Run a command to completion in the sandbox and answer its exit code and output."""
    source = request.get("log_source")
    try:
        process = subprocess.Popen(
            request["argv"],
            cwd="/workspace",
            env={**os.environ, **agent.env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        reply(sock, {"ok": True, "exit_code": 127, "output": f"{exc}\n"})
        return
    output: list[str] = []
    reader = threading.Thread(target=_collect, args=(agent, process, output, source), daemon=True)
    reader.start()
    try:
        exit_code = process.wait(timeout=float(request.get("timeout", 600)))
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        exit_code = process.wait()
    # Background children may keep the pipe open forever; the command itself is what we wait for.
    reader.join(0.5)
    reply(sock, {"ok": True, "exit_code": exit_code, "output": "".join(output)[-1024 * 1024 :]})


def _collect(agent: Agent, process: subprocess.Popen, output: list[str], source: str | None) -> None:
    """Gather a command's output (and log it under ``source`` when given)."""
    for raw in process.stdout:
        line = raw.decode(errors="replace")
        output.append(line)
        if source:
            agent.log(line.rstrip("\n"), source=source)


def handle_pty(agent: Agent, sock: socket.socket, request: dict) -> None:
    """Attach the connection to a terminal and relay frames until either side goes away."""
    session, created = agent.session(
        str(request.get("session", "main")), int(request.get("cols", 80)), int(request.get("rows", 24))
    )
    reply(sock, {"ok": True, "created": created})
    session.attach(sock)
    try:
        while session.alive:
            header = recv_exact(sock, 5)
            if header is None:
                break
            kind, size = header[:1], struct.unpack(">I", header[1:])[0]
            payload = recv_exact(sock, size) if size else b""
            if payload is None:
                break
            if kind == b"i":
                session.write(payload)
                agent.touch_activity()
            elif kind == b"r":
                cols, rows = (int(n) for n in payload.decode().split(","))
                session.resize(cols, rows)
    except (OSError, ValueError):
        pass
    finally:
        session.detach(sock)


def serve_connection(agent: Agent, sock: socket.socket) -> None:
    """Dispatch one connection by its request's ``op``."""
    with sock:
        try:
            request = read_request(sock)
            op = request.get("op")
            if op == "ping":
                reply(sock, {"ok": True, "pid": os.getpid()})
            elif op == "exec":
                handle_exec(agent, sock, request)
            elif op == "pty":
                handle_pty(agent, sock, request)
            else:
                reply(sock, {"ok": False, "error": f"unknown op {op!r}"})
        except (OSError, ValueError, KeyError) as exc:
            with contextlib.suppress(OSError):
                reply(sock, {"ok": False, "error": str(exc)})


def run_main_command(agent: Agent) -> None:
    """Run the workload's main command, logging its output line by line."""
    command = agent.config.get("command") or []
    if not command:
        return
    agent.log(f"Starting: {' '.join(command)}", source="agent")
    try:
        process = subprocess.Popen(
            command, cwd="/workspace", env={**os.environ, **agent.env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
    except OSError as exc:
        agent.log(f"Could not start the command: {exc}", source="agent", level="ERROR")
        return
    for raw in process.stdout:
        agent.log(raw.decode(errors="replace").rstrip("\n"))
    code = process.wait()
    agent.log(f"Command exited with status {code}", source="agent")
    if agent.config.get("exit_with_command"):
        # The workload is the command (a deployed app): end the sandbox with its status, so the
        # host sees it exit as a container would.
        os._exit(code if code >= 0 else 128 - code)


def main() -> None:
    """Start listening, then the main command, then serve connections forever."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--run-dir", default="/run/hangar")
    args = parser.parse_args()
    agent = Agent(args.run_dir)
    socket_path = os.path.join(args.run_dir, "agent.sock")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(socket_path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(socket_path)
    server.listen(64)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    threading.Thread(target=agent.reap_idle_sessions, daemon=True).start()
    threading.Thread(target=run_main_command, args=(agent,), daemon=True).start()
    agent.log("Agent ready", source="agent")
    while True:
        client, _address = server.accept()
        threading.Thread(target=serve_connection, args=(agent, client), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
