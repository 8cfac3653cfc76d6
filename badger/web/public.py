"""Public pages: home (the issuer and its achievements) and the health check."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template

from badger.services import catalog, setup
from badger.web.context import get_context

bp = Blueprint("public", __name__)


@bp.get("/")
def home() -> str:
    ctx = get_context()
    issuer = catalog.get_issuer(ctx)
    achievements = catalog.list_achievements(ctx, issuer.slug) if issuer else []
    return render_template("public/home.html", issuer=issuer, achievements=achievements)


@bp.get("/healthz")
def healthz() -> Any:
    """200 when the database answers and is migrated; 503 with the reason otherwise."""
    ctx = get_context()
    problem = setup.health_problem(ctx)
    if problem:
        return jsonify(status="unavailable", reason=problem), 503
    response = jsonify(status="ok", database="ok")
    response.headers["Cache-Control"] = "no-store"
    return response
