"""Public documents: everything a verifier fetches, at the URLs identity.py builds.

Views parse, call one :mod:`badger.services.publish` function and answer.
Response policy, in one place (:func:`_serve`):

* Signed, stored documents (assertions, credentials, baked images) are served
  byte for byte, with ``ETag`` = their stored SHA-256 and a day of public
  caching; a matching ``If-None-Match`` answers ``304``.
* Documents that can change (profiles, BadgeClasses, keys, DID documents,
  JWK Sets, revocation and status lists, the hosted assertion whose status
  can turn into ``410``) get an ``ETag`` of the bytes sent and five minutes of
  caching, so a revocation or key rotation is visible within that time.
* Every machine-readable document carries ``Access-Control-Allow-Origin: *``:
  browser-based verifiers fetch them cross-origin, and they are public.
* Content types: OB 2.0 objects are ``application/ld+json``, or
  ``application/json`` when that is the client's only Accept value (OB 2.0
  §JSON-LD, FACTS §1.1).  OB 3.0 credentials ``application/vc+ld+json``
  (FACTS §2.13) and the stored media type of every other format
  (``issue.FORMATS``).  The DID document is ``application/did+ld+json``
  because it is the JSON-LD representation (it carries ``@context``; DID Core
  §6.3.1); clients that ask only for ``application/did+json`` or
  ``application/json`` get that label on the same bytes.  JWK Sets are
  ``application/jwk-set+json`` and single keys ``application/jwk+json``
  (RFC 7517 §8.5).  Status lists are ``application/vc+ld+json``.

The global security headers (CSP, ``nosniff``) are added by
:mod:`badger.web.security` to these responses too; for SVG the CSP keeps any
script in an uploaded image from running.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_login import current_user

from badger.domain.errors import NotFound
from badger.services import issue, publish, sharing, validation
from badger.services.context import Context
from badger.web.context import get_context

bp = Blueprint("documents", __name__)

OB2_CONTEXT = "https://w3id.org/openbadges/v2"
HTML = "text/html"
JSON_LD = "application/ld+json"
JSON = "application/json"
VC_LD_JSON = "application/vc+ld+json"
VC_JWT = "application/vc+jwt"
DID_LD_JSON = "application/did+ld+json"
DID_JSON = "application/did+json"
JWK_SET = "application/jwk-set+json"
JWK = "application/jwk+json"

IMMUTABLE = "public, max-age=86400"
SHORT = "public, max-age=300"
IMAGE = "public, max-age=3600"


# ---------------------------------------------------------------- response helpers


def _negotiate(offers: Sequence[str]) -> str:
    """The offer the client prefers; the first offer when it states no usable preference."""
    return request.accept_mimetypes.best_match(offers) or offers[0]


def _ob2_media_type() -> str:
    accepted = [value for value, _quality in request.accept_mimetypes]
    return JSON if accepted == [JSON] else JSON_LD


def _serve(
    content: bytes,
    media_type: str,
    *,
    cache: str,
    etag: str | None = None,
    last_modified: datetime | None = None,
    status: int = 200,
    vary: bool = False,
) -> Response:
    response = Response(content, status=status, content_type=media_type)
    response.headers["Cache-Control"] = cache
    response.headers["Access-Control-Allow-Origin"] = "*"
    if vary:
        response.vary.add("Accept")
    if status == 200:
        response.set_etag(etag or hashlib.sha256(content).hexdigest())
        if last_modified is not None:
            response.last_modified = last_modified
        response.make_conditional(request)
    return response


def _json(document: dict[str, Any], media_type: str, *, vary: bool = False) -> Response:
    return _serve(publish.json_bytes(document), media_type, cache=SHORT, vary=vary)


def _ctx() -> Context:
    return get_context()


# ---------------------------------------------------------------- OB 2.0


@bp.get("/schemas/<name>.json")
def schema(name: str) -> Response:
    """An input schema (achievement, rules, event, renewal policy, ledger activities)."""
    ctx = _ctx()
    body = json.dumps(validation.published_schema(name, ctx.settings.base_url), indent=2)
    response = Response(body + "\n", mimetype="application/schema+json")
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/ob2/issuers/<slug>")
def ob2_issuer(slug: str) -> Response:
    return _json(publish.ob2_issuer_profile(_ctx(), slug), _ob2_media_type(), vary=True)


@bp.get("/ob2/issuers/<slug>/keys/<kid>")
def ob2_key(slug: str, kid: str) -> Response:
    return _json(publish.ob2_cryptographic_key(_ctx(), slug, kid), _ob2_media_type(), vary=True)


@bp.get("/ob2/issuers/<slug>/revocations")
def ob2_revocations(slug: str) -> Response:
    return _json(publish.ob2_revocation_list(_ctx(), slug), _ob2_media_type(), vary=True)


@bp.get("/ob2/badges/<achievement_id>")
def ob2_badge(achievement_id: str) -> Response:
    return _json(publish.ob2_badge_class(_ctx(), achievement_id), _ob2_media_type(), vary=True)


@bp.get("/ob2/assertions/<award_id>")
def ob2_assertion(award_id: str) -> Response:
    """The hosted assertion exactly as issued; ``410 Gone`` once revoked (FACTS §1.8).

    A *suspended* award still answers 200 with its assertion: OB 2.0 has no
    suspension, and both of its revocation signals (410, ``revoked: true``)
    are final — verifiers and backpacks may drop the badge for good — while a
    suspension is meant to be lifted.  Suspension is published through the
    OB 3.0 suspension status list instead.
    """
    hosted = publish.ob2_hosted_assertion(_ctx(), award_id)
    media_type = _ob2_media_type()
    if hosted.status == "revoked":
        gone = {
            "@context": OB2_CONTEXT,
            "id": hosted.url,
            "revoked": True,
            "revocationReason": hosted.reason,
        }
        return _serve(publish.json_bytes(gone), media_type, cache=SHORT, status=410, vary=True)
    return _serve(hosted.content, media_type, cache=SHORT, etag=hosted.sha256, vary=True)


# ---------------------------------------------------------------- awards


@bp.get("/credentials/<award_id>")
def credential(award_id: str) -> Response | str:
    """The OB 3.0 credential for JSON/JWT clients, else the human page."""
    ctx = _ctx()
    wanted = _negotiate([HTML, VC_LD_JSON, JSON_LD, JSON, VC_JWT])
    if wanted == HTML:
        page = publish.credential_page(ctx, award_id)
        if not page.is_public and not _is_owner(ctx, award_id):
            # The signed files stay reachable for verification; the page is the
            # holder's choice (badger.services.sharing explains what hiding means).
            raise NotFound(f"award {award_id} is not shared publicly")
        share = sharing.share_tools(ctx, page)
        response = Response(render_template("credentials/show.html", page=page, share=share))
        response.vary.add("Accept")
        return response
    stored = publish.credential_file(ctx, award_id, "ob3-jwt" if wanted == VC_JWT else "ob3-ldp")
    return _serve(stored.content, wanted, cache=IMMUTABLE, etag=stored.sha256, vary=True)


def _is_owner(ctx: Context, award_id: str) -> bool:
    return current_user.is_authenticated and sharing.is_owner(
        ctx, current_user.view.public_id, award_id
    )


@bp.get("/credentials/<award_id>/<filename>")
def credential_file(award_id: str, filename: str) -> Response:
    """``<fmt>.<ext>``: one stored rendering; ``?download=1`` makes it an attachment."""
    fmt, _, ext = filename.rpartition(".")
    if issue.FILE_EXTENSIONS.get(fmt) != ext:
        raise NotFound(f"no document {filename!r}")
    stored = publish.credential_file(_ctx(), award_id, fmt)
    response = _serve(stored.content, stored.media_type, cache=IMMUTABLE, etag=stored.sha256)
    if request.args.get("download") == "1":
        response.headers["Content-Disposition"] = f'attachment; filename="{stored.filename}"'
    return response


@bp.get("/status/<list_id>")
def status_list(list_id: str) -> Response:
    stored = publish.status_list(_ctx(), list_id)
    return _serve(
        stored.content,
        stored.media_type,
        cache=SHORT,
        etag=stored.sha256,
        last_modified=stored.last_modified,
    )


# ---------------------------------------------------------------- issuers and keys


@bp.get("/issuers/<slug>")
def issuer(slug: str) -> Response | str:
    ctx = _ctx()
    wanted = _negotiate([HTML, JSON_LD, JSON])
    if wanted == HTML:
        response = Response(
            render_template("issuers/show.html", page=publish.issuer_page(ctx, slug))
        )
        response.vary.add("Accept")
        return response
    return _json(publish.ob3_profile(ctx, slug), wanted, vary=True)


@bp.get("/issuers/<slug>/did.json")
def did_document(slug: str) -> Response:
    wanted = _negotiate([DID_LD_JSON, DID_JSON, JSON])
    return _json(publish.did_document(_ctx(), slug), wanted, vary=True)


@bp.get("/issuers/<slug>/jwks.json")
def issuer_jwks(slug: str) -> Response:
    return _json(publish.issuer_jwks(_ctx(), slug), JWK_SET)


@bp.get("/.well-known/jwks.json")
def well_known_jwks() -> Response:
    return _json(publish.all_jwks(_ctx()), JWK_SET)


@bp.get("/issuers/<slug>/keys/<kid>")
def public_jwk(slug: str, kid: str) -> Response:
    return _json(publish.public_jwk(_ctx(), slug, kid), JWK)


# ---------------------------------------------------------------- achievements


@bp.get("/achievements/<achievement_id>")
def achievement(achievement_id: str) -> Response | str:
    ctx = _ctx()
    wanted = _negotiate([HTML, JSON_LD, JSON])
    if wanted == HTML:
        page = publish.achievement_page(ctx, achievement_id)
        if not page.is_public:
            raise NotFound(f"achievement {achievement_id} is not public")
        response = Response(render_template("achievements/show.html", page=page))
        response.vary.add("Accept")
        return response
    return _json(publish.ob3_achievement(ctx, achievement_id), wanted, vary=True)


@bp.get("/achievements/<achievement_id>/image.<fmt>")
def achievement_image(achievement_id: str, fmt: str) -> Response:
    content = publish.achievement_image(_ctx(), achievement_id, fmt)
    return _serve(content, publish.IMAGE_MEDIA_TYPES[fmt], cache=IMAGE)
