"""Issuing a certification renewal: the OB 3.0 renewal credential and its CLR 2.0 record.

When a learner's cycle is satisfied (the ledger says so, with reasons), the
renewal is one :class:`~badger.store.models.Award` of the certification
achievement (``achievementType`` ``Certification``), unique per learner,
achievement and cycle, rendered in every usual format plus ``clr-ldp``:

* the OB 3.0 credential (FACTS §2.5) has ``validFrom``/``validUntil`` = the
  new cycle, ``creditsEarned`` = the counted total, one Evidence entry per
  counted item (``id`` = the counted badge's credential id; approved
  activities that are not credentials are described in a narrative), and
  per-category Results against ResultDescriptions on the achievement.  Its
  ``credentialStatus`` is the award's **suspension** entry by default, so a
  shortfall (a counted badge revoked later) can suspend it and review can
  restore it;
* the ``clr-ldp`` document is a signed CLR 2.0 ``ClrCredential`` (FACTS §3)
  embedding every counted credential exactly as issued plus the renewal
  credential, listing their achievements, and linking each counted achievement
  to the certification with ``isPartOf``.  It shares the renewal's status bit.

:func:`issue_renewal` runs inside the caller's transaction (the certification
cycle service owns it); nothing is written when it refuses.  It sends no mail:
the cycle service sends the one renewal notice, with the links the award mail
would have carried (:func:`badger.services.claims.award_notice`).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from badger.credentials import clr2, ob3
from badger.credentials.model import RecipientInfo, StatusRef, to_json_bytes
from badger.domain.errors import NotFound, ValidationError
from badger.domain.ledger import Ledger, Policy
from badger.domain.recipients import IdentifierKind
from badger.proofs.signing import add_data_integrity_proof
from badger.services import audit, identity, issue
from badger.services.context import Context
from badger.store.db import UnitOfWork
from badger.store.models import (
    Achievement,
    Award,
    IssuedDocument,
    Issuer,
    Learner,
    LearnerIdentifier,
    Submission,
)

__all__ = ["CERTIFICATION", "CLR_FORMAT", "RenewalIssued", "issue_renewal"]

CLR_FORMAT = "clr-ldp"
CERTIFICATION = "Certification"
MAX_CYCLE_KEY = 40  # Award.cycle_key


@dataclass(frozen=True)
class RenewalIssued:
    award_public_id: str
    clr_url: str
    counted: tuple[str, ...]  # public ids of the counted awards/activities


def _credits_text(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _check_inputs(
    *,
    policy: Policy,
    ledger: Ledger,
    valid_from: datetime,
    valid_until: datetime,
    cycle_key: str,
    status_purpose: str,
) -> None:
    if status_purpose not in issue.STATUS_PURPOSES:
        raise ValidationError("status_purpose", f"one of {', '.join(issue.STATUS_PURPOSES)}")
    for name, value in (("valid_from", valid_from), ("valid_until", valid_until)):
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise ValidationError(name, "needs a time zone")
    if valid_until <= valid_from:
        raise ValidationError("valid_until", "must be after valid_from (the new cycle)")
    key = (cycle_key or "").strip()
    if not key or len(key) > MAX_CYCLE_KEY or key != cycle_key:
        raise ValidationError("cycle_key", f"1 to {MAX_CYCLE_KEY} characters, no outer spaces")
    if not ledger.satisfied:
        unmet = [r.reason for r in ledger.requirements if not r.met]
        raise ValidationError(
            "ledger", "the renewal is not satisfied: " + ("; ".join(unmet) or "no requirement met")
        )
    if ledger.required_total != policy.required_total:
        raise ValidationError(
            "ledger",
            f"was computed for a required total of {_credits_text(ledger.required_total)}, "
            f"not {policy.key} version {policy.version} "
            f"({_credits_text(policy.required_total)})",
        )


def _certification(uow: UnitOfWork, ref: str, default_issuer: str) -> Achievement:
    stmt = select(Achievement).join(Issuer)
    row = uow.session.scalar(stmt.where(Achievement.public_id == ref)) or uow.session.scalar(
        stmt.where(Achievement.slug == ref, Issuer.slug == default_issuer)
    )
    if row is None:
        raise NotFound(f"no achievement {ref!r}")
    if row.achievement_type != CERTIFICATION:
        raise ValidationError(
            "certification",
            f"{row.slug} is a {row.achievement_type}, not a {CERTIFICATION}: only a "
            "certification is renewed",
        )
    if row.credit_category:
        # Its renewal award would otherwise enter the next cycle's ledger as credit.
        raise ValidationError(
            "certification", f"{row.slug} has a credit category; a certification earns no CE credit"
        )
    return row


def _recipient(uow: UnitOfWork, learner_id: int) -> LearnerIdentifier:
    learner = uow.session.get(Learner, learner_id)
    if learner is None:
        raise NotFound(f"no learner {learner_id}")
    usable = [
        i for i in learner.identifiers if i.kind in (IdentifierKind.EMAIL, IdentifierKind.DID)
    ]
    if not usable:
        raise ValidationError("learner", "OB credentials need an email address or a DID")
    # The primary identifier, else a verified one, else the oldest (identifiers are id-ordered).
    return next(
        (i for i in usable if i.is_primary),
        next((i for i in usable if i.verified_at is not None), usable[0]),
    )


@dataclass(frozen=True)
class _Counted:
    line_id: str
    credit: ob3.CountedCredit
    credential: dict[str, Any] | None  # the counted badge's OB 3.0 credential, as issued


def _counted(uow: UnitOfWork, learner_id: int, ledger: Ledger) -> list[_Counted]:
    lines = [line for line in ledger.lines if line.counted > 0]
    ids = [line.item_id for line in lines]
    awards = {
        a.public_id: a for a in uow.session.scalars(select(Award).where(Award.public_id.in_(ids)))
    }
    submissions = {
        s.public_id: s
        for s in uow.session.scalars(select(Submission).where(Submission.public_id.in_(ids)))
    }
    uow.insert_queued()  # the documents of badges awarded in this transaction
    rows = uow.session.execute(
        select(IssuedDocument.award_id, IssuedDocument.content).where(
            IssuedDocument.award_id.in_([a.id for a in awards.values()]),
            IssuedDocument.format == "ob3-ldp",
        )
    )
    documents: dict[int, bytes] = {row.award_id: row.content for row in rows}
    out = []
    for line in lines:
        award, sub = awards.get(line.item_id), submissions.get(line.item_id)
        common = {
            "name": line.name,
            "counted": line.counted,
            "earned": line.earned,
            "reason": line.reason,
            "category": line.category,
        }
        if award is not None and award.learner_id == learner_id:
            if award.status != "active":
                raise ValidationError(
                    "ledger",
                    f"counted award {line.item_id} is {award.status}; recompute the ledger",
                )
            content = documents.get(award.id)
            if content is None:
                raise ValidationError(
                    "ledger", f"counted award {line.item_id} has no OB 3.0 credential to embed"
                )
            credential = json.loads(content)
            out.append(
                _Counted(
                    line.item_id,
                    ob3.CountedCredit(**common, credential_id=credential["id"]),
                    credential,
                )
            )
        elif (
            sub is not None
            and sub.learner_id == learner_id
            and sub.kind == "activity"
            and sub.status == "approved"
        ):
            credit = ob3.CountedCredit(**common, activity_id=sub.public_id, url=sub.url)
            out.append(_Counted(line.item_id, credit, None))
        else:
            raise ValidationError(
                "ledger",
                f"counted item {line.item_id} is neither an award nor an approved activity "
                "of this learner",
            )
    return out


def issue_renewal(
    ctx: Context,
    uow: UnitOfWork,
    *,
    learner_id: int,
    certification: str,
    policy: Policy,
    ledger: Ledger,
    valid_from: datetime,
    valid_until: datetime,
    cycle_key: str,
    actor: str,
    status_purpose: str = "suspension",
) -> RenewalIssued:
    """Issue the renewal of ``certification`` for a satisfied ``ledger``, in ``uow``.

    Refuses with :class:`ValidationError` (nothing written) when the ledger is
    not satisfied, the achievement is not a Certification, or a counted line
    is not an active award or approved activity of this learner; with
    :class:`~badger.domain.errors.Conflict` when the learner already holds the
    certification for ``cycle_key``.  The award's ``basis`` records the policy
    key and version and the counted ids.
    """
    _check_inputs(
        policy=policy,
        ledger=ledger,
        valid_from=valid_from,
        valid_until=valid_until,
        cycle_key=cycle_key,
        status_purpose=status_purpose,
    )
    settings = ctx.settings
    achievement = _certification(uow, certification, settings.issuer_slug)
    ident_row = _recipient(uow, learner_id)
    counted = _counted(uow, learner_id, ledger)
    counted_ids = tuple(c.line_id for c in counted)

    achievement_id = identity.achievement_url(settings, achievement.public_id)
    descriptions, results = ob3.renewal_results(achievement_id, ledger, policy)
    clr_id = f"urn:uuid:{uuid.uuid4()}"
    total = _credits_text(ledger.counted_total)
    basis = {
        "rule": "renewal",
        "actor": actor,
        "policy": policy.key,
        "policy_version": policy.version,
        "cycle_key": cycle_key,
        "counted": list(counted_ids),
        "counted_total": total,
        "required_total": _credits_text(ledger.required_total),
        "status_purpose": status_purpose,
        "clr_id": clr_id,
    }
    narrative = (
        f"Renewed for {valid_from:%Y-%m-%d} to {valid_until:%Y-%m-%d} under {policy.name} "
        f"(version {policy.version}): {total} of {basis['required_total']} required credits "
        f"counted from {len(counted)} item{'s' if len(counted) != 1 else ''}."
    )
    issued = issue.add_award(
        ctx,
        uow,
        issue.IssueRequest(
            achievement=achievement.public_id,
            recipient=ident_row.value,
            narrative=narrative,
            cycle_key=cycle_key,
            basis=basis,
            valid_from=valid_from,
            valid_until=valid_until,
            credits_earned=ledger.counted_total,
            evidence_credentials=ob3.renewal_evidence([c.credit for c in counted]),
            results=results,
            result_descriptions=descriptions,
            status_purpose=status_purpose,
        ),
        actor=actor,
        # The caller's renewal notice replaces the award mail: one mail per renewal.
        notify=False,
    )

    award = uow.session.scalar(select(Award).where(Award.public_id == issued.public_id))
    if award is None:  # pragma: no cover - add_award just flushed it
        raise NotFound(f"no award {issued.public_id}")
    uow.insert_queued()  # add_award queued the renewal's documents
    renewal_content = uow.session.scalar(
        select(IssuedDocument.content).where(
            IssuedDocument.award_id == award.id, IssuedDocument.format == "ob3-ldp"
        )
    )
    if renewal_content is None:  # pragma: no cover - add_award renders ob3-ldp
        raise NotFound(f"award {issued.public_id} has no OB 3.0 credential")
    renewal = json.loads(renewal_content)
    # The record shares the renewal credential's status bit: suspending the
    # certification suspends the record that bundles it.
    entry = renewal["credentialStatus"]
    status_ref = StatusRef(entry["statusListCredential"], int(entry["statusListIndex"]))

    issuer = achievement.issuer
    ident = identity.for_issuer(ctx, issuer)
    credentials = [c.credential for c in counted if c.credential is not None] + [renewal]
    recipient = (
        RecipientInfo(salt=secrets.token_hex(8), did=ident_row.value)
        if ident_row.kind == IdentifierKind.DID
        else RecipientInfo(salt=secrets.token_hex(8), email=ident_row.value)
    )
    now = ctx.now()
    clr = clr2.clr_credential(
        clr2.ClrInfo(
            id=clr_id,
            name=f"{achievement.name}: renewal record",
            description=narrative,
            issued_on=award.issued_on,
            valid_from=award.issued_on,
            status=status_ref,
            status_purpose=status_purpose,
        ),
        issue.issuer_info(ctx, issuer, ident),
        recipient,
        credentials,
        associations=clr2.part_of_associations(credentials, achievement_id),
    )
    signed = add_data_integrity_proof(
        clr, ctx.keystore, ident.slug, ident.verification_method, award.issued_on
    )
    content = to_json_bytes(signed)
    uow.session.add(
        IssuedDocument(
            award=award,
            format=CLR_FORMAT,
            media_type=issue.FORMATS[CLR_FORMAT],
            content=content,
            sha256=hashlib.sha256(content).hexdigest(),
            created_at=now,
        )
    )
    audit.record(
        uow,
        actor=actor,
        action="renewal.issue",
        subject_type="award",
        subject_id=award.public_id,
        now=now,
        certification=achievement.slug,
        policy=policy.key,
        policy_version=policy.version,
        cycle_key=cycle_key,
        counted=list(counted_ids),
        counted_total=total,
        clr_id=clr_id,
    )
    return RenewalIssued(
        award_public_id=award.public_id,
        clr_url=issue.document_url(ctx, award.public_id, CLR_FORMAT),
        counted=counted_ids,
    )
