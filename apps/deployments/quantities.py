"""The resource quantities a deployment accepts: ``cpu`` 0.25 to 4 cores, ``memory`` 128Mi to 4Gi,
in Kubernetes quantity syntax (``"500m"``, ``"1"``, ``"512Mi"``, ``"1Gi"``)."""

import re

CPU_MIN, CPU_MAX = 0.25, 4.0
MEMORY_MIN, MEMORY_MAX = 128 * 1024**2, 4 * 1024**3

_CPU = re.compile(r"^(\d+(?:\.\d+)?)(m?)$")
_MEMORY = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|K|M|G|T)?$")
_UNITS = {None: 1, "k": 1000, "K": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4}
_UNITS.update({"Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4})


def parse_cpu(value: str) -> float:
    """Cores from ``"250m"``, ``"1"`` or ``"1.5"``; ValueError when malformed or out of range."""
    match = _CPU.match(str(value).strip())
    if not match:
        raise ValueError(f"'{value}' is not a CPU quantity such as 500m, 1 or 2")
    cores = float(match.group(1)) / (1000 if match.group(2) else 1)
    if not CPU_MIN <= cores <= CPU_MAX:
        raise ValueError(f"CPU must be between {CPU_MIN:g} and {CPU_MAX:g} cores")
    return cores


def parse_memory(value: str) -> int:
    """Bytes from ``"512Mi"`` or ``"1Gi"``; ValueError when malformed or out of range."""
    match = _MEMORY.match(str(value).strip())
    if not match:
        raise ValueError(f"'{value}' is not a memory quantity such as 512Mi or 1Gi")
    size = int(float(match.group(1)) * _UNITS[match.group(2)])
    if not MEMORY_MIN <= size <= MEMORY_MAX:
        raise ValueError("Memory must be between 128Mi and 4Gi")
    return size
