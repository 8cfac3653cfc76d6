"""The admin console (grows with each feature)."""

from __future__ import annotations

from flask import Blueprint, render_template

from badger.domain.accounts import Role
from badger.services import audit_views, catalog
from badger.web.auth import role_required
from badger.web.context import get_context

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@role_required(Role.ADMIN)
def index() -> str:
    ctx = get_context()
    issuer = catalog.get_issuer(ctx)
    return render_template(
        "admin/index.html",
        issuer=issuer,
        achievements=catalog.list_achievements(ctx, public_only=False),
        audit=audit_views.recent_entries(ctx, limit=25),
    )
