"""Access to the services context from request handlers."""

from __future__ import annotations

from typing import cast

from flask import current_app

from badger.services.context import Context


def get_context() -> Context:
    return cast(Context, current_app.extensions["badger"])
