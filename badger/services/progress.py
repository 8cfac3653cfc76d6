"""The renewal picture a learner sees: bars per category, the total, the deadline.

The numbers come from the cycle's ledger (:func:`badger.services.cycles.learner_cycles`);
this module only lays them out as an SVG bar chart drawn on the server (no
script, no inline style: colours come from classes in ``badger.css``) and
gathers what one page needs in one call.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from badger.domain.errors import NotFound
from badger.domain.ledger import Ledger
from badger.services import cycles
from badger.services.context import Context

ZERO = Decimal(0)
# Labels sit above their bars so the chart stays legible on a phone.
CHART_WIDTH = 360
LEFT = 1  # room for a cap line drawn at either end
RIGHT = 2
ROW_HEIGHT = 46
LABEL_HEIGHT = 18
BAR_HEIGHT = 16
TOP = 4


@dataclass(frozen=True)
class Bar:
    """One row of the chart: what counts, what the cap cut, where the cap is."""

    label: str
    counted: Decimal
    earned: Decimal
    cap: Decimal | None
    minimum: Decimal | None
    y: int
    counted_width: float
    earned_width: float
    cap_x: float | None
    minimum_x: float | None

    @property
    def capped(self) -> Decimal:
        return max(ZERO, self.earned - self.counted)

    @property
    def text_y(self) -> int:
        """Baseline of the label and value line above the bar."""
        return self.y + LABEL_HEIGHT - 4

    @property
    def bar_y(self) -> int:
        return self.y + LABEL_HEIGHT + 2


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bar_x: int
    bar_width: int
    value_x: int
    bars: tuple[Bar, ...]
    # The total row: counted against required.
    total: Bar


def _x(value: Decimal, scale: Decimal, width: int) -> float:
    if scale <= 0:
        return 0.0
    return round(float(min(value, scale) / scale) * width, 1)


def _bar(
    label: str,
    counted: Decimal,
    earned: Decimal,
    cap: Decimal | None,
    minimum: Decimal | None,
    row: int,
    scale: Decimal,
    width: int,
) -> Bar:
    return Bar(
        label=label,
        counted=counted,
        earned=earned,
        cap=cap,
        minimum=minimum,
        y=TOP + row * ROW_HEIGHT,
        counted_width=_x(counted, scale, width),
        earned_width=_x(max(earned, counted), scale, width),
        cap_x=LEFT + _x(cap, scale, width) if cap is not None else None,
        minimum_x=LEFT + _x(minimum, scale, width) if minimum else None,
    )


def chart(ledger: Ledger) -> Chart:
    """Lay out a ledger: one bar per category on one scale, and the total on its own."""
    bar_width = CHART_WIDTH - LEFT - RIGHT
    scale = max(
        [Decimal(1)]
        + [max(t.earned, t.counted, t.cap or ZERO, t.minimum or ZERO) for t in ledger.categories]
    )
    bars = tuple(
        _bar(t.name, t.counted, t.earned, t.cap, t.minimum, n, scale, bar_width)
        for n, t in enumerate(ledger.categories)
    )
    total_scale = max(Decimal(1), ledger.required_total, ledger.counted_total)
    total_row = len(bars) + (1 if bars else 0)
    total = _bar(
        "Total",
        ledger.counted_total,
        ledger.counted_total,
        None,
        ledger.required_total,
        total_row,
        total_scale,
        bar_width,
    )
    return Chart(
        width=CHART_WIDTH,
        height=TOP * 2 + (total_row + 1) * ROW_HEIGHT,
        bar_x=LEFT,
        bar_width=bar_width,
        value_x=CHART_WIDTH - RIGHT,
        bars=bars,
        total=total,
    )


@dataclass(frozen=True)
class CycleSummary:
    """A cycle as the dashboard lists it."""

    cycle: cycles.CycleView
    counted_total: Decimal
    required_total: Decimal
    remaining: Decimal
    satisfied: bool
    total: Bar

    @property
    def percent(self) -> float:
        """How much of the required total counts, 0-100."""
        if self.required_total <= 0:
            return 100.0
        return round(float(min(self.counted_total / self.required_total, Decimal(1))) * 100, 1)


@dataclass(frozen=True)
class RenewalPage:
    overview: cycles.CycleOverview
    chart: Chart
    suggestions: tuple[cycles.Suggestion, ...]
    requests: tuple[cycles.RequestView, ...]

    @property
    def cycle(self) -> cycles.CycleView:
        return self.overview.cycle

    @property
    def ledger(self) -> Ledger:
        return self.overview.ledger


def summaries(ctx: Context, learner_public_id: str) -> list[CycleSummary]:
    out = []
    for overview in cycles.learner_cycles(ctx, learner_public_id):
        ledger = overview.ledger
        out.append(
            CycleSummary(
                cycle=overview.cycle,
                counted_total=ledger.counted_total,
                required_total=ledger.required_total,
                remaining=ledger.remaining,
                satisfied=ledger.satisfied,
                total=chart(ledger).total,
            )
        )
    return out


def renewal_page(ctx: Context, learner_public_id: str, cycle_public_id: str) -> RenewalPage:
    """One of the learner's cycles with its chart, suggestions and requests; NotFound otherwise."""
    found = next(
        (
            o
            for o in cycles.learner_cycles(ctx, learner_public_id)
            if o.cycle.public_id == cycle_public_id
        ),
        None,
    )
    if found is None:
        raise NotFound(f"no certification cycle {cycle_public_id!r}")
    requests = tuple(
        r
        for r in cycles.requests_of(ctx, learner_public_id)
        if r.cycle_public_id == cycle_public_id
    )
    return RenewalPage(
        overview=found,
        chart=chart(found.ledger),
        suggestions=tuple(cycles.suggestions(ctx, cycle_public_id)),
        requests=requests,
    )
