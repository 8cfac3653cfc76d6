"""The JSON API (``/api/v1``).  Machine clients authenticate with bearer tokens.

Requests that change state accept only bearer tokens, never the session
cookie, so the API needs no CSRF token and cannot be driven cross-site.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, jsonify, request
from flask_login import current_user

from badger.domain.accounts import Role
from badger.services import awarding, catalog
from badger.services.accounts import actor_of
from badger.web.context import get_context
from badger.web.security import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


@bp.before_request
def _require_token_for_writes() -> None:
    if getattr(g, "bad_token", False):
        abort(401, description="the API token is invalid, expired or revoked")
    if request.method not in {"GET", "HEAD", "OPTIONS"} and not (
        current_user.is_authenticated and current_user.via_token
    ):
        abort(401, description="send an API token: Authorization: Bearer <token>")


def _require_user(role: Role | None = None) -> None:
    if not current_user.is_authenticated:
        abort(401, description="sign in or send an API token")
    if role is not None and not current_user.has_role(role):
        abort(403, description=f"this needs the {role.value} role")


@bp.get("/me")
def me() -> Any:
    _require_user()
    view = current_user.view
    return jsonify(
        id=view.public_id,
        email=view.email,
        display_name=view.display_name,
        roles=sorted(r.value for r in view.roles),
    )


@bp.get("/issuer")
def issuer() -> Any:
    view = catalog.get_issuer(get_context())
    if view is None:
        abort(404, description="no issuer configured")
    return jsonify(
        id=view.public_id,
        slug=view.slug,
        name=view.name,
        url=view.url,
        email=view.email,
        description=view.description,
    )


@bp.get("/achievements")
def achievements() -> Any:
    ctx = get_context()
    items = catalog.list_achievements(ctx)
    return jsonify(achievements=[a.as_json() for a in items])


@bp.post("/achievements")
def create_achievement() -> Any:
    """Define an achievement (body: ``schemas/achievement.json``); admins only."""
    _require_user(Role.ADMIN)
    data = request.get_json(silent=True)
    if data is None:
        abort(415, description="send a JSON object with Content-Type: application/json")
    ctx = get_context()
    issuer_view = catalog.get_issuer(ctx)
    if issuer_view is None:
        abort(409, description="no issuer configured (run `badger init`)")
    created = catalog.create_achievement(
        ctx,
        issuer_slug=issuer_view.slug,
        spec=catalog.spec_from_json(data),
        actor=actor_of(current_user.view),
    )
    return jsonify(created.as_json()), 201


@bp.post("/events")
def record_event() -> Any:
    """Record a completion event (``schemas/event.json``); needs ``Idempotency-Key``.

    201 when recorded (with any awards it completed), 200 when the key was
    already used (nothing recorded twice).  Reviewers and admins only: the
    body names any learner.
    """
    _require_user(Role.REVIEWER)
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        abort(400, description="send an Idempotency-Key header (any unique string per event)")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(415, description="send a JSON object with Content-Type: application/json")
    result = awarding.record_event(
        get_context(),
        data,
        idempotency_key=key,
        source=f"api:{current_user.view.public_id}",
        actor=actor_of(current_user.view),
    )
    return jsonify(result.as_json()), 201 if result.recorded else 200
