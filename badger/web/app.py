"""The application factory's body: settings → context → Flask app (wiring only)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from importlib import resources
from typing import Any

from flask import Flask

from badger.config import load_settings
from badger.services.context import Context, build_context
from badger.web import (
    account,
    admin,
    api,
    auth,
    documents,
    errors,
    learner,
    microcache,
    public,
    security,
    verify,
)

EXTENSION_KEY = "badger"


def build_app(
    *,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    context: Context | None = None,
) -> Flask:
    overrides = dict(overrides or {})
    flask_config = overrides.pop("flask", {})
    if context is None:
        context = build_context(load_settings(environ, overrides))
    settings = context.settings

    app = Flask(
        "badger",
        template_folder=str(resources.files("badger.templates")),
        static_folder=str(resources.files("badger.web") / "static"),
    )
    app.config.update(
        SECRET_KEY=settings.secret("session"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.session_cookie_secure,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        WTF_CSRF_TIME_LIMIT=None,
        JSON_SORT_KEYS=False,
        TESTING=settings.env == "testing",
    )
    app.config.update(flask_config)
    app.extensions[EXTENSION_KEY] = context
    logging.basicConfig(level=settings.log_level)

    security.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    for blueprint in (public.bp, account.bp, learner.bp, admin.bp, api.bp, documents.bp, verify.bp):
        app.register_blueprint(blueprint)
    microcache.init_app(app, settings.page_cache_seconds)
    return app
