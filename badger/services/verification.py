"""Verifying badges: wiring the verifier to badger's own documents and the network.

Badger's own issuers resolve locally (:class:`OwnDocuments` answers for every
URL under ``BADGER_BASE_URL`` with exactly what the web layer would serve),
anything else goes through the SSRF-safe fetcher, or nowhere with ``offline``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from badger.domain.errors import DomainError
from badger.services import publish
from badger.services.context import Context
from badger.verify.context import OfflineFetcher, VerifyContext
from badger.verify.engine import verify
from badger.verify.fetch import SafeFetcher
from badger.verify.ports import FetchedDocument
from badger.verify.report import Report

_ID = r"([A-Za-z0-9._~%-]+)"
_JSON = "application/json"


def _json(document: dict[str, Any]) -> tuple[int, str, bytes]:
    return 200, _JSON, json.dumps(document).encode("utf-8")


def _hosted(ctx: Context, award_id: str) -> tuple[int, str, bytes]:
    hosted = publish.ob2_hosted_assertion(ctx, award_id)
    if hosted.status == "revoked":
        body = {
            "@context": "https://w3id.org/openbadges/v2",
            "id": hosted.url,
            "revoked": True,
            "revocationReason": hosted.reason,
        }
        return 410, _JSON, json.dumps(body).encode("utf-8")
    return 200, "application/ld+json", hosted.content


def _file(ctx: Context, award_id: str, filename: str) -> tuple[int, str, bytes]:
    fmt = filename.rsplit(".", 1)[0]
    stored = publish.credential_file(ctx, award_id, fmt)
    return 200, stored.media_type, stored.content


def _status(ctx: Context, list_id: str) -> tuple[int, str, bytes]:
    stored = publish.status_list(ctx, list_id)
    return 200, stored.media_type, stored.content


def _credential(ctx: Context, award_id: str) -> tuple[int, str, bytes]:
    stored = publish.credential_file(ctx, award_id, "ob3-ldp")
    return 200, stored.media_type, stored.content


_ROUTES: list[tuple[re.Pattern[str], Callable[..., tuple[int, str, bytes]]]] = [
    (re.compile(rf"/ob2/issuers/{_ID}"), lambda c, s: _json(publish.ob2_issuer_profile(c, s))),
    (
        re.compile(rf"/ob2/issuers/{_ID}/keys/{_ID}"),
        lambda c, s, k: _json(publish.ob2_cryptographic_key(c, s, k)),
    ),
    (
        re.compile(rf"/ob2/issuers/{_ID}/revocations"),
        lambda c, s: _json(publish.ob2_revocation_list(c, s)),
    ),
    (re.compile(rf"/ob2/badges/{_ID}"), lambda c, a: _json(publish.ob2_badge_class(c, a))),
    (re.compile(rf"/ob2/assertions/{_ID}"), _hosted),
    (re.compile(rf"/credentials/{_ID}"), _credential),
    (re.compile(rf"/credentials/{_ID}/{_ID}"), _file),
    (re.compile(rf"/status/{_ID}"), _status),
    (re.compile(rf"/issuers/{_ID}"), lambda c, s: _json(publish.ob3_profile(c, s))),
    (re.compile(rf"/issuers/{_ID}/did.json"), lambda c, s: _json(publish.did_document(c, s))),
    (re.compile(rf"/issuers/{_ID}/jwks.json"), lambda c, s: _json(publish.issuer_jwks(c, s))),
    (re.compile(r"/\.well-known/jwks\.json"), lambda c: _json(publish.all_jwks(c))),
    (
        re.compile(rf"/issuers/{_ID}/keys/{_ID}"),
        lambda c, s, k: _json(publish.public_jwk(c, s, k)),
    ),
    (re.compile(rf"/achievements/{_ID}"), lambda c, a: _json(publish.ob3_achievement(c, a))),
]


class OwnDocuments:
    """badger's own published documents, without HTTP (the verifier's LocalIssuers port)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.base = ctx.settings.base_url

    def document(self, url: str) -> FetchedDocument | None:
        if not url.startswith(self.base + "/"):
            return None
        path = url[len(self.base) :].split("#", 1)[0].split("?", 1)[0]
        for pattern, handler in _ROUTES:
            match = pattern.fullmatch(path)
            if match:
                try:
                    status, media_type, body = handler(self.ctx, *match.groups())
                except DomainError as exc:
                    return FetchedDocument(
                        url, 404, _JSON, json.dumps({"error": exc.message}).encode()
                    )
                return FetchedDocument(url, status, media_type, body)
        return FetchedDocument(url, 404, _JSON, b'{"error": "not found"}')


def verify_input(
    ctx: Context,
    data: bytes | str,
    *,
    recipient: str | None = None,
    offline: bool = False,
) -> Report:
    """Verify any badge: own documents locally, others over the SSRF-safe client."""
    fetcher = (
        OfflineFetcher()
        if offline
        else SafeFetcher(allow_networks=list(ctx.settings.verify_allow_networks))
    )
    vctx = VerifyContext(
        now=ctx.now(),
        fetcher=fetcher,
        local=OwnDocuments(ctx),
        recipient=(recipient or "").strip() or None,
    )
    return verify(data, vctx)
