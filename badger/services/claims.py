"""Claiming an award by email: a one-time, expiring link.

An award made to an address nobody has proved (no account, or an unverified
address) comes with a claim link, sent through the outbox once the issuing
transaction commits.  Following the link while signed in binds the address to
that account's learner: the address becomes verified, and if the award went to
a placeholder learner created at issue time, everything that learner holds
(awards, submissions, completion events, certification cycles, identifiers)
moves onto the account's learner; a placeholder's open cycle under a policy the
account already has open is closed into the account's.  A learner holds several verified identifiers, so a new email address
never forces revoke-and-reissue: the credential still names the address it was
issued to, and that address now belongs to the learner.

Only the SHA-256 digest of a link's token is stored.  The token is 256 random
bits, so a fast hash is the right tool (a password hasher buys nothing, as for
API tokens), and a leaked table grants no claims.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from badger.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from badger.domain.recipients import IdentifierKind
from badger.domain.requirements import Dependencies
from badger.services import audit, identity
from badger.services.accounts import AccountView, actor_of
from badger.services.context import Context
from badger.services.mail import Message
from badger.store.db import UnitOfWork

if TYPE_CHECKING:
    from badger.services.issue import IssuedAward
from badger.store.models import (
    Account,
    Achievement,
    Award,
    CertificationCycle,
    ClaimToken,
    CycleRequest,
    Issuer,
    Learner,
    LearnerIdentifier,
    Submission,
)
from badger.store.models import CompletionEvent as EventRow

CLAIM_TTL = timedelta(days=30)
# token_urlsafe(32) is 43 characters; anything much longer is not ours.
MAX_TOKEN_LENGTH = 128
INVALID_LINK = "this claim link is not valid"


@dataclass(frozen=True)
class ClaimResult:
    award_public_id: str
    achievement_name: str
    identifier: str
    learner_public_id: str
    # The placeholder learner merged into the account's learner, if any.
    merged_learner_public_id: str | None = None
    moved_awards: tuple[str, ...] = ()
    # Awards the placeholder held for achievements (and cycles) the account's
    # learner already holds: one learner holds one award per achievement and
    # cycle, so these stay with the placeholder for staff to resolve.
    kept_apart: tuple[str, ...] = ()
    # Awards the merged facts completed (a stack, an activity total).
    awarded: tuple[IssuedAward, ...] = ()
    # The placeholder's open cycles closed into the account's open cycle
    # under the same policy (badger.services.cycles.merge_into).
    merged_cycles: tuple[str, ...] = ()


@dataclass(frozen=True)
class PendingClaim:
    award_public_id: str
    achievement_name: str
    issuer_name: str
    identifier: str
    created_at: datetime
    expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def claim_url(ctx: Context, token: str) -> str:
    return f"{ctx.settings.base_url}/claim/{token}"


# ---------------------------------------------------------------- offering


@dataclass(frozen=True)
class AwardNotice:
    """Where the mail about a new award goes, and what it links to.

    ``claim_url`` is set (and its token stored) when the address must be
    proved by following a link: sent anywhere else, the link would let
    another inbox claim the address.
    """

    to: str
    page_url: str
    claim_url: str | None = None
    expires_at: datetime | None = None


def award_notice(
    ctx: Context,
    uow: UnitOfWork,
    award: Award | str,
    *,
    now: datetime,
    ttl: timedelta = CLAIM_TTL,
    actor: str = audit.SYSTEM,
) -> AwardNotice | None:
    """Prepare the mail about a new award inside the issuing transaction (``None``: no address).

    A claim link when the award went to an email address that is unverified
    or whose learner has no account; else the badge page only, to the
    verified address (or the account's, for a DID or URL recipient).
    :func:`offer_claim` sends the usual mail from it; a certification renewal
    puts the same links in its own, single mail.
    """
    row = award if isinstance(award, Award) else _award(uow, award)
    ident = (
        uow.session.get(LearnerIdentifier, row.recipient_identifier_id)
        if row.recipient_identifier_id is not None
        else None
    )
    account = row.learner.account
    page = identity.credential_page_url(ctx.settings, row.public_id)
    if ident is None or ident.kind != IdentifierKind.EMAIL:
        # A DID or URL recipient cannot receive a link; write to the account if any.
        return AwardNotice(account.email, page) if account is not None else None
    if ident.verified_at is not None and account is not None:
        return AwardNotice(ident.value, page)
    token = secrets.token_urlsafe(32)
    expires_at = now + ttl
    # Queued: nothing reads the token back in this transaction, and a bulk
    # run's tokens go in with one executemany.
    uow.insert_later(
        ClaimToken,
        {
            "award_id": row.id,
            "identifier_id": ident.id,
            "digest": _digest(token),
            "expires_at": expires_at,
            "claimed_at": None,
            "created_at": now,
        },
    )
    audit.record(
        uow,
        actor=actor,
        action="award.offer_claim",
        subject_type="award",
        subject_id=row.public_id,
        now=now,
        identifier=f"{ident.kind}:{ident.value}",
        expires_at=expires_at.isoformat(),
    )
    return AwardNotice(ident.value, page, claim_url(ctx, token), expires_at)


def offer_claim(
    ctx: Context,
    uow: UnitOfWork,
    award: Award | str,
    *,
    now: datetime,
    ttl: timedelta = CLAIM_TTL,
    actor: str = audit.SYSTEM,
) -> None:
    """Tell the recipient of a new award, inside the issuing transaction.

    A claim link when the award went to an email address that is unverified or
    whose learner has no account; a plain "you earned" message when the
    address is verified and has an account.  Either mail goes out only after
    the transaction commits.
    """
    row = award if isinstance(award, Award) else _award(uow, award)
    notice = award_notice(ctx, uow, row, now=now, ttl=ttl, actor=actor)
    if notice is None:
        return
    badge, issuer = row.achievement.name, row.issuer.name
    if notice.claim_url is None or notice.expires_at is None:
        _send_after_commit(
            ctx, uow, _earned(notice.to, row.learner, badge, issuer, notice.page_url)
        )
        return
    body = "\n".join(
        [
            "Hello,",
            "",
            f"{issuer} has awarded you the badge “{badge}”.",
            "",
            *claim_lines(notice),
            "If you did not expect this message, you can ignore it.",
            "",
        ]
    )
    _send_after_commit(
        ctx, uow, Message(to=notice.to, subject=f"Claim your badge: {badge}", body=body)
    )


def claim_lines(notice: AwardNotice) -> list[str]:
    """The lines of a mail that carry a claim link (empty when there is none)."""
    if notice.claim_url is None or notice.expires_at is None:
        return []
    return [
        "Claim it here (sign in or create an account when asked):",
        "",
        f"  {notice.claim_url}",
        "",
        f"The link works once and expires on {notice.expires_at:%d %B %Y} (UTC).",
    ]


def _earned(to: str, learner: Learner, badge: str, issuer: str, page: str) -> Message:
    body = "\n".join(
        [
            f"Hello {learner.display_name},",
            "",
            f"{issuer} has awarded you the badge “{badge}”.",
            "",
            f"See it, download it and share it here: {page}",
            "",
        ]
    )
    return Message(to=to, subject=f"You earned a badge: {badge}", body=body)


def _send_after_commit(ctx: Context, uow: UnitOfWork, message: Message) -> None:
    uow.after_commit(lambda: ctx.mailer.send(message))


def _award(uow: UnitOfWork, public_id: str) -> Award:
    return uow.by_public_id(Award, public_id, "award")


# ---------------------------------------------------------------- claiming


def claim(ctx: Context, token: str, account: AccountView) -> ClaimResult:
    """Bind the address a claim link was sent to onto ``account``'s learner, in one transaction."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise NotFound(INVALID_LINK)
    if not account.is_active:
        raise PermissionDenied("this account is disabled")
    digest = _digest(token)
    now = ctx.now()
    actor = actor_of(account)
    with ctx.uow() as uow:
        # The lookup goes through the unique index on the digest.  Index
        # timing cannot leak a token: an attacker cannot choose the SHA-256
        # of a guess, so learning how many leading digest characters matched
        # says nothing about any real token.  The explicit compare keeps the
        # final check constant-time all the same (STYLE habit 11).
        row = uow.session.scalar(
            select(ClaimToken).where(ClaimToken.digest == digest).with_for_update()
        )
        if row is None or not hmac.compare_digest(row.digest, digest):
            raise NotFound(INVALID_LINK)
        if row.claimed_at is not None:
            raise Conflict("already claimed")
        if now >= row.expires_at:
            raise ValidationError("token", "expired: ask the issuer to send a new claim link")
        target = uow.session.scalar(
            select(Learner).join(Account).where(Account.public_id == account.public_id)
        )
        if target is None:
            raise NotFound(f"no account {account.public_id!r}")
        ident = row.identifier
        source = ident.learner
        result = ClaimResult(
            award_public_id=row.award.public_id,
            achievement_name=row.award.achievement.name,
            identifier=ident.value,
            learner_public_id=target.public_id,
        )
        triggers = None
        if source.id != target.id:
            if source.account is not None:
                raise Conflict(
                    "this address belongs to another account; sign in with that account to claim"
                )
            result, triggers = _merge(
                ctx, uow, source, target, result, identifier=ident.value, actor=actor, now=now
            )
        if ident.verified_at is None:
            ident.verified_at = now
        # Every link sent to this address is answered by this claim: the
        # awards are now the account's either way.
        for pending in uow.session.scalars(
            select(ClaimToken).where(
                ClaimToken.identifier_id == ident.id, ClaimToken.claimed_at.is_(None)
            )
        ):
            pending.claimed_at = now
        uow.session.flush()
        audit.record(
            uow,
            actor=actor,
            action="award.claim",
            subject_type="award",
            subject_id=result.award_public_id,
            now=now,
            identifier=f"{ident.kind}:{ident.value}",
            learner=target.public_id,
            merged_learner=result.merged_learner_public_id,
            moved_awards=list(result.moved_awards),
            kept_apart=list(result.kept_apart),
            merged_cycles=list(result.merged_cycles),
        )
        if triggers is not None:
            # Imported here: issuing offers claims, so awarding -> issue -> claims
            # at module level would be circular (and cycles mails through claims).
            from badger.services import awarding, cycles

            evaluation = awarding.evaluate(ctx, uow, target, triggers, actor=actor)
            result = replace(result, awarded=evaluation.awarded)
            # The moved badges may complete an auto-renewing cycle even when the
            # merge itself awards nothing (a no-op when nothing is satisfied).
            cycles.after_award(ctx, uow, target.id, actor=actor)
        return result


def _merge(
    ctx: Context,
    uow: UnitOfWork,
    source: Learner,
    target: Learner,
    result: ClaimResult,
    *,
    identifier: str,
    actor: str,
    now: datetime,
) -> tuple[ClaimResult, Dependencies]:
    """Move the placeholder ``source``'s records onto ``target``; the triggers to re-evaluate."""
    session = uow.session
    held = {
        (achievement_id, cycle_key)
        for achievement_id, cycle_key in session.execute(
            select(Award.achievement_id, Award.cycle_key).where(Award.learner_id == target.id)
        )
    }
    moved: list[str] = []
    kept: list[str] = []
    moved_slugs: set[str] = set()
    for award in session.scalars(
        select(Award).where(Award.learner_id == source.id).order_by(Award.id)
    ):
        if (award.achievement_id, award.cycle_key) in held:
            kept.append(award.public_id)
            continue
        award.learner = target
        moved.append(award.public_id)
        moved_slugs.add(award.achievement.slug)
    evidence_slugs = set(
        session.scalars(
            select(Achievement.slug)
            .join(Submission, Submission.achievement_id == Achievement.id)
            .where(
                Submission.learner_id == source.id,
                Submission.kind == "evidence",
                Submission.status == "approved",
            )
        )
    )
    activities = (
        session.scalar(
            select(Submission.id).where(
                Submission.learner_id == source.id,
                Submission.kind == "activity",
                Submission.status == "approved",
            )
        )
        is not None
    )
    event_kinds = set(
        session.scalars(select(EventRow.kind).where(EventRow.learner_id == source.id))
    )
    # Keep updated_at: it is how long a submission has waited for review.
    session.execute(
        update(Submission)
        .where(Submission.learner_id == source.id)
        .values(learner_id=target.id, updated_at=Submission.updated_at)
    )
    session.execute(
        update(EventRow).where(EventRow.learner_id == source.id).values(learner_id=target.id)
    )
    merged_cycles = _move_cycles(
        ctx, uow, source, target, identifier=identifier, actor=actor, now=now
    )
    for moving in list(source.identifiers):
        # The account's learner keeps its own primary address.
        moving.is_primary = False
        moving.learner = target
    session.flush()
    merged_id = source.public_id
    if not kept:
        # Delete the emptied placeholder.  Should a table this merge does not
        # know about still point at it, keep the empty row rather than fail
        # the claim.
        savepoint = session.begin_nested()
        try:
            session.delete(source)
            session.flush()
        except IntegrityError:
            savepoint.rollback()
        else:
            savepoint.commit()
    triggers = Dependencies(
        achievements=frozenset(moved_slugs),
        evidence_for=frozenset(evidence_slugs),
        event_kinds=frozenset(event_kinds),
        activities=activities,
    )
    merged = replace(
        result,
        merged_learner_public_id=merged_id,
        moved_awards=tuple(moved),
        kept_apart=tuple(kept),
        merged_cycles=merged_cycles,
    )
    return merged, triggers


def _move_cycles(
    ctx: Context,
    uow: UnitOfWork,
    source: Learner,
    target: Learner,
    *,
    identifier: str,
    actor: str,
    now: datetime,
) -> tuple[str, ...]:
    """Certification cycles (and their requests) follow the badges to ``target``.

    An open cycle under a policy the target already has open is closed into
    the target's (:func:`badger.services.cycles.merge_into`: one open cycle
    per learner and policy; the moved badges count there) and moves too, as
    history.  Returns the closed cycles' public ids.
    """
    # Imported here: cycles mails through this module.
    from badger.services import cycles

    session = uow.session
    open_cycles = {
        cycle.open_policy_key: cycle
        for cycle in session.scalars(
            select(CertificationCycle).where(
                CertificationCycle.learner_id == target.id,
                CertificationCycle.open_policy_key.is_not(None),
            )
        )
    }
    merged = []
    for cycle in session.scalars(
        select(CertificationCycle)
        .where(CertificationCycle.learner_id == source.id)
        .order_by(CertificationCycle.id)
    ).all():
        into = open_cycles.get(cycle.open_policy_key) if cycle.open_policy_key else None
        if into is not None:
            cycles.merge_into(
                ctx,
                uow,
                cycle,
                into,
                why=f"{identifier} was claimed by an account with that cycle open",
                actor=actor,
                now=now,
            )
            merged.append(cycle.public_id)
        session.execute(
            update(CycleRequest)
            .where(CycleRequest.cycle_id == cycle.id)
            .values(learner_id=target.id)
        )
        cycle.learner_id = target.id
    return tuple(merged)


# ---------------------------------------------------------------- reading


def pending_claims(ctx: Context, learner_public_id: str) -> list[PendingClaim]:
    """Unclaimed, unexpired claim links sent to this learner's addresses, oldest first."""
    now = ctx.now()
    with ctx.uow() as uow:
        rows = uow.session.execute(
            select(
                ClaimToken, LearnerIdentifier.value, Award.public_id, Achievement.name, Issuer.name
            )
            .join(LearnerIdentifier, ClaimToken.identifier_id == LearnerIdentifier.id)
            .join(Learner, LearnerIdentifier.learner_id == Learner.id)
            .join(Award, ClaimToken.award_id == Award.id)
            .join(Achievement, Award.achievement_id == Achievement.id)
            .join(Issuer, Award.issuer_id == Issuer.id)
            .where(
                Learner.public_id == learner_public_id,
                ClaimToken.claimed_at.is_(None),
                ClaimToken.expires_at > now,
            )
            .order_by(ClaimToken.created_at, ClaimToken.id)
        )
        return [
            PendingClaim(
                award_public_id=award_id,
                achievement_name=name,
                issuer_name=issuer_name,
                identifier=value,
                created_at=token.created_at,
                expires_at=token.expires_at,
            )
            for token, value, award_id, name, issuer_name in rows
        ]
