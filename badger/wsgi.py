"""WSGI entry points for production servers.

``gunicorn 'badger.wsgi:application()'`` builds the app in each worker from the
BADGER_* environment; ``badger serve --workers N`` runs the same through
gunicorn's Python API.  A configuration error stops the server with its
one-line message instead of a traceback.
"""

from __future__ import annotations

import sys
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from badger.config import ConfigError


def application() -> Flask:
    from badger.web.app import build_app

    try:
        app = build_app()
    except ConfigError as exc:
        sys.exit(f"badger: configuration error: {exc}")
    _warm_up(app)
    return app


def _warm_up(app: Flask) -> None:
    from badger.services import awarding

    context = app.extensions.get("badger")
    if context is not None:
        awarding.warm_up(context)


def _dispose_inherited_pool(app: Flask) -> Any:
    def post_fork(server: Any, worker: Any) -> None:
        context = app.extensions.get("badger")
        if context is not None:
            context.engine.dispose(close=False)

    return post_fork


def _warm_up_worker(app: Flask) -> Any:
    # After the worker installed its signal handlers (post_fork runs before):
    # a SIGTERM that arrives while it warms up must still stop it.
    def post_worker_init(worker: Any) -> None:
        _warm_up(app)

    return post_worker_init


class GunicornApplication(BaseApplication):  # type: ignore[misc]
    """Runs an already-built app under gunicorn (used by ``badger serve --workers``)."""

    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.app = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        # The app (and its connection pool) was built before gunicorn forked;
        # each worker must open its own connections, never share the parent's.
        self.cfg.set("post_fork", _dispose_inherited_pool(self.app))
        self.cfg.set("post_worker_init", _warm_up_worker(self.app))

    def load(self) -> Flask:
        return self.app
