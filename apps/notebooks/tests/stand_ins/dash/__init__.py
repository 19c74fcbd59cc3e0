"""Stand-in for dash: reads the prefix settings at construction, as Dash does; ``run`` serves."""

import os

from stand_in_server import serve


class Dash:
    def __init__(self, name: str | None = None, **kwargs: object) -> None:
        self.config = {
            "requests_pathname_prefix": os.environ.get("DASH_REQUESTS_PATHNAME_PREFIX", "/"),
            "routes_pathname_prefix": os.environ.get("DASH_ROUTES_PATHNAME_PREFIX", "/"),
        }

    def run(self, host: str = "127.0.0.1", port: int = 8050, debug: bool = False, **kwargs: object) -> None:
        serve(port, {"host": host, "port": port, "debug": debug, "config": self.config})

    run_server = run
