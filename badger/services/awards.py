"""Read models of awards for the CLI, API and pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from badger.domain.recipients import parse_identifier
from badger.services.context import Context
from badger.store.models import Achievement, Award, Learner, LearnerIdentifier


@dataclass(frozen=True)
class AwardLine:
    public_id: str
    achievement: str
    achievement_name: str
    recipient: str
    issued_on: datetime
    status: str
    basis: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.public_id,
            "achievement": self.achievement,
            "recipient": self.recipient,
            "issued_on": self.issued_on.isoformat(),
            "status": self.status,
            "basis": self.basis,
        }


def list_awards(
    ctx: Context,
    *,
    achievement: str | None = None,
    recipient: str | None = None,
    learner_public_id: str | None = None,
    limit: int = 1000,
) -> list[AwardLine]:
    stmt = (
        select(Award, Achievement.slug, Achievement.name, LearnerIdentifier.value)
        .join(Achievement, Award.achievement_id == Achievement.id)
        .outerjoin(LearnerIdentifier, Award.recipient_identifier_id == LearnerIdentifier.id)
        .order_by(Award.issued_on.desc(), Award.id.desc())
        .limit(limit)
    )
    if achievement:
        stmt = stmt.where(
            (Achievement.slug == achievement) | (Achievement.public_id == achievement)
        )
    if recipient:
        ident = parse_identifier(recipient)
        learner_ids = select(LearnerIdentifier.learner_id).where(
            LearnerIdentifier.kind == ident.kind.value, LearnerIdentifier.value == ident.value
        )
        stmt = stmt.where(Award.learner_id.in_(learner_ids))
    if learner_public_id:
        stmt = stmt.where(
            Award.learner_id.in_(select(Learner.id).where(Learner.public_id == learner_public_id))
        )
    with ctx.uow() as uow:
        return [
            AwardLine(
                award.public_id,
                slug,
                name,
                value or "",
                award.issued_on,
                award.status,
                str((award.basis or {}).get("rule", "manual")),
            )
            for award, slug, name, value in uow.session.execute(stmt)
        ]
