"""What a learner sees on their dashboard: badges, pending claims, submissions.

Badges count when they were issued to one of the learner's *verified*
identifiers (or to the learner directly, with no identifier recorded): a badge
sent to an address the learner has not proved is a pending claim, not theirs
yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from badger.domain.errors import NotFound
from badger.services import awarding, claims, progress, review
from badger.services.context import Context
from badger.store.models import Account, Achievement, Award, Issuer, Learner, LearnerIdentifier


@dataclass(frozen=True)
class BadgeCard:
    award_public_id: str
    achievement_public_id: str
    achievement_name: str
    issuer_name: str
    issued_on: datetime
    valid_until: datetime | None
    # active | revoked | suspended | expired
    status: str
    status_reason: str | None
    recipient: str
    is_public: bool


@dataclass(frozen=True)
class Dashboard:
    display_name: str
    email: str
    email_verified: bool
    badges: tuple[BadgeCard, ...]
    claims: tuple[claims.PendingClaim, ...]
    submissions: tuple[review.SubmissionView, ...]
    cycles: tuple[progress.CycleSummary, ...] = ()
    towards: tuple[awarding.Towards, ...] = ()  # badges started on, not yet earned


def display_status(status: str, valid_until: datetime | None, now: datetime) -> str:
    """The stored status, or ``expired`` for an active award past its end date."""
    if status == "active" and valid_until is not None and valid_until <= now:
        return "expired"
    return status


def badges_of(ctx: Context, learner_public_id: str) -> list[BadgeCard]:
    """The learner's badges, newest first (only those issued to proved identifiers)."""
    now = ctx.now()
    stmt = (
        select(Award, Achievement.public_id, Achievement.name, Issuer.name, LearnerIdentifier)
        .join(Learner, Award.learner_id == Learner.id)
        .join(Achievement, Award.achievement_id == Achievement.id)
        .join(Issuer, Award.issuer_id == Issuer.id)
        .outerjoin(LearnerIdentifier, Award.recipient_identifier_id == LearnerIdentifier.id)
        .where(Learner.public_id == learner_public_id)
        .where(Award.recipient_identifier_id.is_(None) | LearnerIdentifier.verified_at.is_not(None))
        .order_by(Award.issued_on.desc(), Award.id.desc())
    )
    with ctx.uow() as uow:
        return [
            BadgeCard(
                award_public_id=award.public_id,
                achievement_public_id=achievement_id,
                achievement_name=name,
                issuer_name=issuer_name,
                issued_on=award.issued_on,
                valid_until=award.valid_until,
                status=display_status(award.status, award.valid_until, now),
                status_reason=award.status_reason,
                recipient=ident.value if ident is not None else "",
                is_public=award.is_public,
            )
            for award, achievement_id, name, issuer_name, ident in uow.session.execute(stmt)
        ]


def dashboard(ctx: Context, account_public_id: str) -> Dashboard:
    with ctx.uow() as uow:
        account = uow.session.scalar(select(Account).where(Account.public_id == account_public_id))
        if account is None:
            raise NotFound("no such account")
        learner_id = account.learner.public_id
        name, email = account.learner.display_name, account.email
        verified = any(
            i.kind == "email" and i.value == email and i.verified_at is not None
            for i in account.learner.identifiers
        )
    return Dashboard(
        display_name=name,
        email=email,
        email_verified=verified,
        badges=tuple(badges_of(ctx, learner_id)),
        claims=tuple(claims.pending_claims(ctx, learner_id)),
        submissions=tuple(review.submissions_of(ctx, learner_id)),
        cycles=tuple(progress.summaries(ctx, learner_id)),
        towards=tuple(awarding.progress_towards(ctx, learner_id)),
    )
