"""Read models of awards for the CLI, API and pages: lists, and how an award came about."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from badger.domain.errors import NotFound
from badger.domain.recipients import parse_identifier
from badger.domain.requirements import named_reason
from badger.services import catalog
from badger.services.context import Context
from badger.store.models import (
    Achievement,
    Award,
    CompletionEvent,
    Learner,
    LearnerIdentifier,
    Submission,
)


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
        return [_line(*row) for row in uow.session.execute(stmt)]


def _line(award: Award, slug: str, name: str, recipient: str | None) -> AwardLine:
    how = str((award.basis or {}).get("rule", "manual"))
    return AwardLine(
        award.public_id, slug, name, recipient or "", award.issued_on, award.status, how
    )


# ---------------------------------------------------------------- how an award came about


@dataclass(frozen=True)
class AwardDetail:
    """One award for the issuer's staff: what it is and how it came about."""

    line: AwardLine
    status_reason: str | None
    basis: EarnedBasis

    def as_json(self) -> dict[str, Any]:
        return {
            **self.line.as_json(),
            "status_reason": self.status_reason,
            "how": self.basis.how,
            "rules": _node_json(self.basis.rules) if self.basis.rules else None,
            "row": self.basis.row,
            "summary": self.basis.summary,
        }


def award_detail(ctx: Context, public_id: str) -> AwardDetail:
    """The award ``public_id`` with how it came about (for the CLI and the admin console)."""
    with ctx.uow() as uow:
        row = uow.session.execute(
            select(Award, Achievement.slug, Achievement.name, LearnerIdentifier.value)
            .join(Achievement, Award.achievement_id == Achievement.id)
            .outerjoin(LearnerIdentifier, Award.recipient_identifier_id == LearnerIdentifier.id)
            .where(Award.public_id == public_id)
        ).first()
        if row is None:
            raise NotFound(f"no award {public_id!r}")
        award = row[0]
        return AwardDetail(_line(*row), award.status_reason, earned_basis(uow.session, award))


def _node_json(node: BasisNode) -> dict[str, Any]:
    return {
        "met": node.met,
        "reason": node.reason,
        "inputs": [
            {
                "kind": i.kind,
                "id": i.ref,
                "label": i.label,
                "when": i.when.isoformat() if i.when else None,
                "found": i.found,
            }
            for i in node.inputs
        ],
        "children": [_node_json(child) for child in node.children],
    }


@dataclass(frozen=True)
class BasisInput:
    """A fact an automatic award used, named as its learner knows it.

    ``kind``: award (``ref`` one of their badges), event, evidence or
    activity (``ref`` a submission of theirs); ``when`` it was issued,
    happened or was approved; ``found`` false when it is no longer on record.
    """

    kind: str
    ref: str
    label: str
    when: datetime | None = None
    found: bool = True


@dataclass(frozen=True)
class BasisNode:
    """One rule of the requirements, met or not, with the facts that met it."""

    met: bool
    reason: str
    inputs: tuple[BasisInput, ...] = ()
    children: tuple[BasisNode, ...] = ()


@dataclass(frozen=True)
class EarnedBasis:
    """How an award came about (Award.basis), for its learner's page and the staff's.

    ``how``: automatic (``rules`` the requirements as they were evaluated),
    manual, bulk (``row``), renewal (``summary``), or what another path wrote.
    """

    how: str
    rules: BasisNode | None = None
    row: int | None = None
    summary: str | None = None


def earned_basis(session: Session, award: Award) -> EarnedBasis:
    """``award.basis`` with every input it names resolved to what its learner knows it as."""
    basis = award.basis or {}
    how = str(basis.get("rule") or "manual")
    if how == "bulk":
        row = basis.get("row")
        return EarnedBasis(how, row=row if isinstance(row, int) else None)
    if how == "renewal":
        summary = (
            f"{basis.get('counted_total')} of {basis.get('required_total')} required credits "
            f"counted under version {basis.get('policy_version')} of the renewal policy"
        )
        return EarnedBasis(how, summary=summary)
    outcome = basis.get("outcome")
    if how != "automatic" or not isinstance(outcome, dict):
        return EarnedBasis(how)
    known = _inputs(session, award.learner_id, _refs(outcome))
    names = catalog.achievement_names(
        session, {(award.issuer_id, slug) for slug in _abouts(outcome)}
    )
    return EarnedBasis(how, rules=_node(outcome, known, names.get(award.issuer_id, {})))


def _nodes(outcome: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """A recorded outcome and all its parts (depth first)."""
    yield outcome
    for child in outcome.get("children", []):
        if isinstance(child, dict):
            yield from _nodes(child)


def _abouts(outcome: dict[str, Any]) -> set[str]:
    return {n["about"] for n in _nodes(outcome) if isinstance(n.get("about"), str)}


def _refs(outcome: dict[str, Any]) -> set[str]:
    return {ref for n in _nodes(outcome) for ref in n.get("inputs", []) if isinstance(ref, str)}


def _node(
    outcome: dict[str, Any], known: dict[str, BasisInput], names: dict[str, str]
) -> BasisNode:
    about = outcome.get("about")  # bases recorded before 2026-12-07 have none: slugs stay
    reason = named_reason(
        str(outcome.get("code", "")),
        str(outcome.get("reason", "")),
        about if isinstance(about, str) else None,
        names,
    )
    return BasisNode(
        met=bool(outcome.get("met")),
        reason=reason,
        inputs=tuple(
            known.get(ref) or BasisInput(*ref.partition(":")[::2], "", found=False)
            for ref in outcome.get("inputs", [])
            if isinstance(ref, str)
        ),
        children=tuple(_node(child, known, names) for child in outcome.get("children", [])),
    )


def _inputs(session: Session, learner_id: int, refs: set[str]) -> dict[str, BasisInput]:
    """The learner's own awards, events and submissions among ``refs`` (``kind:public_id``)."""
    by_kind: dict[str, set[str]] = {}
    for ref in refs:
        kind, _, public_id = ref.partition(":")
        by_kind.setdefault(kind, set()).add(public_id)
    found: dict[str, BasisInput] = {}
    if by_kind.get("award"):
        rows = session.execute(
            select(Award.public_id, Achievement.name, Award.issued_on)
            .join(Achievement, Achievement.id == Award.achievement_id)
            .where(Award.public_id.in_(by_kind["award"]), Award.learner_id == learner_id)
        )
        for public_id, name, issued_on in rows:
            found[f"award:{public_id}"] = BasisInput("award", public_id, name, issued_on)
    if by_kind.get("event"):
        events = session.execute(
            select(
                CompletionEvent.public_id,
                CompletionEvent.kind,
                CompletionEvent.source,
                CompletionEvent.occurred_at,
            ).where(
                CompletionEvent.public_id.in_(by_kind["event"]),
                CompletionEvent.learner_id == learner_id,
            )
        )
        for public_id, kind, source, occurred_at in events:
            label = f"{kind} (from {source})"
            found[f"event:{public_id}"] = BasisInput("event", public_id, label, occurred_at)
    submitted = by_kind.get("evidence", set()) | by_kind.get("activity", set())
    if submitted:
        subs = session.execute(
            select(
                Submission.public_id,
                Submission.kind,
                Submission.title,
                Achievement.name,
                Submission.reviewed_at,
            )
            .outerjoin(Achievement, Achievement.id == Submission.achievement_id)
            .where(Submission.public_id.in_(submitted), Submission.learner_id == learner_id)
        )
        for public_id, kind, title, achievement, reviewed_at in subs:
            ref_kind = "activity" if kind == "activity" else "evidence"
            label = (
                f"activity “{title}”" if ref_kind == "activity" else f"evidence for {achievement}"
            )
            found[f"{ref_kind}:{public_id}"] = BasisInput(ref_kind, public_id, label, reviewed_at)
    return found
