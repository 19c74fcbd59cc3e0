"""What the platform asks a runtime backend to run, and what the backend reports back."""

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class NetworkPolicy(StrEnum):
    """``none``: no network at all. ``egress``: internet, but never the host's loopback services."""

    NONE = "none"
    EGRESS = "egress"


class Phase(StrEnum):
    """A workload's phase, as a backend observes it."""

    PENDING = "pending"
    RUNNING = "running"
    STOPPED = "stopped"
    ERROR = "error"


@dataclass(frozen=True)
class WorkloadSpec:
    """A workload: environments, code sessions, deployments and builds all describe one of these.

    ``workspace`` is the host folder mounted read-write at ``/workspace``; ``command`` is the main
    process (empty means "just keep the sandbox up for terminals and exec").
    """

    id: str
    owner_id: int
    kind: str
    image: str
    workspace: str
    command: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    # Extra read-write folders: sandbox path -> host path (e.g. the user's files).
    mounts: dict[str, str] = field(default_factory=dict)
    # Read-only folders: sandbox path -> host path (e.g. a deployed app's built Python environment).
    ro_mounts: dict[str, str] = field(default_factory=dict)
    cpu: float = 1.0
    memory_bytes: int = 512 * 1024**2
    pids: int = 256
    disk_bytes: int = 10 * 1024**3
    network: NetworkPolicy = NetworkPolicy.NONE
    port: int | None = None
    # Bytes per second of terminal output before the agent throttles it (Judge0-style cap).
    output_rate: int = 0
    # The workload ends when its command exits (a deployed app), instead of staying up for
    # terminals; the exit shows as phase ``error`` with the reason ``Exited with code N``.
    exit_with_command: bool = False

    def as_dict(self) -> dict:
        """A JSON-safe copy, saved with the workload's state."""
        data = asdict(self)
        data["command"] = list(self.command)
        data["network"] = str(self.network)
        return data


@dataclass
class WorkloadStatus:
    """What a backend reports about a workload."""

    phase: Phase
    reason: str = ""
    started_at: datetime | None = None
    host_port: int | None = None


@dataclass
class LogEntry:
    """One log line: ``{"timestamp", "level", "message", "source"}`` as 004 documents."""

    timestamp: datetime
    message: str
    level: str = "INFO"
    source: str = "container"


@dataclass
class Metrics:
    """Resource usage of a running workload, measured."""

    cpu_percent: float
    memory_bytes: int
    memory_limit_bytes: int
    storage_bytes: int
    storage_limit_bytes: int
    pids: int


class PtyStream(Protocol):
    """An open terminal in a workload. ``read`` returns None once the shell has exited."""

    async def read(self) -> bytes | None:
        """The next chunk of terminal output."""

    async def write(self, data: bytes) -> None:
        """Send keystrokes."""

    async def resize(self, cols: int, rows: int) -> None:
        """Change the terminal size."""

    async def close(self) -> None:
        """Detach; the shell keeps running for a grace period so a reconnect can reattach."""
