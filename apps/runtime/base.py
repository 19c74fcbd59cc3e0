"""The runtime backend interface. Every backend implements it; the platform uses nothing else.

Modelled on JupyterHub's Spawner: the required methods are checked when a subclass is defined,
the backend keeps what it needs to reattach as JSON state, and every failure is raised as
:class:`~apps.runtime.errors.RuntimeBackendError`.
"""

from collections.abc import AsyncIterator
from datetime import datetime

from apps.runtime.spec import LogEntry, Metrics, PtyStream, WorkloadSpec, WorkloadStatus

REQUIRED_METHODS = (
    "check_image",
    "start",
    "stop",
    "status",
    "logs",
    "follow_logs",
    "open_pty",
    "exec",
    "metrics",
    "list_workloads",
)


class RuntimeBackend:
    """Runs workloads. Subclasses must define every method named in ``REQUIRED_METHODS``."""

    name = "abstract"

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        missing = [m for m in REQUIRED_METHODS if getattr(cls, m) is getattr(RuntimeBackend, m)]
        if missing:
            raise TypeError(f"{cls.__name__} must implement: {', '.join(missing)}")

    def check_image(self, image: str) -> None:
        """Raise ``ImageUnavailable`` unless this backend can run ``image``. Called at create time."""

    def start(self, spec: WorkloadSpec) -> dict:
        """Start the workload and return its JSON state (enough to reattach after a restart)."""

    def stop(self, workload_id: str) -> None:
        """Stop the workload; afterwards none of its processes remain. Stopping twice is fine."""

    def describe(self) -> dict:
        """How this backend isolates workloads, for /health (never silently unisolated)."""
        return {"backend": self.name}

    def restart(self, spec: WorkloadSpec) -> dict:
        """Stop, then start again with the same workspace."""
        self.stop(spec.id)
        return self.start(spec)

    def status(self, workload_id: str) -> WorkloadStatus:
        """The workload's phase now, with a reason when it stopped on its own (e.g. ``OOMKilled``)."""

    def logs(self, workload_id: str, *, tail: int = 100, since: datetime | None = None) -> list[LogEntry]:
        """The last ``tail`` log entries, optionally only those after ``since``."""

    def follow_logs(self, workload_id: str) -> AsyncIterator[LogEntry]:
        """New log entries as they are written, until the workload stops."""

    async def open_pty(self, workload_id: str, *, session: str, cols: int = 80, rows: int = 24) -> PtyStream:
        """Open the terminal ``session`` in the workload, or reattach to it (replaying recent output)."""

    def exec(self, workload_id: str, argv: list[str], *, timeout: float = 600) -> tuple[int, str]:
        """Run a command in the workload and return its exit code and combined output."""

    def metrics(self, workload_id: str) -> Metrics:
        """Measured CPU, memory, storage and process count."""

    def list_workloads(self) -> list[str]:
        """The ids of every workload this backend is running, for reconciliation."""
