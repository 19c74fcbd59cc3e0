"""Kubernetes-style resource quantities ("500m", "1Gi") as the runtime's numbers."""

import re

_CPU = re.compile(r"^(\d+(?:\.\d+)?)(m?)$")
_BYTES = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|K|M|G|T)?$")
_UNITS = {
    None: 1,
    "K": 1000,
    "M": 1000**2,
    "G": 1000**3,
    "T": 1000**4,
    "Ki": 1024,
    "Mi": 1024**2,
    "Gi": 1024**3,
    "Ti": 1024**4,
}
RESOURCE_KEYS = ("cpu", "memory", "storage")


def parse_cpu(value: str | int | float) -> float:
    """Cores from ``"500m"``, ``"1"``, ``"1.5"`` or a number; ValueError when malformed or not > 0."""
    match = _CPU.match(str(value).strip())
    if not match:
        raise ValueError(f"'{value}' is not a CPU quantity such as 500m or 1")
    cores = float(match.group(1)) / (1000 if match.group(2) else 1)
    if cores <= 0:
        raise ValueError("CPU must be more than zero")
    return cores


def parse_bytes(value: str | int) -> int:
    """Bytes from ``"1Gi"``, ``"512Mi"``, ``"10G"`` or a number; ValueError when malformed or not > 0."""
    match = _BYTES.match(str(value).strip())
    if not match:
        raise ValueError(f"'{value}' is not a size such as 512Mi or 1Gi")
    size = int(float(match.group(1)) * _UNITS[match.group(2)])
    if size <= 0:
        raise ValueError("Sizes must be more than zero")
    return size


def validate_resources(resources: object) -> dict[str, str]:
    """``{"cpu", "memory", "storage"}`` as strings, each parseable; ValueError otherwise."""
    if not isinstance(resources, dict):
        raise ValueError("Resources must be an object with cpu, memory and storage")
    unknown = set(resources) - set(RESOURCE_KEYS)
    if unknown:
        raise ValueError(f"Unknown resource keys: {', '.join(sorted(unknown))}")
    missing = [key for key in RESOURCE_KEYS if key not in resources]
    if missing:
        raise ValueError(f"Missing resource keys: {', '.join(missing)}")
    parse_cpu(resources["cpu"])
    parse_bytes(resources["memory"])
    parse_bytes(resources["storage"])
    return {key: str(resources[key]) for key in RESOURCE_KEYS}
