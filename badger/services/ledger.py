"""Renewal policies as data, and the CE ledger run on them.

The policy and activity documents are validated against ``schemas/`` (errors
name the field) and turned into the pure domain values of
:mod:`badger.domain.ledger`; the same engine serves the simulator and (next)
the learners' renewal pages.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from badger.domain.errors import NotFound, ValidationError
from badger.domain.ledger import (
    CategoryRule,
    CycleWindow,
    Ledger,
    LedgerItem,
    Period,
    Policy,
    SeriesCap,
    compute,
)
from badger.domain.recipients import parse_identifier
from badger.services.context import Context
from badger.services.validation import validate
from badger.store.db import UnitOfWork
from badger.store.models import Achievement, Award, LearnerIdentifier, Submission


def _credits(value: Any) -> Decimal:
    return Decimal(str(value))


def _series_cap(data: dict[str, Any], series: str = "") -> SeriesCap:
    if "max_items" not in data and "max_credits" not in data:
        raise ValidationError("series_caps", "a series cap needs max_items or max_credits")
    return SeriesCap(
        data.get("series", series),
        data.get("max_items"),
        _credits(data["max_credits"]) if "max_credits" in data else None,
    )


def parse_policy(data: Any) -> Policy:
    """A :class:`Policy` from ``schemas/renewal-policy.json`` JSON."""
    validate("renewal-policy", data)
    names = [c["name"] for c in data.get("categories", [])]
    if len(names) != len(set(names)):
        raise ValidationError("categories", "each category may be listed once")
    default_cap = data.get("default_category_cap")
    return Policy(
        key=data["key"],
        version=data["version"],
        name=data["name"],
        required_total=_credits(data["required_total"]),
        cycle_months=data.get("cycle_months", 36),
        default_category_cap=_credits(default_cap) if default_cap is not None else None,
        categories=tuple(
            CategoryRule(
                c["name"],
                _credits(c["cap"]) if c.get("cap") is not None else None,
                _credits(c["minimum"]) if "minimum" in c else None,
                c.get("label"),
            )
            for c in data.get("categories", [])
        ),
        default_series_cap=_series_cap(data["default_series_cap"])
        if "default_series_cap" in data
        else None,
        series_caps=tuple(_series_cap(s) for s in data.get("series_caps", [])),
        min_distinct_categories=data.get("min_distinct_categories", 0),
        required_achievements=tuple(data.get("required_achievements", [])),
        proof_required_types=frozenset(data.get("proof_required_types", [])),
        minutes_per_credit=data.get("minutes_per_credit", 60),
        minute_based_types=frozenset(data.get("minute_based_types", ["conference"])),
        credit_during_hiatus=data.get("credit_during_hiatus", False),
        grace_days=data.get("grace_days", 0),
    )


def _time(value: str, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(field, f"{value!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise ValidationError(field, "needs a time zone")
    return moment


def add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def parse_activities(data: Any, policy: Policy) -> tuple[list[LedgerItem], CycleWindow]:
    """Ledger items and the cycle window from ``schemas/ledger-activities.json`` JSON."""
    validate("ledger-activities", data)
    cycle = data["cycle"]
    start = _time(cycle["start"], "cycle.start")
    deadline = (
        _time(cycle["deadline"], "cycle.deadline")
        if "deadline" in cycle
        else add_months(start, policy.cycle_months)
    )
    deadline += timedelta(days=cycle.get("extension_days", 0))
    if deadline <= start:
        raise ValidationError("cycle.deadline", "must be after the start")
    hiatus = tuple(
        Period(
            _time(h["start"], f"cycle.hiatus[{i}].start"),
            _time(h["end"], f"cycle.hiatus[{i}].end") if "end" in h else None,
        )
        for i, h in enumerate(cycle.get("hiatus", []))
    )
    items = []
    seen = set()
    for i, a in enumerate(data["activities"]):
        if a["id"] in seen:
            raise ValidationError(f"activities[{i}].id", f"{a['id']!r} appears twice")
        seen.add(a["id"])
        items.append(
            LedgerItem(
                id=a["id"],
                name=a["name"],
                credits=_credits(a["credits"]),
                categories=tuple(a["categories"]),
                earned_at=_time(a["earned_at"], f"activities[{i}].earned_at"),
                achievement=a.get("achievement"),
                series=a.get("series"),
                activity_type=a.get("activity_type"),
                learning_minutes=a.get("learning_minutes"),
                has_proof=a.get("has_proof", True),
            )
        )
    return items, CycleWindow(start, deadline, hiatus)


def simulate(
    policy_data: Any, activities_data: Any, *, as_of: datetime | None = None
) -> tuple[Policy, Ledger]:
    """Run the ledger offline; activities after ``as_of`` have not happened yet."""
    policy = parse_policy(policy_data)
    items, window = parse_activities(activities_data, policy)
    if as_of is not None:
        items = [i for i in items if i.earned_at <= as_of]
    return policy, compute(policy, items, window)


def ledger_json(policy: Policy, ledger: Ledger) -> dict[str, Any]:
    def num(value: Decimal | None) -> float | None:
        return None if value is None else float(value)

    return {
        "policy": {"key": policy.key, "version": policy.version, "name": policy.name},
        "counted_total": num(ledger.counted_total),
        "required_total": num(ledger.required_total),
        "remaining": num(ledger.remaining),
        "satisfied": ledger.satisfied,
        "requirements": [
            {"code": r.code, "met": r.met, "reason": r.reason} for r in ledger.requirements
        ],
        "categories": [
            {
                "name": t.name,
                "earned": num(t.earned),
                "counted": num(t.counted),
                "cap": num(t.cap),
                "minimum": num(t.minimum),
                "exempt": t.exempt,
            }
            for t in ledger.categories
        ],
        "lines": [
            {
                "id": line.item_id,
                "name": line.name,
                "earned": num(line.earned),
                "counted": num(line.counted),
                "category": line.category,
                "status": line.status,
                "rule": line.rule,
                "reason": line.reason,
            }
            for line in ledger.lines
        ],
    }


# ---------------------------------------------------------------- a learner's ledger from the database

ACTIVITY_TYPES_FROM_TAGS = ("webinar", "conference", "course")


def learner_items(ctx: Context, recipient: str) -> list[LedgerItem]:
    """Ledger items for one learner: active awards with credit, and approved activities."""
    ident = parse_identifier(recipient)
    with ctx.uow() as uow:
        learner_id = uow.session.scalar(
            select(LearnerIdentifier.learner_id).where(
                LearnerIdentifier.kind == ident.kind.value,
                LearnerIdentifier.value == ident.value,
            )
        )
        if learner_id is None:
            raise NotFound(f"no learner {ident.value}")
        return items_of_learner(uow, learner_id)


def items_of_learner(uow: UnitOfWork, learner_id: int) -> list[LedgerItem]:
    """:func:`learner_items` inside the caller's transaction, by the learner's row id."""
    items: list[LedgerItem] = []
    awards = uow.session.execute(
        select(Award, Achievement)
        .join(Achievement, Award.achievement_id == Achievement.id)
        .where(Award.learner_id == learner_id, Award.status == "active")
    )
    for award, achievement in awards:
        credits = (
            award.credits_earned
            if award.credits_earned is not None
            else achievement.credits_available
        )
        if credits is None or not achievement.credit_category:
            continue  # not a CE unit (e.g. the certification itself)
        items.append(award_item(award, achievement, credits))
    activities = uow.session.scalars(
        select(Submission).where(
            Submission.learner_id == learner_id,
            Submission.kind == "activity",
            Submission.status == "approved",
        )
    )
    for sub in activities:
        if sub.credits is None or not sub.category:
            continue
        items.append(
            LedgerItem(
                id=sub.public_id,
                name=sub.title or "approved activity",
                credits=sub.credits,
                categories=(sub.category,),
                earned_at=sub.activity_date or sub.reviewed_at or sub.created_at,
                learning_minutes=sub.learning_minutes,
            )
        )
    return items


def award_item(award: Award, achievement: Achievement, credits: Decimal) -> LedgerItem:
    tags = set(achievement.tags or ())
    return LedgerItem(
        id=award.public_id,
        name=achievement.name,
        credits=credits,
        categories=(achievement.credit_category,) if achievement.credit_category else (),
        earned_at=award.issued_on,
        achievement=achievement.slug,
        series=achievement.series,
        activity_type=next((t for t in ACTIVITY_TYPES_FROM_TAGS if t in tags), None),
    )


def learner_ledger(
    ctx: Context,
    recipient: str,
    policy_data: Any,
    *,
    cycle_start: datetime,
    extension_days: int = 0,
) -> tuple[Policy, Ledger]:
    """The ledger of a learner's cycle under a policy, from what badger holds."""
    if cycle_start.tzinfo is None:
        raise ValidationError("cycle_start", "needs a time zone")
    if not 0 <= extension_days <= 3650:
        raise ValidationError("extension_days", "between 0 and 3650")
    policy = parse_policy(policy_data)
    deadline = add_months(cycle_start, policy.cycle_months) + timedelta(days=extension_days)
    window = CycleWindow(cycle_start, deadline)
    return policy, compute(policy, learner_items(ctx, recipient), window)
