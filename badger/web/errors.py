"""Error pages and JSON errors: 4xx name the field, 5xx never leak internals."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from badger.domain.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    ValidationError,
)

log = logging.getLogger(__name__)

_DOMAIN_STATUS: dict[type[DomainError], int] = {
    ValidationError: 400,
    NotFound: 404,
    Conflict: 409,
    PermissionDenied: 403,
}


def wants_json() -> bool:
    """API routes answer JSON; elsewhere the Accept header decides."""
    if request.blueprint == "api" or request.path.startswith(("/api/", "/healthz")):
        return True
    best = request.accept_mimetypes.best_match(
        ["text/html", "application/json", "application/ld+json", "application/vc+ld+json"]
    )
    return best is not None and best != "text/html"


def error_response(
    status: int, code: str, message: str, fields: dict[str, list[str]] | None = None
) -> tuple[Response | str, int]:
    if wants_json():
        body: dict[str, Any] = {"error": code, "message": message}
        if fields:
            body["errors"] = fields
        return jsonify(body), status
    return render_template(
        "errors/error.html", status=status, code=code, message=message, fields=fields or {}
    ), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Any:
        return error_response(
            400, "csrf_failed", "The form expired or was not sent by this site; please try again."
        )

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> Any:
        status = next((s for t, s in _DOMAIN_STATUS.items() if isinstance(exc, t)), 400)
        fields = exc.as_dict() if isinstance(exc, ValidationError) else None
        return error_response(status, exc.code, exc.message, fields)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        if isinstance(exc, InternalServerError):
            return _internal(exc)
        code = (exc.name or "error").lower().replace(" ", "_")
        response = error_response(exc.code or 500, code, exc.description or exc.name)
        if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            body, status = response
            resp = app.make_response((body, status))
            resp.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
            return resp
        return response

    @app.errorhandler(Exception)
    def _internal(exc: BaseException) -> Any:
        original = getattr(exc, "original_exception", None) or exc
        log.exception("unhandled error on %s %s", request.method, request.path, exc_info=original)
        return error_response(
            500, "internal_error", "Something went wrong on our side; it has been logged."
        )
