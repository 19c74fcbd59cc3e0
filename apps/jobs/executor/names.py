"""File and URL names of a job's results. Kept free of heavy imports: views and selectors use it,
and importing the training module would load scikit-learn into every web and worker process."""

import re

_SAFE = re.compile(r"[^A-Za-z0-9_-]+")


def safe_name(text: str) -> str:
    """``text`` reduced to letters, digits, ``_`` and ``-`` (used in file and URL names)."""
    return _SAFE.sub("-", str(text)).strip("-") or "x"


def plot_name(node_id: str, plot_slug: str) -> str:
    """The file stem of a model node's plot, as served at ``/api/jobs/{id}/plots/{name}.png``."""
    return f"{safe_name(node_id)}_{safe_name(plot_slug)}"
