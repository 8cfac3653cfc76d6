"""Issuing an award: one transaction renders, signs and stores every format.

An award (recipient x achievement x cycle) is the record; in the same
transaction badger stores, exactly as issued:

==============  ===============================================  =====================
format          what                                             media type
==============  ===============================================  =====================
``ob2-hosted``  OB 2.0 hosted Assertion (served at its ``id``)   application/ld+json
``ob2-signed``  OB 2.0 signed Assertion, compact JWS RS256       text/plain
``ob3-ldp``     OB 3.0 OpenBadgeCredential, eddsa-rdfc-2022      application/vc+ld+json
``ob3-jwt``     the same credential as VC-JWT (RS256)            application/vc+jwt
``ob2-png``     badge image baked with the OB 2.0 JWS            image/png
``ob2-svg``     badge image baked with the OB 2.0 JWS            image/svg+xml
``ob3-png``     badge image baked with the OB 3.0 credential     image/png
``ob3-svg``     badge image baked with the OB 3.0 credential     image/svg+xml
``clr-ldp``     CLR 2.0 ClrCredential, eddsa-rdfc-2022 (only     application/vc+ld+json
                certification renewals, :mod:`.renewal`)
==============  ===============================================  =====================

A failure anywhere (bad input, signing, a duplicate award) rolls everything
back: nothing half-issued.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, delete, exists, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import contains_eager, joinedload
from sqlalchemy.orm.attributes import instance_dict, set_committed_value

from badger.credentials import baking, ob2, ob3
from badger.credentials.images import default_badge_png, default_badge_svg
from badger.credentials.model import (
    AchievementInfo,
    AwardInfo,
    EvidenceInfo,
    IssuerInfo,
    RecipientInfo,
    ResultDescriptionInfo,
    ResultInfo,
    to_json_bytes,
)
from badger.domain.achievements import Alignment
from badger.domain.errors import Conflict, NotFound, ValidationError
from badger.domain.recipients import Identifier, IdentifierKind, parse_identifier
from badger.proofs.signing import add_data_integrity_proof, sign_ob2_jws, sign_vc_jwt
from badger.services import audit, claims, identity, status
from badger.services.context import Context
from badger.store.db import UnitOfWork
from badger.store.models import (
    Account,
    Achievement,
    Award,
    IssuedDocument,
    Issuer,
    Learner,
    LearnerIdentifier,
    new_public_id,
    utcnow,
)
from badger.store.prepared import Prepared

FORMATS: dict[str, str] = {
    "ob2-hosted": "application/ld+json",
    "ob2-signed": "text/plain",
    "ob3-ldp": "application/vc+ld+json",
    "ob3-jwt": "application/vc+jwt",
    "ob2-png": "image/png",
    "ob2-svg": "image/svg+xml",
    "ob3-png": "image/png",
    "ob3-svg": "image/svg+xml",
    "clr-ldp": "application/vc+ld+json",
}
FILE_EXTENSIONS = {
    "ob2-hosted": "json",
    "ob2-signed": "jws",
    "ob3-ldp": "json",
    "ob3-jwt": "jwt",
    "ob2-png": "png",
    "ob2-svg": "svg",
    "ob3-png": "png",
    "ob3-svg": "svg",
    "clr-ldp": "json",
}
RECORD_FORMATS = ("clr-ldp",)
"""Formats only some awards have (the CLR of a certification renewal, :mod:`.renewal`)."""
AWARD_FORMATS = tuple(fmt for fmt in FORMATS if fmt not in RECORD_FORMATS)
"""The renderings every award gets from :func:`render`."""
STATUS_PURPOSES = ("revocation", "suspension")
MAX_EVIDENCE = 20


@dataclass(frozen=True)
class EvidenceInput:
    url: str | None = None
    narrative: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class IssueRequest:
    achievement: str
    recipient: str
    recipient_name: str | None = None
    evidence: Sequence[EvidenceInput] = ()
    narrative: str | None = None
    issued_on: datetime | None = None
    cycle_key: str = ""
    basis: dict[str, Any] = field(default_factory=dict)
    # Certification renewals (badger.services.renewal) set these: the new cycle,
    # the counted total, Evidence citing each counted credential by id (not
    # http URLs, so not ``evidence``), per-category results, and which status
    # bit the OB 3.0 credential carries (FACTS §2.8: the OB schema allows one).
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    credits_earned: Decimal | None = None
    evidence_credentials: Sequence[EvidenceInfo] = ()
    results: Sequence[ResultInfo] = ()
    result_descriptions: Sequence[ResultDescriptionInfo] = ()
    status_purpose: str = "revocation"


class AlreadyHeld(Conflict):
    """The award was just made by a concurrent transaction; nothing was written."""


@dataclass(frozen=True)
class IssuedAward:
    public_id: str
    achievement_slug: str
    recipient: str
    issued_on: datetime
    formats: dict[str, str]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.public_id,
            "achievement": self.achievement_slug,
            "recipient": self.recipient,
            "issued_on": self.issued_on.isoformat(),
            "urls": self.formats,
        }


def document_url(ctx: Context, award_public_id: str, fmt: str) -> str:
    if fmt == "ob2-hosted":
        return identity.assertion_url(ctx.settings, award_public_id)
    page = identity.credential_page_url(ctx.settings, award_public_id)
    return f"{page}/{fmt}.{FILE_EXTENSIONS[fmt]}"


def format_urls(ctx: Context, award_public_id: str) -> dict[str, str]:
    urls = {"page": identity.credential_page_url(ctx.settings, award_public_id)}
    urls.update({fmt: document_url(ctx, award_public_id, fmt) for fmt in AWARD_FORMATS})
    return urls


# ---------------------------------------------------------------- identities and infos


def issuer_info(ctx: Context, issuer: Issuer, ident: identity.IssuerIdentity) -> IssuerInfo:
    keys = ctx.keystore.public_keys(issuer.slug)
    return IssuerInfo(
        id=ident.issuer_id,
        ob2_profile_url=ident.ob2_profile_url,
        name=issuer.name,
        url=issuer.url,
        email=issuer.email,
        description=issuer.description,
        image_url=issuer.image_uri,
        ob2_public_key_urls=tuple(ident.ob2_key_url(k) for k in keys if k.alg.value == "RS256"),
        ob2_revocation_list_url=ident.ob2_revocation_list_url,
    )


def achievement_info(ctx: Context, row: Achievement) -> AchievementInfo:
    settings = ctx.settings
    return AchievementInfo(
        id=identity.achievement_url(settings, row.public_id),
        ob2_badgeclass_url=identity.badge_class_url(settings, row.public_id),
        name=row.name,
        description=row.description,
        criteria_narrative=row.criteria_narrative,
        criteria_url=row.criteria_url,
        image_url=identity.achievement_image_url(settings, row.public_id, "png"),
        achievement_type=row.achievement_type,
        tags=tuple(row.tags or ()),
        alignments=tuple(Alignment(**a) for a in row.alignments or ()),
        credits_available=row.credits_available,
        human_code=row.human_code,
        field_of_study=row.field_of_study,
        version=str(row.version),
    )


def achievement_image(row: Achievement, fmt: str) -> bytes:
    """The achievement's picture: its uploaded PNG/SVG data URI, else the default badge."""
    return _image(row.slug, row.name, row.image_uri or "", fmt)


def award_images(ctx: Context, uow: UnitOfWork, row: Achievement) -> tuple[bytes, bytes]:
    """The achievement's picture as PNG and as SVG, to bake into an award of it.

    ``row`` may be a copy kept without a long picture (``awarding.SMALL_IMAGE_CHARS``):
    the picture is then read on this transaction, and the two drawn from it
    kept in this instance for that version of the achievement
    (:class:`_DrawnImages`), so that thousands of achievements do not keep
    their data URIs in memory and repeated awards do not read them again.
    """
    if "image_uri" in instance_dict(row):
        return achievement_image(row, "png"), achievement_image(row, "svg")
    drawn = ctx.extras.get(_DRAWN)
    if not isinstance(drawn, _DrawnImages):
        drawn = ctx.extras.setdefault(_DRAWN, _DrawnImages())
    key = (row.id, row.version)
    images = drawn.get(key)
    if images is None:
        uri = uow.core(_IMAGE_URI, {"achievement_id": row.id}).scalar() or ""
        images = _image(row.slug, row.name, uri, "png"), _image(row.slug, row.name, uri, "svg")
        drawn.put(key, images)
    return images


_DRAWN = "drawn_achievement_images"
_IMAGE_URI = Prepared(
    select(Achievement.image_uri).where(Achievement.id == bindparam("achievement_id"))
)


class _DrawnImages:
    """The pictures :func:`award_images` drew, the most recently used :data:`MAX` kept."""

    MAX = 64

    def __init__(self) -> None:
        self._kept: OrderedDict[tuple[int, int], tuple[bytes, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[int, int]) -> tuple[bytes, bytes] | None:
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
            return found

    def put(self, key: tuple[int, int], images: tuple[bytes, bytes]) -> None:
        with self._lock:
            self._kept[key] = images
            self._kept.move_to_end(key)
            while len(self._kept) > self.MAX:
                self._kept.popitem(last=False)


def _image(slug: str, name: str, uri: str, fmt: str) -> bytes:
    prefix = f"data:image/{'svg+xml' if fmt == 'svg' else 'png'};base64,"
    if uri.startswith(prefix):
        return _decoded(uri, len(prefix))
    return _default_image(slug, name, fmt)


@functools.lru_cache(maxsize=8)
def _decoded(uri: str, start: int) -> bytes:
    # About 1 ms for the largest picture allowed, which a bulk run would pay
    # per row.  Few kept: each entry holds its data URI (up to 700 KB) and
    # the decoded bytes.
    return base64.b64decode(uri[start:])


@functools.lru_cache(maxsize=256)
def _default_image(slug: str, name: str, fmt: str) -> bytes:
    # Drawing and optimising a PNG costs more than signing; every award of an
    # achievement without a picture bakes the same one.  Uploaded pictures are
    # not kept here: keyed by their data URI, 256 of them could hold hundreds
    # of MB per process.
    if fmt == "svg":
        return default_badge_svg(slug, name)
    return default_badge_png(slug, name)


# ---------------------------------------------------------------- the use case


# The lookups every award runs, built once (building a statement costs more
# than SQLite takes to run it).  The issuer comes with the achievement's join:
# add_award needs it, and a lazy load is a round trip.
_ACHIEVEMENT = select(Achievement).join(Issuer).options(contains_eager(Achievement.issuer))
_ACHIEVEMENT_BY_ID = _ACHIEVEMENT.where(Achievement.public_id == bindparam("ref"))
_ACHIEVEMENT_BY_SLUG = _ACHIEVEMENT.where(
    Achievement.slug == bindparam("ref"), Issuer.slug == bindparam("issuer")
)
# A known learner comes with its identifiers and account in one query, found
# by the identifier named: the award path reads both (primary identifier,
# claim or "you earned" mail), and each lazy load would be a round trip of
# its own.  One Core statement (no rows: a first sighting) instead of an
# identifier lookup followed by an ORM query with eager loads.
# LEARNER_WITH is that query unordered, for statements that go on from it
# (the awarding engine's lookup-or-first-sighting); its rows go to
# known_from_rows, ordered by the identifier's id.
_OWNER = LearnerIdentifier.__table__.alias("owner")
LEARNER_WITH = (
    select(*Learner.__table__.c, *LearnerIdentifier.__table__.c, *Account.__table__.c)
    .select_from(_OWNER)
    .join(Learner.__table__, Learner.__table__.c.id == _OWNER.c.learner_id)
    .join(
        LearnerIdentifier.__table__,
        LearnerIdentifier.__table__.c.learner_id == Learner.__table__.c.id,
    )
    .outerjoin(Account.__table__, Account.__table__.c.learner_id == Learner.__table__.c.id)
    .where(_OWNER.c.kind == bindparam("kind"), _OWNER.c.value == bindparam("value"))
)
_LEARNER_WITH = Prepared(LEARNER_WITH.order_by(LearnerIdentifier.__table__.c.id))
_LEARNER_COLUMNS = len(Learner.__table__.c)
_ACCOUNT_FROM = _LEARNER_COLUMNS + len(LearnerIdentifier.__table__.c)
LEARNER_WITH_WIDTH = _ACCOUNT_FROM + len(Account.__table__.c)
IDENTIFIER_COLUMNS = slice(_LEARNER_COLUMNS, _ACCOUNT_FROM)
_LEARNER_LOADED = (
    select(Learner)
    .where(Learner.id == bindparam("learner_id"))
    .options(joinedload(Learner.identifiers), joinedload(Learner.account))
)


def _known(uow: UnitOfWork, kind: str, value: str) -> tuple[Learner, LearnerIdentifier] | None:
    rows = uow.core(_LEARNER_WITH, {"kind": kind, "value": value}).all()
    if not rows:
        return None
    return known_from_rows(uow, rows, kind, value)


def known_from_rows(
    uow: UnitOfWork, rows: Sequence[Sequence[Any]], kind: str, value: str
) -> tuple[Learner, LearnerIdentifier]:
    """The learner and its identifier ``kind:value`` from :data:`LEARNER_WITH`'s rows (some)."""
    learner_id = rows[0][0]
    if uow.holds(Learner, learner_id):
        # Loaded earlier in this transaction: its collections may be too,
        # and a Core insert since (an identifier added) would not be in them.
        learner = uow.session.scalars(_LEARNER_LOADED, {"learner_id": learner_id}).unique().one()
        row = next((i for i in learner.identifiers if i.kind == kind and i.value == value), None)
        if row is None:
            uow.session.refresh(learner, ["identifiers"])
            row = next(i for i in learner.identifiers if i.kind == kind and i.value == value)
        return learner, row
    # The learner, all its identifiers and its account in one statement, made
    # into objects as an eager-loading ORM query would (at a fraction of that
    # query's cost, on the path of every event from a known learner).
    learner = uow.attach_loaded(Learner, rows[0][:_LEARNER_COLUMNS])
    identifiers = [
        uow.attach_loaded(LearnerIdentifier, r[_LEARNER_COLUMNS:_ACCOUNT_FROM]) for r in rows
    ]
    account_row = rows[0][_ACCOUNT_FROM:]
    account = None if account_row[0] is None else uow.attach_loaded(Account, account_row)
    set_committed_value(learner, "identifiers", identifiers)
    set_committed_value(learner, "account", account)
    for ident in identifiers:
        set_committed_value(ident, "learner", learner)
    if account is not None:
        set_committed_value(account, "learner", learner)
    return learner, next(i for i in identifiers if i.kind == kind and i.value == value)


def _find_achievement(uow: UnitOfWork, ref: str, default_issuer: str) -> Achievement:
    by_id = uow.session.scalar(_ACHIEVEMENT_BY_ID, {"ref": ref})
    if by_id is not None:
        return by_id
    by_slug = uow.session.scalar(_ACHIEVEMENT_BY_SLUG, {"ref": ref, "issuer": default_issuer})
    if by_slug is None:
        raise NotFound(f"no achievement {ref!r}")
    return by_slug


def learner_for(uow: UnitOfWork, raw: str, name: str | None) -> tuple[Learner, LearnerIdentifier]:
    """The learner an identifier names, created (unverified) on first sight.

    A first sighting inserts the learner, then its identifier with ``ON
    CONFLICT DO NOTHING`` (Core ``INSERT … RETURNING``, no ORM flush, no
    SAVEPOINT).  On PostgreSQL two concurrent first sightings both get that
    far; the loser's identifier insert waits for the winner, inserts
    nothing, and the loser deletes its own learner row and reads the
    winner's.  On SQLite the lookup ran under this transaction's write lock,
    so the conflict cannot happen there.
    """
    ident = parse_identifier(raw)
    return known_learner(uow, ident) or new_learner(uow, ident, name)


def new_learner(
    uow: UnitOfWork, ident: Identifier, name: str | None
) -> tuple[Learner, LearnerIdentifier]:
    """:func:`learner_for` once :func:`known_learner` found none: created, or a concurrent one."""
    values = first_sighting(ident, name)
    if uow.on_postgresql:
        made = adopt_first_sighting(
            uow, uow.core(_NEW_LEARNER_AND_IDENTIFIER, values).first(), values
        )
    else:
        made = _new_learner(uow, values)
    return made if made is not None else seen_concurrently(uow, ident)


def known_learner(uow: UnitOfWork, ident: Identifier) -> tuple[Learner, LearnerIdentifier] | None:
    """The learner ``ident`` names, with all its identifiers and its account; ``None`` if none."""
    return _known(uow, ident.kind.value, ident.value)


def seen_concurrently(uow: UnitOfWork, ident: Identifier) -> tuple[Learner, LearnerIdentifier]:
    """The learner a concurrent transaction created for ``ident`` (its insert won)."""
    existing = _known(uow, ident.kind.value, ident.value)
    if existing is None:  # pragma: no cover - the conflict said it exists
        raise Conflict(f"identifier {ident.value!r} is being recorded concurrently")
    return existing


def _new_learner(
    uow: UnitOfWork, values: Mapping[str, Any]
) -> tuple[Learner, LearnerIdentifier] | None:
    """The learner and its identifier (``first_sighting`` values), two inserts.

    ``None`` when the identifier exists.
    """
    learner = uow.insert_loaded(
        Learner,
        {
            "public_id": values["public_id"],
            "display_name": values["display_name"],
            "created_at": values["created_at"],
        },
    )
    row = uow.insert_loaded_unless(
        LearnerIdentifier,
        {
            "learner_id": learner.id,
            **{name: values[name] for name in _IDENTIFIER_COLUMNS},
        },
        unique=("kind", "value"),
    )
    if row is None:
        uow.delete_loaded(learner)
        return None
    return _first_sighting(learner, row)


# PostgreSQL: the learner and its identifier in one statement (a
# data-modifying CTE), one round trip fewer on every first sighting.  The
# learner's columns are all known before the insert except its id, which
# the identifier row returns.  NEW_IDENTIFIER is the identifier's insert,
# for statements that go on from it (the awarding engine records the event
# of a first sighting in the same statement); its parameters are
# first_sighting()'s values.
_NEW_LEARNER_COLUMNS = ("public_id", "display_name", "created_at")


def _learner_insert(*, unless_held: bool) -> Any:
    """The learner's insert as a CTE returning its id; ``unless_held``: only
    if no learner holds the identifier (``kind``, ``value``) as the
    statement's snapshot sees it."""
    values = select(
        *(bindparam(name, type_=Learner.__table__.c[name].type) for name in _NEW_LEARNER_COLUMNS)
    )
    if unless_held:
        values = values.where(
            ~exists().where(
                LearnerIdentifier.__table__.c.kind == bindparam("kind"),
                LearnerIdentifier.__table__.c.value == bindparam("value"),
            )
        )
    return (
        insert(Learner.__table__)
        .from_select(list(_NEW_LEARNER_COLUMNS), values)
        .returning(Learner.__table__.c.id)
        .cte("new_learner")
    )


_IDENTIFIER_COLUMNS = ("kind", "value", "verified_at", "is_primary", "created_at")


def _identifier_insert(new_learner: Any) -> Any:
    """The identifier's insert, its learner the one ``new_learner`` (a CTE) inserted."""
    return (
        pg_insert(LearnerIdentifier.__table__)
        .from_select(
            ["learner_id", *_IDENTIFIER_COLUMNS],
            select(
                new_learner.c.id,
                *(
                    bindparam(name, type_=LearnerIdentifier.__table__.c[name].type)
                    for name in _IDENTIFIER_COLUMNS
                ),
            ),
        )
        .on_conflict_do_nothing(index_elements=["kind", "value"])
        .returning(*LearnerIdentifier.__table__.c)
    )


NEW_IDENTIFIER = _identifier_insert(_learner_insert(unless_held=False))
# The same, its learner inserted only if no learner holds the identifier
# (as this statement's snapshot sees it): for a statement that also reads
# the learner holding it (LEARNER_WITH), one round trip for either case.
NEW_IDENTIFIER_UNLESS_HELD = _identifier_insert(_learner_insert(unless_held=True))
_NEW_LEARNER_AND_IDENTIFIER = Prepared(NEW_IDENTIFIER)
_DELETE_LEARNER = Prepared(
    delete(Learner.__table__).where(Learner.__table__.c.public_id == bindparam("public_id"))
)


MAX_NAME = 200  # a learner's display name (learner.display_name)


def first_sighting(ident: Identifier, name: str | None) -> dict[str, Any]:
    """The parameters of :data:`NEW_IDENTIFIER` for a learner first seen as ``ident``."""
    display = (name or "").strip() or (
        ident.value.split("@", 1)[0] if ident.kind is IdentifierKind.EMAIL else ident.value
    )
    return {
        "public_id": new_public_id(),
        "display_name": display[:MAX_NAME],  # an identifier's value can be longer
        "kind": ident.kind.value,
        "value": ident.value,
        "verified_at": None,
        "is_primary": True,
        "created_at": utcnow(),
    }


def adopt_first_sighting(
    uow: UnitOfWork, identifier: Sequence[Any] | None, values: Mapping[str, Any]
) -> tuple[Learner, LearnerIdentifier] | None:
    """The learner and identifier a statement from :data:`NEW_IDENTIFIER` inserted (PostgreSQL).

    ``identifier``: the identifier's row it returned, ``None`` when the
    identifier was taken (the insert waited for the transaction that took
    it); then the learner row the statement inserted is deleted, and
    ``None`` returned.
    """
    if identifier is None:
        uow.core(_DELETE_LEARNER, {"public_id": values["public_id"]})
        return None
    learner = uow.adopt_inserted(
        Learner,
        (identifier[1], values["public_id"], values["display_name"], values["created_at"]),
    )
    return _first_sighting(learner, uow.adopt_inserted(LearnerIdentifier, identifier))


def _first_sighting(
    learner: Learner, identifier: LearnerIdentifier
) -> tuple[Learner, LearnerIdentifier]:
    # A learner first seen here has no account yet and this one identifier;
    # saying so spares later code two lazy loads.
    set_committed_value(learner, "identifiers", [identifier])
    set_committed_value(learner, "account", None)
    set_committed_value(identifier, "learner", learner)
    return learner, identifier


def _evidence(items: Sequence[EvidenceInput]) -> tuple[EvidenceInfo, ...]:
    if len(items) > MAX_EVIDENCE:
        raise ValidationError("evidence", f"at most {MAX_EVIDENCE} items")
    out = []
    for i, item in enumerate(items):
        url = (item.url or "").strip() or None
        if url and not url.startswith(("https://", "http://")):
            raise ValidationError(f"evidence[{i}].url", "must be an http(s) URL")
        narrative = (item.narrative or "").strip() or None
        if not url and not narrative:
            raise ValidationError(f"evidence[{i}]", "needs a URL or a narrative")
        out.append(EvidenceInfo(url=url, narrative=narrative, name=item.name))
    return tuple(out)


def add_award(
    ctx: Context,
    uow: UnitOfWork,
    request: IssueRequest,
    *,
    actor: str,
    notify: bool = True,
    recipient: tuple[Learner, LearnerIdentifier] | None = None,
    unheld: bool = False,
    achievement: Achievement | None = None,
) -> IssuedAward:
    """Issue inside the caller's transaction (the awarding engine and bulk issue use this).

    ``notify`` tells the recipient after commit: a claim link for an address
    without a verified account, else a plain "you earned" mail.

    A caller that has already loaded them passes the learner and identifier
    ``request.recipient`` names (``recipient``), and ``unheld=True`` when it has just seen,
    in this transaction, that the learner does not hold the achievement in
    ``request.cycle_key``: the awarding engine saves three queries per award.
    Then a concurrent award of the same (learner, achievement, cycle) on
    PostgreSQL makes this one raise :class:`AlreadyHeld` before it writes
    anything, so the caller needs no SAVEPOINT.  ``achievement``: the row
    ``request.achievement`` names, with its issuer loaded, when the caller
    holds it already (the awarding engine keeps them between transactions,
    detached: it is only read here).
    """
    now = ctx.now()
    if len((request.recipient_name or "").strip()) > MAX_NAME:
        raise ValidationError("recipient_name", f"at most {MAX_NAME} characters")
    issued_on = request.issued_on or now
    if issued_on.tzinfo is None:
        raise ValidationError("issued_on", "needs a time zone")
    if issued_on > now + timedelta(minutes=5):
        raise ValidationError("issued_on", "is in the future")
    if achievement is None:
        achievement = _find_achievement(uow, request.achievement, ctx.settings.issuer_slug)
    issuer = achievement.issuer
    if recipient is None:
        learner, ident_row = learner_for(uow, request.recipient, request.recipient_name)
    else:
        learner, ident_row = recipient
    if not unheld:
        existing = uow.session.scalar(
            select(Award.public_id).where(
                Award.learner_id == learner.id,
                Award.achievement_id == achievement.id,
                Award.cycle_key == request.cycle_key,
            )
        )
        if existing is not None:
            raise Conflict(
                f"{request.recipient} already holds {achievement.slug} (award {existing})"
            )
    if request.status_purpose not in STATUS_PURPOSES:
        raise ValidationError("status_purpose", f"one of {', '.join(STATUS_PURPOSES)}")
    evidence = _evidence(request.evidence) + tuple(request.evidence_credentials)
    valid_from = request.valid_from or issued_on
    valid_until = (
        request.valid_until
        if request.valid_until is not None
        else issued_on + timedelta(days=achievement.validity_days)
        if achievement.validity_days
        else None
    )
    credits_earned = (
        request.credits_earned
        if request.credits_earned is not None
        else achievement.credits_available
    )
    # INSERT … RETURNING, not an ORM flush (a third of an award's database time).
    row = {
        "public_id": new_public_id(),
        "issuer_id": issuer.id,
        "achievement_id": achievement.id,
        "learner_id": learner.id,
        "recipient_identifier_id": ident_row.id,
        "cycle_key": request.cycle_key,
        "issued_on": issued_on,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "credits_earned": credits_earned,
        "narrative": (request.narrative or "").strip() or None,
        "evidence": [{k: v for k, v in vars(e).items() if v} for e in request.evidence],
        "basis": request.basis or {"rule": "manual", "actor": actor},
    }
    ident = identity.for_issuer(ctx, issuer)
    entries: dict[str, tuple[str, int]] | None = None
    if unheld:
        # Nothing was written above: losing a concurrent race here leaves the
        # caller's transaction as it was.  On PostgreSQL the award's status
        # entries are drawn in the same statement (one round trip less).
        if uow.on_postgresql:
            placed = status.insert_and_allocate(ctx, uow, issuer, ident, row, status.PURPOSES, now)
            award, entries = placed if placed is not None else (None, None)
        else:
            award = uow.insert_loaded_unless(
                Award, row, ("learner_id", "achievement_id", "cycle_key")
            )
        if award is None:
            raise AlreadyHeld(f"{request.recipient} already holds {achievement.slug}")
    else:
        award = uow.insert_loaded(Award, row)
    # The award's achievement, issuer and learner are the rows at hand (read
    # by the mail about it), not looked up again; a detached row stays detached.
    set_committed_value(award, "achievement", achievement)
    set_committed_value(award, "issuer", issuer)
    set_committed_value(award, "learner", learner)
    if entries is None:
        entries = status.allocate_all(ctx, uow, issuer, ident, award, status.PURPOSES, now)
    revocation, suspension = entries["revocation"], entries["suspension"]

    recipient = (
        RecipientInfo(salt=secrets.token_hex(8), did=ident_row.value)
        if ident_row.kind == IdentifierKind.DID
        else RecipientInfo(salt=secrets.token_hex(8), email=ident_row.value)
        if ident_row.kind == IdentifierKind.EMAIL
        else None
    )
    if recipient is None:
        raise ValidationError("recipient", "OB credentials need an email address or a DID")
    info = AwardInfo(
        public_id=award.public_id,
        ob2_assertion_url=identity.assertion_url(ctx.settings, award.public_id),
        ob3_credential_id=identity.credential_id(award.public_id),
        issued_on=issued_on,
        valid_from=valid_from,
        valid_until=valid_until,
        credits_earned=credits_earned,
        narrative=award.narrative,
        evidence=evidence,
        results=tuple(request.results),
        revocation=revocation,
        suspension=suspension,
        name=achievement.name,
        image_url=identity.achievement_image_url(ctx.settings, achievement.public_id, "png"),
    )
    documents = render(
        ctx,
        ident,
        issuer_info(ctx, issuer, ident),
        achievement,
        info,
        recipient,
        images=functools.partial(award_images, ctx, uow, achievement),
        status_purpose=request.status_purpose,
        result_descriptions=request.result_descriptions,
    )
    # Queued for the commit, not an ORM insert per rendering: nothing on the
    # award path reads them back (code that does calls uow.insert_queued()).
    for fmt, content in documents.items():
        uow.insert_later(
            IssuedDocument,
            {
                "award_id": award.id,
                "format": fmt,
                "media_type": FORMATS[fmt],
                "content": content,
                "sha256": hashlib.sha256(content).hexdigest(),
                "created_at": now,
            },
        )
    if notify:
        claims.offer_claim(ctx, uow, award, now=now, actor=actor)
    audit.record(
        uow,
        actor=actor,
        action="award.issue",
        subject_type="award",
        subject_id=award.public_id,
        now=now,
        achievement=achievement.slug,
        recipient=f"{ident_row.kind}:{ident_row.value}",
        basis=award.basis,
    )
    return IssuedAward(
        public_id=award.public_id,
        achievement_slug=achievement.slug,
        recipient=ident_row.value,
        issued_on=issued_on,
        formats=format_urls(ctx, award.public_id),
    )


def render(
    ctx: Context,
    ident: identity.IssuerIdentity,
    issuer: IssuerInfo,
    achievement_row: Achievement,
    award: AwardInfo,
    recipient: RecipientInfo,
    *,
    images: Callable[[], tuple[bytes, bytes]],
    status_purpose: str = "revocation",
    result_descriptions: Sequence[ResultDescriptionInfo] = (),
) -> dict[str, bytes]:
    """Every format of one award (:data:`AWARD_FORMATS`), signed.

    ``images()`` draws the achievement's picture as PNG and SVG (:func:`award_images`);
    ``status_purpose`` picks the status bit the OB 3.0 credential carries;
    ``result_descriptions`` are added to its achievement (a renewal's results).
    """
    achievement = achievement_info(ctx, achievement_row)
    if result_descriptions:
        achievement = dataclasses.replace(
            achievement, result_descriptions=tuple(result_descriptions)
        )
    slug = ident.slug
    hosted = ob2.hosted_assertion(award, achievement, issuer, recipient)
    signed_payload = ob2.signed_assertion(
        award, achievement, issuer, recipient, creator=ident.ob2_key_url(ident.rsa)
    )
    jws = sign_ob2_jws(signed_payload, ctx.keystore, slug)
    credential = ob3.open_badge_credential(
        award,
        achievement,
        issuer,
        recipient,
        status_purpose="suspension" if status_purpose == "suspension" else "revocation",
    )
    ldp = add_data_integrity_proof(
        credential, ctx.keystore, slug, ident.verification_method, award.issued_on
    )
    ldp_bytes = to_json_bytes(ldp)
    alg = ctx.settings.vc_jwt_alg
    jwt_key = ident.rsa if alg == "RS256" else ident.p256
    jwt = sign_vc_jwt(credential, ctx.keystore, slug, alg, ident.jwt_kid(jwt_key))
    png, svg = images()
    ldp_text = ldp_bytes.decode("utf-8")
    return {
        "ob2-hosted": to_json_bytes(hosted),
        "ob2-signed": jws.encode("ascii"),
        "ob3-ldp": ldp_bytes,
        "ob3-jwt": jwt.encode("ascii"),
        "ob2-png": baking.bake_png(png, jws, baking.BakeKind.OB2),
        "ob2-svg": baking.bake_svg(svg, jws, baking.BakeKind.OB2),
        "ob3-png": baking.bake_png(png, ldp_text, baking.BakeKind.OB3),
        "ob3-svg": baking.bake_svg(svg, ldp_text, baking.BakeKind.OB3),
    }


def issue_award(ctx: Context, request: IssueRequest, *, actor: str) -> IssuedAward:
    """Issue one award in its own transaction, with what it completes.

    Like an automatic award, a manual one awards the stacks it completes and
    renews an auto-renewing cycle it satisfies, in the same transaction.
    """
    # Imported here: the awarding engine builds on this module.
    from badger.services import awarding

    with ctx.uow() as uow:
        issued = add_award(ctx, uow, request, actor=actor)
        awarding.after_issue(ctx, uow, issued, actor=actor)
        return issued


# ---------------------------------------------------------------- reading back


@dataclass(frozen=True)
class StoredDocument:
    award_public_id: str
    format: str
    media_type: str
    content: bytes
    sha256: str
    award_status: str
    status_reason: str | None
    is_public: bool


def get_document(ctx: Context, award_public_id: str, fmt: str) -> StoredDocument:
    if fmt not in FORMATS:
        raise ValidationError("format", f"one of {', '.join(FORMATS)}")
    with ctx.uow() as uow:
        row = uow.session.execute(
            select(IssuedDocument, Award)
            .join(Award)
            .where(Award.public_id == award_public_id, IssuedDocument.format == fmt)
        ).first()
        if row is None:
            raise NotFound(f"no {fmt} document for award {award_public_id}")
        doc, award = row
        return StoredDocument(
            award_public_id,
            fmt,
            doc.media_type,
            doc.content,
            doc.sha256,
            award.status,
            award.status_reason,
            award.is_public,
        )
