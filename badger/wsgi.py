"""WSGI entry points for production servers.

``gunicorn 'badger.wsgi:application()'`` builds the app in each worker from the
BADGER_* environment; ``badger serve --workers N`` runs the same through
gunicorn's Python API.  A configuration error stops the server with its
one-line message instead of a traceback.

gunicorn loses a stop signal that reaches a worker between its fork and its
own signal handlers (benoitc/gunicorn#1910): the worker then lingers until
the arbiter's graceful timeout (30 s) runs out.  :func:`on_starting` closes
that window; ``gunicorn -c python:badger.wsgi`` installs it, as does
``badger serve --workers N``.
"""

from __future__ import annotations

import os
import signal
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


# The signals an arbiter sends its workers to stop them.
STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT, signal.SIGQUIT})


class _ForkGuard:
    """Stop signals stay blocked across a fork; the child gets them back with
    their default action, so one sent before the worker's own handlers exist
    ends it instead of running the parent's handler (which queues the signal
    for a loop the child never runs)."""

    installed = False
    forking = False  # set in the parent just before fork; the child inherits it

    @classmethod
    def install(cls) -> None:
        if not cls.installed:
            os.register_at_fork(
                before=cls._before,
                after_in_parent=cls._after_in_parent,
                after_in_child=cls._after_in_child,
            )
            cls.installed = True

    @classmethod
    def _before(cls) -> None:
        cls.forking = True
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)

    @classmethod
    def _after_in_parent(cls) -> None:
        cls.forking = False
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)

    @classmethod
    def _after_in_child(cls) -> None:
        if not cls.forking:
            return
        cls.forking = False
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def on_starting(server: Any) -> None:
    """gunicorn server hook: runs in the arbiter before it forks any worker."""
    _ForkGuard.install()


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
        self.cfg.set("on_starting", on_starting)

    def load(self) -> Flask:
        return self.app
