"""The JSON API (``/api/v1``).  Machine clients authenticate with bearer tokens.

Requests that change state accept only bearer tokens, never the session
cookie, so the API needs no CSRF token and cannot be driven cross-site.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, jsonify, request
from flask_login import current_user

from badger.domain.accounts import Role
from badger.domain.errors import ValidationError
from badger.services import awarding, bulk, catalog, review
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


@bp.put("/achievements/<ref>")
def update_achievement(ref: str) -> Any:
    """Change a definition (body: ``schemas/achievement.json``; slug or public id in the URL).

    Admins only.  Awards issued from now on carry the new version; those
    issued before keep theirs.  A body without ``image_uri`` keeps the
    current picture.
    """
    _require_user(Role.ADMIN)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(415, description="send a JSON object with Content-Type: application/json")
    ctx = get_context()
    current = catalog.get_definition(ctx, ref)  # 404 for an unknown achievement
    updated = catalog.update_achievement(
        ctx,
        current.public_id,
        spec=catalog.spec_from_json({"slug": current.data["slug"], **data}),
        actor=actor_of(current_user.view),
    )
    return jsonify(updated.as_json())


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


def _submission_json(view: review.SubmissionView) -> dict[str, Any]:
    return {
        "id": view.public_id,
        "kind": view.kind,
        "status": view.status,
        "achievement": view.achievement_slug,
        "title": view.title,
        "url": view.url,
        "narrative": view.narrative,
        "credits": float(view.credits) if view.credits is not None else None,
        "category": view.category,
        "review_comment": view.review_comment,
        "created_at": view.created_at.isoformat(),
    }


@bp.get("/submissions")
def my_submissions() -> Any:
    """The caller's own submissions (evidence, activities), newest first."""
    _require_user()
    items = review.submissions_of(get_context(), current_user.view.learner_public_id)
    return jsonify(submissions=[_submission_json(s) for s in items])


@bp.post("/submissions")
def submit() -> Any:
    """Submit evidence for an achievement or an activity worth credits (JSON body).

    ``{"kind": "evidence", "achievement": slug, "url"|"narrative": ...}`` or
    ``{"kind": "activity", "title", "credits", "category", "url"?, "narrative"?,
    "learning_minutes"?}``.  Files are uploaded through the web page.
    """
    _require_user()
    upload = request.files.get("file")
    file = None
    if upload is not None and upload.filename:
        # multipart/form-data: the fields as form values, the evidence as `file`
        data: dict[str, Any] = request.form.to_dict()
        file = (upload.read(), upload.filename, upload.mimetype)
    else:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            abort(415, description="send JSON, or multipart/form-data with a `file`")
        data = body
    ctx, me = get_context(), current_user.view
    kind = data.get("kind")
    if kind == "evidence":
        view = review.submit_evidence(
            ctx,
            learner_public_id=me.learner_public_id,
            achievement=_text(data, "achievement") or "",
            url=_text(data, "url"),
            narrative=_text(data, "narrative"),
            file=file,
            actor=actor_of(me),
        )
    elif kind == "activity":
        view = review.submit_activity(
            ctx,
            learner_public_id=me.learner_public_id,
            title=_text(data, "title") or "",
            url=_text(data, "url"),
            narrative=_text(data, "narrative"),
            credits=data.get("credits"),  # type: ignore[arg-type]  (checked by the service)
            category=_text(data, "category") or "",
            learning_minutes=_whole_number(data, "learning_minutes"),
            file=file,
            actor=actor_of(me),
        )
    else:
        raise ValidationError("kind", "evidence or activity")
    return jsonify(_submission_json(view)), 201


def _text(data: dict[str, Any], name: str) -> str | None:
    """``data[name]``: a string or absent (a JSON body may hold any type)."""
    value = data.get(name)
    if value is None or isinstance(value, str):
        return value
    raise ValidationError(name, "must be a string")


def _whole_number(data: dict[str, Any], name: str) -> int | None:
    """``data[name]``: a whole number, as JSON or as a form's text, or absent."""
    value = data.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdecimal():
        return int(value.strip())
    raise ValidationError(name, "must be a whole number")


@bp.get("/review/queue")
def review_queue() -> Any:
    """Submissions waiting for a decision, oldest first (reviewers)."""
    _require_user(Role.REVIEWER)
    entries = review.queue(get_context())
    return jsonify(
        queue=[
            {**_submission_json(e.submission), "overdue": e.overdue, "due_at": e.due_at.isoformat()}
            for e in entries
        ]
    )


@bp.post("/review/<submission_id>")
def decide(submission_id: str) -> Any:
    """``{"decision": "approve"|"reject"|"return", "comment": ...}`` (reviewers)."""
    _require_user(Role.REVIEWER)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(415, description="send a JSON object with Content-Type: application/json")
    result = review.review(
        get_context(),
        submission_id,
        decision=_text(data, "decision") or "",
        comment=_text(data, "comment"),
        reviewer=current_user.view,
    )
    return jsonify(
        submission=_submission_json(result.submission),
        awarded=[a.as_json() for a in result.awarded],
    )


@bp.post("/bulk")
def bulk_upload() -> Any:
    """Bulk issue from an uploaded CSV (admins): ``file``, optional ``achievement``,
    ``skip_invalid``, ``wait``.  400 lists every bad row; 202 returns the job."""
    _require_user(Role.ADMIN)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationError("file", "upload the CSV as multipart/form-data field `file`")
    ctx = get_context()
    content = upload.read()
    parsed = bulk.parse_csv(
        ctx, content, default_achievement=request.form.get("achievement") or None
    )
    skip = request.form.get("skip_invalid", "").lower() in {"1", "true", "yes", "on"}
    problems = [{"row": p.row, "field": p.field, "message": p.message} for p in parsed.problems]
    if problems and not skip:
        return jsonify(
            error="invalid_rows",
            message=f"{len(problems)} bad row(s); nothing issued (fix them or send skip_invalid=true)",
            rows=problems,
        ), 400
    job = bulk.create_job(
        ctx,
        filename=upload.filename,
        content=content,
        parsed=parsed,
        actor=actor_of(current_user.view),
    )
    if request.form.get("wait", "").lower() in {"1", "true", "yes"}:
        return jsonify(bulk.run_job(ctx, job.public_id).as_json()), 200
    where = ctx.jobs.enqueue_bulk(job.public_id)
    return jsonify({**job.as_json(), "runs": where}), 202


@bp.get("/bulk/<job_id>")
def bulk_status(job_id: str) -> Any:
    """A bulk job's progress and every row's outcome (admins)."""
    _require_user(Role.ADMIN)
    return jsonify(bulk.get_job(get_context(), job_id).as_json())
