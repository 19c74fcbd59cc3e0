"""The builder interface: what turns a build's generated sources into something deployable.

A builder is handed a build whose sources are already written to ``build.source_path`` and the
build's :class:`~apps.builds.logs.BuildLog`. It runs to completion and reports a
:class:`BuildResult`; it never changes the build's status itself (the service does, in one place).
"""

from collections.abc import Callable
from dataclasses import dataclass

from apps.builds.logs import BuildLog
from apps.builds.models import Build


@dataclass
class BuildResult:
    """The outcome of one build. ``error_message`` is what the user sees when ``ok`` is False."""

    ok: bool
    error_message: str = ""
    cache_key: str = ""
    cache_hit: bool = False
    env_path: str = ""
    image_name: str = ""
    external_id: str = ""
    external_log_url: str = ""


# Called with (external_id, external_log_url) as soon as a remote builder knows them.
ExternalCallback = Callable[[str, str], None]


class Builder:
    """Builds one notebook's sources. Subclasses set ``name`` and implement both methods."""

    name = "abstract"

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        missing = [m for m in ("image_name", "build") if getattr(cls, m) is getattr(Builder, m)]
        if missing:
            raise TypeError(f"{cls.__name__} must implement: {', '.join(missing)}")

    def image_name(self, build: Build) -> str:
        """The name the build's result will carry (known when the build is created)."""
        raise NotImplementedError

    def build(self, build: Build, log: BuildLog, *, on_external: ExternalCallback | None = None) -> BuildResult:
        """Run the build to completion (success or failure) within ``BUILD_TIMEOUT_SECONDS``.

        A remote builder calls ``on_external`` once it knows its own id and console link, so the
        API shows them while the build runs.

        Expected failures (a package that does not exist, a timeout, a refused request) are
        returned as ``BuildResult(ok=False, error_message=...)`` with the details in ``log``.
        """
        raise NotImplementedError
