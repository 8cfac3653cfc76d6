"""Read models for everything a verifier (or a browser) fetches from badger.

Each function answers one public URL built by :mod:`badger.services.identity`
and raises :class:`~badger.domain.errors.NotFound` for an unknown id.  Signed
documents (assertions, credentials, baked images, status lists) are served
exactly as stored; unsigned linked documents (profiles, BadgeClasses,
Achievements, keys, DID documents, JWK Sets) are built from the current rows
and keys on each request, because OB 2.0 verifiers are told to trust the
*hosted* BadgeClass and Profile (FACTS §1.10-1.11) and key lists must follow
rotation.

Standalone JSON-LD documents carry their own ``@context``:

* OB 2.0 objects already do (``https://w3id.org/openbadges/v2``, FACTS §1.1).
* An OB 3.0 ``Profile`` or ``Achievement`` served on its own gets
  ``[VC 2.0, OB 3.0.3]`` (:func:`badger.credentials.ob3.contexts_for`): the
  OB 3.0 terms (``Profile``, ``Achievement``, ``criteria`` …) are defined only
  by the OB context, and the VC 2.0 context supplies ``id``/``type``/``name``/
  ``description``, so without both a JSON-LD consumer would drop every term.
  Embedded in a credential they inherit the credential's context instead.
* An issuer named by its HTTPS profile URL (``id_method = "url"``) is also the
  controller of its Data Integrity keys, so its profile doubles as the
  controller document (FACTS §2.11, option 1): it lists every Ed25519 key,
  retired ones included, as a ``Multikey`` under ``verificationMethod`` and
  ``assertionMethod``, with the DID v1 and Multikey contexts that define
  those terms.  DID issuers publish keys in their DID document instead.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from badger.credentials import ob2, ob3
from badger.credentials.model import to_json_bytes
from badger.domain.errors import NotFound
from badger.proofs import jwks
from badger.proofs.keystore import KeyAlgorithm, KeyRef
from badger.services import identity, issue, status
from badger.services.context import Context
from badger.store.db import UnitOfWork
from badger.store.models import Achievement, Award, IssuedDocument, Issuer

__all__ = [
    "FORMAT_LABELS",
    "AchievementPage",
    "CredentialPage",
    "HostedAssertion",
    "IssuerPage",
    "StoredFile",
    "achievement_image",
    "achievement_page",
    "all_jwks",
    "credential_file",
    "credential_page",
    "did_document",
    "issuer_jwks",
    "issuer_page",
    "ob2_badge_class",
    "ob2_cryptographic_key",
    "ob2_hosted_assertion",
    "ob2_issuer_profile",
    "ob2_revocation_list",
    "ob3_achievement",
    "ob3_profile",
    "public_jwk",
    "status_list",
]

FORMAT_LABELS: dict[str, str] = {
    "ob3-ldp": "Open Badges 3.0 credential (JSON, Data Integrity proof)",
    "ob3-jwt": "Open Badges 3.0 credential (VC-JWT)",
    "ob3-png": "Badge image with the Open Badges 3.0 credential baked in (PNG)",
    "ob3-svg": "Badge image with the Open Badges 3.0 credential baked in (SVG)",
    "clr-ldp": "Comprehensive Learner Record 2.0 with every credential this renewal counted "
    "(JSON, Data Integrity proof)",
    "ob2-hosted": "Open Badges 2.0 hosted assertion (JSON)",
    "ob2-signed": "Open Badges 2.0 signed assertion (JWS)",
    "ob2-png": "Badge image with the Open Badges 2.0 assertion baked in (PNG)",
    "ob2-svg": "Badge image with the Open Badges 2.0 assertion baked in (SVG)",
}
"""Human labels for the download list, in the order pages show them."""

IMAGE_MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


# ---------------------------------------------------------------- values


@dataclass(frozen=True)
class StoredFile:
    """Bytes exactly as stored, with what a response needs to serve them."""

    content: bytes
    media_type: str
    sha256: str
    filename: str
    award_status: str = "active"
    status_reason: str | None = None
    last_modified: datetime | None = None


@dataclass(frozen=True)
class HostedAssertion:
    """The stored ``ob2-hosted`` bytes and the award's current standing."""

    content: bytes
    status: str
    reason: str | None
    url: str
    sha256: str


@dataclass(frozen=True)
class Download:
    format: str
    label: str
    filename: str


@dataclass(frozen=True)
class CredentialPage:
    award_id: str
    achievement_id: str
    achievement_name: str
    achievement_description: str
    issuer_slug: str
    issuer_name: str
    issued_on: datetime
    valid_until: datetime | None
    status: str
    status_reason: str | None
    is_public: bool
    downloads: tuple[Download, ...]
    url: str = ""  # the public, canonical URL under BADGER_BASE_URL


@dataclass(frozen=True)
class AchievementSummary:
    public_id: str
    name: str
    description: str
    achievement_type: str
    credits_available: Decimal | None


@dataclass(frozen=True)
class IssuerPage:
    slug: str
    name: str
    url: str | None
    email: str
    description: str | None
    achievements: tuple[AchievementSummary, ...]


@dataclass(frozen=True)
class AchievementPage:
    public_id: str
    name: str
    description: str
    achievement_type: str
    criteria_narrative: str
    criteria_url: str | None
    credits_available: Decimal | None
    tags: tuple[str, ...]
    issuer_slug: str
    issuer_name: str
    is_public: bool


# ---------------------------------------------------------------- lookups


def _web_link(url: str | None) -> str | None:
    """Only http(s) URLs become links on pages (no ``javascript:`` from a stored field)."""
    return url if url and url.startswith(("https://", "http://")) else None


def _issuer(uow: UnitOfWork, slug: str) -> Issuer:
    row = uow.session.scalar(select(Issuer).where(Issuer.slug == slug))
    if row is None:
        raise NotFound(f"no issuer {slug!r}")
    return row


def _achievement(uow: UnitOfWork, public_id: str) -> Achievement:
    return uow.by_public_id(Achievement, public_id, "achievement")


def _award(uow: UnitOfWork, public_id: str) -> Award:
    return uow.by_public_id(Award, public_id, "award")


def _stored(uow: UnitOfWork, award: Award, fmt: str) -> IssuedDocument:
    row = uow.session.scalar(
        select(IssuedDocument).where(
            IssuedDocument.award_id == award.id, IssuedDocument.format == fmt
        )
    )
    if row is None:
        raise NotFound(f"no {fmt} document for award {award.public_id}")
    return row


def _keys(ctx: Context, slug: str, alg: KeyAlgorithm | None = None) -> list[KeyRef]:
    return [k for k in ctx.keystore.public_keys(slug) if alg is None or k.alg is alg]


# ---------------------------------------------------------------- OB 2.0


def ob2_issuer_profile(ctx: Context, slug: str) -> dict[str, Any]:
    """The hosted OB 2.0 issuer Profile; ``publicKey`` lists every RS256 key, retired too."""
    with ctx.uow() as uow:
        row = _issuer(uow, slug)
        return ob2.issuer_profile(issue.issuer_info(ctx, row, identity.for_issuer(ctx, row)))


def ob2_badge_class(ctx: Context, achievement_public_id: str) -> dict[str, Any]:
    with ctx.uow() as uow:
        row = _achievement(uow, achievement_public_id)
        ident = identity.for_issuer(ctx, row.issuer)
        return ob2.badge_class(
            issue.achievement_info(ctx, row), issue.issuer_info(ctx, row.issuer, ident)
        )


def ob2_cryptographic_key(ctx: Context, slug: str, kid: str) -> dict[str, Any]:
    """An OB 2.0 CryptographicKey: RS256 keys only, the one interoperable choice (FACTS §1.10)."""
    with ctx.uow() as uow:
        ident = identity.for_issuer(ctx, _issuer(uow, slug))
    for key in _keys(ctx, slug, KeyAlgorithm.RS256):
        if key.kid == kid:
            return jwks.cryptographic_key(
                ident.ob2_key_url(key), ident.ob2_profile_url, key.public_pem
            )
    raise NotFound(f"issuer {slug!r} has no RS256 key {kid!r}")


def ob2_revocation_list(ctx: Context, slug: str) -> dict[str, Any]:
    """The RevocationList of signed assertions (``urn:uuid:<award id>``) of revoked awards.

    Only revocation is listed: a RevocationList entry means revoked for good
    (FACTS §1.8), while a suspension can be lifted.
    """
    with ctx.uow() as uow:
        row = _issuer(uow, slug)
        info = issue.issuer_info(ctx, row, identity.for_issuer(ctx, row))
        revoked = uow.session.execute(
            select(Award.public_id, Award.status_reason)
            .where(Award.issuer_id == row.id, Award.status == "revoked")
            .order_by(Award.status_changed_at, Award.id)
        ).all()
        # The same id form as ob2.signed_assertion gives the signed assertion.
        return ob2.revocation_list(
            info, [(uuid.UUID(public_id).urn, reason) for public_id, reason in revoked]
        )


def ob2_hosted_assertion(ctx: Context, award_id: str) -> HostedAssertion:
    with ctx.uow() as uow:
        award = _award(uow, award_id)
        doc = _stored(uow, award, "ob2-hosted")
        return HostedAssertion(
            content=doc.content,
            status=award.status,
            reason=award.status_reason,
            url=identity.assertion_url(ctx.settings, award_id),
            sha256=doc.sha256,
        )


# ---------------------------------------------------------------- OB 3.0


def _with_context(document: dict[str, Any]) -> dict[str, Any]:
    return {"@context": ob3.contexts_for(document), **document}


def ob3_profile(ctx: Context, slug: str) -> dict[str, Any]:
    """The issuer's OB 3.0 Profile as a standalone JSON-LD document (see the module docstring)."""
    with ctx.uow() as uow:
        row = _issuer(uow, slug)
        ident = identity.for_issuer(ctx, row)
        document = _with_context(ob3.profile(issue.issuer_info(ctx, row, ident)))
    if ident.id_method == "url":
        methods = [
            jwks.multikey_verification_method(ident.issuer_id, key.multibase)
            for key in _keys(ctx, slug, KeyAlgorithm.ED25519)
            if key.multibase
        ]
        document["@context"] += [jwks.DID_V1_CONTEXT, jwks.MULTIKEY_V1_CONTEXT]
        document["verificationMethod"] = methods
        document["assertionMethod"] = [m["id"] for m in methods]
    return document


def ob3_achievement(ctx: Context, achievement_public_id: str) -> dict[str, Any]:
    with ctx.uow() as uow:
        row = _achievement(uow, achievement_public_id)
        ident = identity.for_issuer(ctx, row.issuer)
        return _with_context(
            ob3.achievement(
                issue.achievement_info(ctx, row), issue.issuer_info(ctx, row.issuer, ident)
            )
        )


# ---------------------------------------------------------------- keys


def did_document(ctx: Context, slug: str) -> dict[str, Any]:
    """The did:web DID document: every key, active and retired, controller = the DID."""
    with ctx.uow() as uow:
        row = _issuer(uow, slug)
        if row.id_method != "did:web":
            raise NotFound(f"issuer {slug!r} is not identified by did:web")
        ident = identity.for_issuer(ctx, row)
    return jwks.did_web_document(ident.issuer_id, _keys(ctx, slug))


def issuer_jwks(ctx: Context, slug: str) -> dict[str, Any]:
    with ctx.uow() as uow:
        ident = identity.for_issuer(ctx, _issuer(uow, slug))
    return jwks.jwks_document(_keys(ctx, slug), issuer_id=ident.issuer_id)


def all_jwks(ctx: Context) -> dict[str, Any]:
    """Every issuer's keys in one set (``/.well-known/jwks.json``), each with ``iss``.

    The OB 3.0 implementation guide looks for the signing key at the issuer
    host's well-known JWK Set; ``iss`` says which issuer a key belongs to on a
    multi-issuer host (FACTS §2.10).
    """
    with ctx.uow() as uow:
        idents = [
            identity.for_issuer(ctx, row)
            for row in uow.session.scalars(select(Issuer).order_by(Issuer.id))
        ]
    keys: list[dict[str, Any]] = []
    for ident in idents:
        keys += jwks.jwks_document(_keys(ctx, ident.slug), issuer_id=ident.issuer_id)["keys"]
    return {"keys": keys}


def public_jwk(ctx: Context, slug: str, kid: str) -> dict[str, Any]:
    """One public JWK, the target of a VC-JWT ``kid`` for URL and did:key issuers."""
    with ctx.uow() as uow:
        identity.for_issuer(ctx, _issuer(uow, slug))
    for key in _keys(ctx, slug):
        if key.kid == kid:
            jwk = key.public_jwk
            jwks.assert_public_jwk(jwk)
            return jwk
    raise NotFound(f"issuer {slug!r} has no key {kid!r}")


# ---------------------------------------------------------------- stored bytes


def credential_file(ctx: Context, award_id: str, fmt: str) -> StoredFile:
    """One stored rendering of an award, exactly as issued."""
    if fmt not in issue.FORMATS:
        raise NotFound(f"no format {fmt!r}")
    with ctx.uow() as uow:
        award = _award(uow, award_id)
        doc = _stored(uow, award, fmt)
        return StoredFile(
            content=doc.content,
            media_type=issue.FORMATS[fmt],
            sha256=doc.sha256,
            filename=f"{award.achievement.slug}-{fmt}.{issue.FILE_EXTENSIONS[fmt]}",
            award_status=award.status,
            status_reason=award.status_reason,
        )


def status_list(ctx: Context, list_public_id: str) -> StoredFile:
    """The signed BitstringStatusListCredential as stored (re-signed on every change)."""
    content, updated_at = status.status_list_document(ctx, list_public_id)
    return StoredFile(
        content=content,
        media_type="application/vc+ld+json",
        sha256=hashlib.sha256(content).hexdigest(),
        filename=f"status-{list_public_id}.json",
        last_modified=updated_at,
    )


def achievement_image(ctx: Context, achievement_public_id: str, fmt: str) -> bytes:
    if fmt not in IMAGE_MEDIA_TYPES:
        raise NotFound(f"no image format {fmt!r}")
    with ctx.uow() as uow:
        return issue.achievement_image(_achievement(uow, achievement_public_id), fmt)


# ---------------------------------------------------------------- pages


def credential_page(ctx: Context, award_id: str) -> CredentialPage:
    with ctx.uow() as uow:
        award = _award(uow, award_id)
        stored = set(
            uow.session.scalars(
                select(IssuedDocument.format).where(IssuedDocument.award_id == award.id)
            )
        )
        return CredentialPage(
            award_id=award.public_id,
            achievement_id=award.achievement.public_id,
            achievement_name=award.achievement.name,
            achievement_description=award.achievement.description,
            issuer_slug=award.issuer.slug,
            issuer_name=award.issuer.name,
            issued_on=award.issued_on,
            valid_until=award.valid_until,
            status=award.status,
            status_reason=award.status_reason,
            is_public=award.is_public,
            downloads=tuple(
                Download(fmt, label, f"{fmt}.{issue.FILE_EXTENSIONS[fmt]}")
                for fmt, label in FORMAT_LABELS.items()
                if fmt in stored
            ),
            url=identity.credential_page_url(ctx.settings, award.public_id),
        )


def issuer_page(ctx: Context, slug: str) -> IssuerPage:
    with ctx.uow() as uow:
        row = _issuer(uow, slug)
        achievements = uow.session.scalars(
            select(Achievement)
            .where(Achievement.issuer_id == row.id, Achievement.is_public.is_(True))
            .order_by(Achievement.name)
        )
        return IssuerPage(
            slug=row.slug,
            name=row.name,
            url=_web_link(row.url),
            email=row.email,
            description=row.description,
            achievements=tuple(
                AchievementSummary(
                    a.public_id, a.name, a.description, a.achievement_type, a.credits_available
                )
                for a in achievements
            ),
        )


def achievement_page(ctx: Context, achievement_public_id: str) -> AchievementPage:
    with ctx.uow() as uow:
        row = _achievement(uow, achievement_public_id)
        return AchievementPage(
            public_id=row.public_id,
            name=row.name,
            description=row.description,
            achievement_type=row.achievement_type,
            criteria_narrative=row.criteria_narrative,
            criteria_url=_web_link(row.criteria_url),
            credits_available=row.credits_available,
            tags=tuple(row.tags or ()),
            issuer_slug=row.issuer.slug,
            issuer_name=row.issuer.name,
            is_public=row.is_public,
        )


def json_bytes(document: dict[str, Any]) -> bytes:
    """The bytes badger serves for a generated document (the same form as issued ones)."""
    return to_json_bytes(document)
