"""Fixtures of the notebooks tests: uploads go to the test's temporary folder."""

import pytest


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Uploaded notebooks are stored under tmp_path, not the repository's var/."""
    settings.MEDIA_ROOT = tmp_path / "media"
