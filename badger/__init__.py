"""badger: an Open Badges 2.0 / 3.0 microcredential issuer with CE renewal ledgers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

__version__ = "0.1.0"


def create_app(
    overrides: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> Flask:
    """Build the Flask application.  Wiring only: no migrations, no seeding.

    Settings come from defaults < ``instance/badger.toml`` < ``BADGER_*``
    environment < ``overrides``; a bad setting raises
    :class:`badger.config.ConfigError` with a one-line message.
    """
    from badger.web.app import build_app

    return build_app(overrides=overrides, environ=environ)
