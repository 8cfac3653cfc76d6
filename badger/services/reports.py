"""Read models for the admin console's reports, and their CSV export.

* credits by category: the credits of active awards, summed per credit
  category (an award's own ``credits_earned`` where recorded, else what the
  achievement is worth);
* awards over time: awards issued per calendar month (UTC), with the months
  without awards filled in, plus the geometry of a bar chart the page draws
  as SVG on the server;
* CSV export that spreadsheet programs cannot turn into formulas (cells
  starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return get a
  leading ``'``, as OWASP's "CSV Injection" advice says).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from badger.domain.errors import NotFound
from badger.services.context import Context
from badger.store.models import Achievement, Award, Learner, LearnerIdentifier

NO_CATEGORY = "(no category)"


@dataclass(frozen=True)
class CategoryCredits:
    category: str
    awards: int
    credits: Decimal


def credits_by_category(ctx: Context) -> list[CategoryCredits]:
    """Credits of active awards per credit category, largest first."""
    credits = func.coalesce(Award.credits_earned, Achievement.credits_available, 0)
    stmt = (
        select(Achievement.credit_category, func.count(Award.id), func.sum(credits))
        .join(Achievement, Award.achievement_id == Achievement.id)
        .where(Award.status == "active")
        .group_by(Achievement.credit_category)
    )
    with ctx.uow() as uow:
        out = [
            CategoryCredits(category or NO_CATEGORY, int(count), Decimal(str(total or 0)))
            for category, count, total in uow.session.execute(stmt)
        ]
    return sorted(out, key=lambda c: (-c.credits, c.category))


@dataclass(frozen=True)
class MonthCount:
    month: str  # YYYY-MM
    awards: int


def _months_between(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def awards_by_month(ctx: Context, *, months: int = 24) -> list[MonthCount]:
    """Awards issued per month over the last ``months`` months that had any (UTC), oldest first."""
    # Grouped here rather than in SQL: month truncation differs between
    # SQLite and PostgreSQL, and one date column per award is cheap to read.
    counts: dict[str, int] = {}
    with ctx.uow() as uow:
        for (issued_on,) in uow.session.execute(select(Award.issued_on)):
            key = issued_on.strftime("%Y-%m")
            counts[key] = counts.get(key, 0) + 1
    if not counts:
        return []
    last = max(ctx.now().strftime("%Y-%m"), max(counts))
    span = _months_between(min(counts), last)[-months:]
    return [MonthCount(m, counts.get(m, 0)) for m in span]


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    baseline: float
    maximum: int
    bars: tuple[Bar, ...]


def bar_chart(points: Sequence[MonthCount], *, width: int = 640, height: int = 240) -> Chart:
    """Where each bar goes (the template draws them as SVG ``<rect>``s)."""
    top, bottom, left = 20.0, 40.0, 30.0
    plot_height = height - top - bottom
    maximum = max((p.awards for p in points), default=0)
    slot = (width - left) / max(len(points), 1)
    bars = []
    for i, point in enumerate(points):
        bar_height = plot_height * point.awards / maximum if maximum else 0.0
        bars.append(
            Bar(
                point.month,
                point.awards,
                round(left + i * slot + slot * 0.15, 1),
                round(top + plot_height - bar_height, 1),
                round(slot * 0.7, 1),
                round(bar_height, 1),
            )
        )
    return Chart(width, height, top + plot_height, maximum, tuple(bars))


# ---------------------------------------------------------------- one award


@dataclass(frozen=True)
class AwardSummary:
    public_id: str
    achievement: str
    achievement_name: str
    recipient: str
    learner_name: str
    issued_on: datetime
    status: str
    status_reason: str | None


def award_summary(ctx: Context, public_id: str) -> AwardSummary:
    """What the revoke/suspend confirmation page shows about an award."""
    with ctx.uow() as uow:
        row = uow.session.execute(
            select(Award, Achievement.slug, Achievement.name, Learner.display_name)
            .join(Achievement, Award.achievement_id == Achievement.id)
            .join(Learner, Award.learner_id == Learner.id)
            .where(Award.public_id == public_id)
        ).first()
        if row is None:
            raise NotFound(f"no award {public_id}")
        award, slug, name, learner_name = row
        recipient = ""
        if award.recipient_identifier_id is not None:
            recipient = (
                uow.session.scalar(
                    select(LearnerIdentifier.value).where(
                        LearnerIdentifier.id == award.recipient_identifier_id
                    )
                )
                or ""
            )
        return AwardSummary(
            award.public_id,
            slug,
            name,
            recipient,
            learner_name,
            award.issued_on,
            award.status,
            award.status_reason,
        )


# ---------------------------------------------------------------- CSV

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A cell a spreadsheet shows as text, never evaluates."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(c) for c in row])
    return out.getvalue()


def plain_number(value: Decimal) -> str:
    """``10.00`` → ``10``, ``1.50`` → ``1.5`` (never ``1E+1``)."""
    return format(value.normalize(), "f")


def credits_csv(lines: Iterable[CategoryCredits]) -> str:
    return to_csv(
        ["category", "active_awards", "credits"],
        ((c.category, c.awards, plain_number(c.credits)) for c in lines),
    )


def at_risk_csv(items: Iterable[Any]) -> str:
    """``cycles.at_risk`` lines: who, which certification, when due, how far short."""
    return to_csv(
        [
            "learner",
            "certification",
            "status",
            "deadline",
            "days_left",
            "counted",
            "required",
            "remaining",
            "unmet",
        ],
        (
            (
                a.cycle.learner_name,
                a.cycle.certification_name,
                a.cycle.status,
                a.cycle.effective_deadline.date().isoformat(),
                a.cycle.days_left,
                plain_number(a.counted_total),
                plain_number(a.required_total),
                plain_number(a.remaining),
                "; ".join(a.unmet),
            )
            for a in items
        ),
    )


def months_csv(lines: Iterable[MonthCount]) -> str:
    return to_csv(["month", "awards"], ((m.month, m.awards) for m in lines))
