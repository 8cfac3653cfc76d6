"""Verification for everyone: the /verify page and the /api/verify JSON endpoint."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, jsonify, render_template, request

from badger.services.verification import verify_input
from badger.web.context import get_context
from badger.web.security import csrf

bp = Blueprint("verify", __name__)


def _input_from_request() -> tuple[bytes | str | None, str | None]:
    """The badge to check from a JSON body, a raw JWT/JSON body, an upload or form fields."""
    recipient = request.values.get("recipient") or None
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        return upload.read(), recipient
    if request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict) and ("input" in body or "url" in body):
            value = body.get("input") or body.get("url")
            recipient = body.get("recipient") or recipient
            if isinstance(value, dict):
                return json.dumps(value), recipient
            return (value if isinstance(value, str) else None), recipient
        return request.get_data(), recipient
    for name in ("text", "url"):
        value = (request.form.get(name) or "").strip()
        if value:
            return value, recipient
    raw = request.get_data()
    return (raw or None), recipient


@bp.route("/verify", methods=["GET", "POST"])
def page() -> Any:
    if request.method == "GET":
        url = (request.args.get("url") or "").strip()
        if not url:
            return render_template("verify/index.html", report=None, recipient="")
        # "Verify this badge" links on public pages: check the URL right away.
        recipient = request.args.get("recipient") or None
        report = verify_input(get_context(), url, recipient=recipient)
        return render_template(
            "verify/index.html", report=report.as_json(), recipient=recipient or "", url=url
        )
    data, recipient = _input_from_request()
    if not data:
        return render_template(
            "verify/index.html",
            report=None,
            recipient=recipient or "",
            error="Paste a badge, upload a baked image or give a URL.",
        ), 400
    report = verify_input(get_context(), data, recipient=recipient)
    return render_template("verify/index.html", report=report.as_json(), recipient=recipient or "")


@bp.post("/api/verify")
@csrf.exempt
def api() -> Any:
    """Itemised JSON report.  Body: ``{"input": <JSON, JWT or URL>, "recipient": ...}``,
    a raw JWT/JSON body, or a multipart upload (``file``) of a baked PNG/SVG."""
    data, recipient = _input_from_request()
    if not data:
        abort(
            400,
            description='send the badge: a JSON body {"input": ...}, a raw JWT/JSON body, '
            "or a file upload",
        )
    report = verify_input(get_context(), data, recipient=recipient)
    return jsonify(report.as_json())
