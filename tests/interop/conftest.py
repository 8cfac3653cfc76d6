"""Fixtures for running badges past 1EdTech's validator-core (see validator_core.py).

* ``validator_core``: builds (once) validator-core's virtualenv and returns
  ``run_validator``; skips, with pip's last error line, when it cannot be built.
* ``badge_server``: a ``badge_server.BadgeServer`` on a free 127.0.0.1 port,
  so every badge object has an ``http://127.0.0.1:<port>/...`` id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.interop.badge_server import BadgeServer, serve_badges
from tests.interop.validator_core import ValidatorCoreUnavailable, ensure_venv, run_validator


@pytest.fixture(scope="session")
def validator_core() -> Callable[..., dict[str, Any]]:
    try:
        ensure_venv()
    except ValidatorCoreUnavailable as exc:
        pytest.skip(f"openbadges-validator-core unavailable: {exc}")
    return run_validator


@pytest.fixture
def badge_server() -> Iterator[BadgeServer]:
    with serve_badges() as server:
        yield server
