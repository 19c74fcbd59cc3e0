"""The deployer interface: how one revision of an app is started, stopped, woken and observed.

A deployer is chosen by ``settings.DEPLOY_BACKEND``. The services call nothing else, so the local
sandbox deployer, Cloud Run and Kubernetes are interchangeable behind them.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from apps.runtime.spec import LogEntry

if TYPE_CHECKING:
    from apps.deployments.models import Deployment

# The port every app listens on ($PORT), as on Cloud Run.
APP_PORT = 8080


class DeployFailed(Exception):
    """A revision did not become healthy. ``message`` is for the user, ``log`` is the app's output."""

    def __init__(self, message: str, log: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.log = log

    def error_message(self) -> str:
        """What the deployment shows in ``error_message``: the reason, then the app's log."""
        return f"{self.message}\n--- app log ---\n{self.log}" if self.log else self.message


@dataclass
class Revision:
    """A started, healthy revision.

    ``target`` is the base URL Hangar's proxy forwards ``/apps/<service_name>/`` to; ``service_url``
    is set when the platform serves the app at its own URL (Cloud Run), else the proxy URL is used.
    """

    target: str
    state: dict = field(default_factory=dict)
    service_url: str = ""


class Deployer:
    """Starts and stops revisions. Subclasses implement every method that raises here."""

    name = "abstract"
    # True when the platform scales to zero on its own (Cloud Run); Hangar's idle task skips it.
    scales_itself = False

    def start(self, deployment: "Deployment") -> Revision:
        """Start the revision and wait until it answers; raise :class:`DeployFailed` otherwise
        (having cleaned up whatever was started)."""
        raise NotImplementedError

    def stop(self, deployment: "Deployment") -> None:
        """Stop the revision for good; stopping twice is fine."""
        raise NotImplementedError

    def retire(self, deployment: "Deployment") -> None:
        """A newer revision of the same service took over: release this one."""
        self.stop(deployment)

    def sleep(self, deployment: "Deployment") -> None:
        """Scale the revision to zero instances; ``start`` wakes it."""
        self.stop(deployment)

    def is_running(self, deployment: "Deployment") -> tuple[bool, str]:
        """Whether the revision's instances are up, and why not when they are not."""
        raise NotImplementedError

    def logs(self, deployment: "Deployment", *, tail: int = 100) -> list[LogEntry]:
        """The revision's last ``tail`` log entries."""
        raise NotImplementedError


def app_env(deployment: "Deployment") -> dict[str, str]:
    """The environment every app gets: its port and the path prefix it is served under."""
    return {
        "PORT": str(APP_PORT),
        "HANGAR_BASE_PATH": f"/apps/{deployment.service_name}/",
        "PYTHONUNBUFFERED": "1",
    }
