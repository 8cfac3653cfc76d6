"""The continuing-education ledger: how every credit counts toward renewal.

Pure and deterministic.  Given a renewal :class:`Policy`, the learner's
:class:`LedgerItem` s (one per award or approved activity) and the cycle's
window, :func:`compute` returns a :class:`Ledger`: for every item what was
earned, what counts, what was capped and by which rule, or why it is excluded;
the totals per category and overall; the minimums; and whether the renewal is
satisfied.  Every number is reproducible from the lines.

Order of the rules (each line names the rule that touched it):

1. **Window** — earned outside the cycle (after extensions, minus hiatus
   periods when the policy says credit during hiatus does not count): excluded.
2. **Evidence** — activity types that need proof of learning (e.g. webinars)
   count only with it; conferences count their documented learning minutes
   only (minutes → credits by the policy's rate), nothing without an outline.
3. **Series caps** — repeated attendance of one recurring series counts up to
   a number of items and/or credits (the best items are kept).
4. **Category caps with exemptions** — each category counts up to its cap
   (named categories are uncapped).  An item allowed in several categories goes
   where it counts most: the allocation maximises counted credit (exact
   branch-and-bound; property-tested against brute force), ties broken by
   meeting category minimums, then by the policy's category order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

ZERO = Decimal("0")
CENT = Decimal("0.01")


def _q(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_DOWN)


# ---------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class CategoryRule:
    """A credit category: its cap (None = exempt, uncapped) and optional minimum."""

    name: str
    cap: Decimal | None = None
    minimum: Decimal | None = None
    label: str | None = None


@dataclass(frozen=True, slots=True)
class SeriesCap:
    """Repeated attendance of a series counts up to ``max_items`` and/or ``max_credits``."""

    series: str
    max_items: int | None = None
    max_credits: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Policy:
    """A renewal policy (schemas/renewal-policy.json is its JSON form)."""

    key: str
    version: int
    name: str
    required_total: Decimal
    cycle_months: int = 36
    default_category_cap: Decimal | None = None
    categories: tuple[CategoryRule, ...] = ()
    default_series_cap: SeriesCap | None = None
    series_caps: tuple[SeriesCap, ...] = ()
    min_distinct_categories: int = 0
    required_achievements: tuple[str, ...] = ()
    proof_required_types: frozenset[str] = frozenset()
    minutes_per_credit: int = 60
    minute_based_types: frozenset[str] = frozenset({"conference"})
    credit_during_hiatus: bool = False
    grace_days: int = 0

    def category(self, name: str) -> CategoryRule:
        for rule in self.categories:
            if rule.name == name:
                return rule
        return CategoryRule(name, self.default_category_cap)

    def series_cap(self, series: str) -> SeriesCap | None:
        for cap in self.series_caps:
            if cap.series == series:
                return cap
        if self.default_series_cap is not None:
            return replace(self.default_series_cap, series=series)
        return None

    def category_order(self, names: Iterable[str]) -> list[str]:
        listed = [c.name for c in self.categories]
        return sorted(
            set(names), key=lambda n: (listed.index(n) if n in listed else len(listed), n)
        )


@dataclass(frozen=True, slots=True)
class LedgerItem:
    """One award or approved activity as the ledger sees it."""

    id: str
    name: str
    credits: Decimal
    categories: tuple[str, ...]
    earned_at: datetime
    achievement: str | None = None
    series: str | None = None
    activity_type: str | None = None
    learning_minutes: int | None = None
    has_proof: bool = True


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime
    end: datetime | None  # None: still open


@dataclass(frozen=True, slots=True)
class CycleWindow:
    """Where credit counts: start → deadline (+ extensions), minus hiatus periods."""

    start: datetime
    deadline: datetime
    hiatus: tuple[Period, ...] = ()

    def in_hiatus(self, moment: datetime) -> bool:
        return any(p.start <= moment and (p.end is None or moment < p.end) for p in self.hiatus)


# ---------------------------------------------------------------- outputs


@dataclass(frozen=True, slots=True)
class LedgerLine:
    item_id: str
    name: str
    earned: Decimal
    counted: Decimal
    category: str | None
    status: str  # counted | capped | partly_capped | excluded
    rule: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class CategoryTotal:
    name: str
    earned: Decimal  # eligible credit allocated here before the cap
    counted: Decimal
    cap: Decimal | None
    minimum: Decimal | None

    @property
    def exempt(self) -> bool:
        return self.cap is None

    @property
    def room(self) -> Decimal | None:
        return None if self.cap is None else max(ZERO, self.cap - self.counted)


@dataclass(frozen=True, slots=True)
class Requirement:
    code: str
    met: bool
    reason: str


@dataclass(frozen=True)
class Ledger:
    lines: tuple[LedgerLine, ...]
    categories: tuple[CategoryTotal, ...]
    counted_total: Decimal
    required_total: Decimal
    requirements: tuple[Requirement, ...]
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def remaining(self) -> Decimal:
        return max(ZERO, self.required_total - self.counted_total)

    @property
    def satisfied(self) -> bool:
        return all(r.met for r in self.requirements)


# ---------------------------------------------------------------- the computation


def compute(policy: Policy, items: Sequence[LedgerItem], window: CycleWindow) -> Ledger:
    lines: dict[str, LedgerLine] = {}
    eligible: list[tuple[LedgerItem, Decimal]] = []
    for item in sorted(items, key=lambda i: (i.earned_at, i.id)):
        verdict = _eligibility(policy, item, window)
        if isinstance(verdict, LedgerLine):
            lines[item.id] = verdict
        else:
            eligible.append((item, verdict))

    eligible, series_lines = _apply_series_caps(policy, eligible)
    lines.update(series_lines)

    allocation = _allocate(policy, eligible)
    loads: dict[str, Decimal] = {}
    for item, credit in eligible:
        category = allocation[item.id]
        loads[category] = loads.get(category, ZERO) + credit

    # Within a category, earlier items count first; the cap bites the latest.
    used: dict[str, Decimal] = {}
    for item, credit in sorted(eligible, key=lambda p: (p[0].earned_at, p[0].id)):
        category = allocation[item.id]
        rule = policy.category(category)
        already = used.get(category, ZERO)
        counted = credit if rule.cap is None else max(ZERO, min(credit, rule.cap - already))
        used[category] = already + counted
        lines[item.id] = _category_line(item, credit, counted, category, rule, policy)

    totals = tuple(
        CategoryTotal(
            name,
            loads.get(name, ZERO),
            used.get(name, ZERO),
            policy.category(name).cap,
            policy.category(name).minimum,
        )
        for name in policy.category_order([*loads, *(c.name for c in policy.categories)])
    )
    counted_total = sum((t.counted for t in totals), ZERO)
    ordered = tuple(lines[i.id] for i in sorted(items, key=lambda i: (i.earned_at, i.id)))
    return Ledger(
        ordered,
        totals,
        counted_total,
        policy.required_total,
        _requirements(policy, items, ordered, totals, counted_total),
    )


def _eligibility(policy: Policy, item: LedgerItem, window: CycleWindow) -> LedgerLine | Decimal:
    def excluded(rule: str, reason: str) -> LedgerLine:
        return LedgerLine(item.id, item.name, item.credits, ZERO, None, "excluded", rule, reason)

    if item.earned_at < window.start:
        return excluded("cycle_window", f"earned before this cycle began ({window.start.date()})")
    if item.earned_at > window.deadline:
        return excluded(
            "cycle_window", f"earned after the cycle deadline ({window.deadline.date()})"
        )
    if not policy.credit_during_hiatus and window.in_hiatus(item.earned_at):
        return excluded("hiatus", "earned while the certification was inactive (hiatus)")
    if not item.categories:
        return excluded("no_category", "has no credit category")
    if item.activity_type in policy.proof_required_types and not item.has_proof:
        return excluded(
            "proof_required",
            f"{item.activity_type} activities count only with proof of learning (quiz, reflection, certificate)",
        )
    credit = item.credits
    if item.activity_type in policy.minute_based_types:
        if not item.learning_minutes:
            return excluded(
                "learning_time",
                "counts only its documented learning sessions; none are documented yet (pending review)",
            )
        by_minutes = _q(Decimal(item.learning_minutes) / Decimal(policy.minutes_per_credit))
        credit = min(credit, by_minutes) if credit > ZERO else by_minutes
    if credit <= ZERO:
        return excluded("no_credit", "carries no credit")
    return credit


def _apply_series_caps(
    policy: Policy, eligible: list[tuple[LedgerItem, Decimal]]
) -> tuple[list[tuple[LedgerItem, Decimal]], dict[str, LedgerLine]]:
    kept: list[tuple[LedgerItem, Decimal]] = []
    lines: dict[str, LedgerLine] = {}
    by_series: dict[str, list[tuple[LedgerItem, Decimal]]] = {}
    for item, credit in eligible:
        if item.series and policy.series_cap(item.series):
            by_series.setdefault(item.series, []).append((item, credit))
        else:
            kept.append((item, credit))
    for series, members in by_series.items():
        cap = policy.series_cap(series)
        assert cap is not None  # noqa: S101 - filtered above
        # Keep the most valuable attendances; earlier first among equals.
        members.sort(key=lambda p: (-p[1], p[0].earned_at, p[0].id))
        total = ZERO
        for position, (item, credit) in enumerate(members, start=1):
            if cap.max_items is not None and position > cap.max_items:
                lines[item.id] = LedgerLine(
                    item.id,
                    item.name,
                    item.credits,
                    ZERO,
                    None,
                    "capped",
                    "series_cap",
                    f"series {series!r} counts at most {cap.max_items} attendances; this is number {position}",
                )
                continue
            allowed = credit
            if cap.max_credits is not None:
                allowed = max(ZERO, min(credit, cap.max_credits - total))
            if allowed <= ZERO:
                lines[item.id] = LedgerLine(
                    item.id,
                    item.name,
                    item.credits,
                    ZERO,
                    None,
                    "capped",
                    "series_cap",
                    f"series {series!r} counts at most {cap.max_credits} credits; already reached",
                )
                continue
            total += allowed
            kept.append((item, allowed))
    return kept, lines


def _category_line(
    item: LedgerItem,
    credit: Decimal,
    counted: Decimal,
    category: str,
    rule: CategoryRule,
    policy: Policy,
) -> LedgerLine:
    label = rule.label or category
    series_note = ""
    if credit < item.credits and item.activity_type in policy.minute_based_types:
        series_note = f" (learning sessions only: {item.learning_minutes} min = {credit})"
    elif credit < item.credits:
        series_note = f" (series cap left {credit})"
    if rule.cap is None:
        return LedgerLine(
            item.id,
            item.name,
            item.credits,
            counted,
            category,
            "counted",
            None,
            f"counts in {label}, which is exempt from the category cap{series_note}",
        )
    if counted == credit:
        return LedgerLine(
            item.id,
            item.name,
            item.credits,
            counted,
            category,
            "counted",
            None,
            f"counts in {label} (cap {rule.cap}){series_note}",
        )
    status = "capped" if counted == ZERO else "partly_capped"
    return LedgerLine(
        item.id,
        item.name,
        item.credits,
        counted,
        category,
        status,
        "category_cap",
        f"{label} is capped at {rule.cap} credits per cycle; {counted} of {credit} counted{series_note}",
    )


# ---------------------------------------------------------------- optimal allocation


def _allocate(policy: Policy, eligible: list[tuple[LedgerItem, Decimal]]) -> dict[str, str]:
    """Choose one category per item maximising counted credit (exact)."""
    allocation: dict[str, str] = {}
    loads: dict[str, Decimal] = {}
    flexible: list[tuple[LedgerItem, Decimal, list[str]]] = []
    for item, credit in eligible:
        options = policy.category_order(item.categories)
        if len(options) == 1:
            allocation[item.id] = options[0]
            loads[options[0]] = loads.get(options[0], ZERO) + credit
        else:
            flexible.append((item, credit, options))
    if not flexible:
        return allocation
    flexible.sort(key=lambda f: (-f[1], f[0].id))

    def value(current: dict[str, Decimal]) -> Decimal:
        return sum((_capped(policy, c, load) for c, load in current.items()), ZERO)

    def minimums_met(current: dict[str, Decimal]) -> int:
        return sum(
            1
            for rule in policy.categories
            if rule.minimum is not None
            and _capped(policy, rule.name, current.get(rule.name, ZERO)) >= rule.minimum
        )

    best: list[object] = [None, None, None]  # score, minimums, choice
    seen: dict[tuple[object, ...], tuple[Decimal, int]] = {}
    relevant = sorted({o for f in flexible for o in f[2]})

    def state_key(index: int, current: dict[str, Decimal]) -> tuple[object, ...]:
        # What the rest of the search can still change: each category's load up
        # to the point where more load stops mattering (its cap, or for an
        # uncapped category its minimum).  Equal keys have equal futures.
        parts: list[object] = [index]
        for c in relevant:
            rule = policy.category(c)
            limit = rule.cap if rule.cap is not None else (rule.minimum or ZERO)
            parts.append(min(current.get(c, ZERO), limit))
        return tuple(parts)

    def search(index: int, current: dict[str, Decimal], choice: list[str]) -> None:
        score = value(current)
        mins = minimums_met(current)
        if index == len(flexible):
            if best[0] is None or (score, mins) > (best[0], best[1]):
                best[0], best[1], best[2] = score, mins, list(choice)
            return
        key = state_key(index, current)
        previous = seen.get(key)
        if previous is not None and (score, mins) <= previous:
            return
        seen[key] = (score, mins)
        # Bound: every remaining item counted in full, within the room left.
        remaining = sum((f[1] for f in flexible[index:]), ZERO)
        room = sum(
            (
                remaining
                if policy.category(c).cap is None
                else max(ZERO, policy.category(c).cap - current.get(c, ZERO))  # type: ignore[operator]
                for c in {o for f in flexible[index:] for o in f[2]}
            ),
            ZERO,
        )
        if best[0] is not None and score + min(remaining, room) < best[0]:  # type: ignore[operator]
            return
        _item, credit, options = flexible[index]
        for option in options:
            current[option] = current.get(option, ZERO) + credit
            choice.append(option)
            search(index + 1, current, choice)
            choice.pop()
            current[option] -= credit

    search(0, dict(loads), [])
    for (item, _, _), option in zip(flexible, best[2], strict=True):  # type: ignore[arg-type]
        allocation[item.id] = option
    return allocation


def _capped(policy: Policy, category: str, load: Decimal) -> Decimal:
    cap = policy.category(category).cap
    return load if cap is None else min(cap, load)


# ---------------------------------------------------------------- requirements


def _requirements(
    policy: Policy,
    items: Sequence[LedgerItem],
    lines: tuple[LedgerLine, ...],
    totals: tuple[CategoryTotal, ...],
    counted_total: Decimal,
) -> tuple[Requirement, ...]:
    short = policy.required_total - counted_total
    out = [
        Requirement(
            "total",
            short <= ZERO,
            f"{counted_total} of {policy.required_total} credits counted"
            + ("" if short <= ZERO else f"; {short} to go"),
        )
    ]
    for total in totals:
        if total.minimum is not None:
            out.append(
                Requirement(
                    f"minimum:{total.name}",
                    total.counted >= total.minimum,
                    f"at least {total.minimum} credits in {total.name}: {total.counted} counted",
                )
            )
    if policy.min_distinct_categories:
        distinct = sum(1 for t in totals if t.counted > ZERO)
        out.append(
            Requirement(
                "distinct_categories",
                distinct >= policy.min_distinct_categories,
                f"credit in at least {policy.min_distinct_categories} categories: {distinct} so far",
            )
        )
    status = {line.item_id: line.status for line in lines}
    in_cycle = {i.achievement for i in items if i.achievement and status.get(i.id) != "excluded"}
    for slug in policy.required_achievements:
        met = slug in in_cycle
        out.append(
            Requirement(
                f"required:{slug}",
                met,
                f"required achievement {slug}: {'earned this cycle' if met else 'not yet earned this cycle'}",
            )
        )
    return tuple(out)
