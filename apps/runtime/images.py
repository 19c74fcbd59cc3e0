"""Which images the local backend can provide, and from where.

The local backend runs the host's own system read-only, so an image is available when the host
has its toolchain (``python:3.11-slim`` needs python3, ``golang:*`` needs go). Admins can also
register a root-filesystem folder under an image name (``LocalImage``); it must contain python3,
which runs Hangar's agent.
"""

import shutil
from dataclasses import dataclass
from pathlib import Path

from apps.runtime.errors import ImageUnavailable

SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"
# Image name (before the tag) -> executables the host must have to provide it.
HOST_TOOLCHAINS = {
    "python": ("python3",),
    "node": ("node",),
    "golang": ("go",),
    "go": ("go",),
    "rust": ("cargo", "rustc"),
    "ubuntu": ("bash",),
    "debian": ("bash",),
}


@dataclass(frozen=True)
class ImageSource:
    """Where a sandbox's system comes from: the host (``rootfs`` None) or a registered folder."""

    image: str
    rootfs: Path | None = None


def _name(image: str) -> str:
    """``docker.io/library/python:3.11-slim`` -> ``python``."""
    return image.rsplit("/", 1)[-1].split("@", 1)[0].split(":", 1)[0].lower()


def resolve(image: str) -> ImageSource:
    """The source for ``image``, or ``ImageUnavailable`` saying why the host cannot provide it."""
    from apps.runtime.models import LocalImage

    registered = LocalImage.objects.filter(name=image).first()
    if registered is not None:
        rootfs = Path(registered.rootfs)
        if not (rootfs / "usr/bin/python3").exists():
            raise ImageUnavailable(image, f"its root filesystem {rootfs} has no usr/bin/python3")
        return ImageSource(image=image, rootfs=rootfs)
    tools = HOST_TOOLCHAINS.get(_name(image))
    if tools is None:
        raise ImageUnavailable(image, "the local runtime only provides host toolchains and registered images")
    missing = [tool for tool in tools if shutil.which(tool, path=SANDBOX_PATH) is None]
    if missing:
        raise ImageUnavailable(image, f"this host has no {', '.join(missing)}")
    return ImageSource(image=image)
