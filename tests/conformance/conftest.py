"""Conformance tests measure badger against the standards data in ``shared/spec``.

That folder sits beside the repository (it is not part of the project); point
``BADGER_SPEC_DIR`` at another copy if needed. Without it these tests skip.
"""

import os
from pathlib import Path

import pytest


def _spec_dir() -> Path:
    configured = os.environ.get("BADGER_SPEC_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[3] / "shared" / "spec"


@pytest.fixture(scope="session")
def spec_dir() -> Path:
    """The ``shared/spec`` folder; skips the test when it is not there."""
    path = _spec_dir()
    if not (path / "contexts-index.json").is_file():
        pytest.skip(
            f"standards data not found at {path}: put shared/spec beside the repository "
            "or set BADGER_SPEC_DIR"
        )
    return path
