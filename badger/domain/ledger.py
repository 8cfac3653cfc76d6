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
   a number of items and/or credits.  The attendances kept are the ones that
   count most in all (with the allocation below), so adding an award never
   lowers counted credit: the most valuable ones when that is the best choice
   (members allowed in the same categories), otherwise the best of the choices
   the cap allows, compared exactly up to a bound (see "series caps" below;
   beyond it the most valuable ones, and the lines say so).
4. **Category caps with exemptions** — each category counts up to its cap
   (named categories are uncapped).  An item allowed in several categories goes
   where it counts most: the allocation maximises counted credit (exact
   branch-and-bound; property-tested against brute force), ties broken by
   meeting category minimums, then by the policy's category order.

:func:`compute` gives the explained ledger (a line with its reason for every
item).  A batch recompute that keeps only the figures uses
:func:`compute_totals` / :func:`compute_many` (:class:`LedgerTotals`): the same
rules without lines, reason strings or the sort of every item in earned order
(see "totals only" below), property-tested to give
exactly the totals, the requirements met and the remaining credit of
:func:`compute`.  Item ids are unique within one learner's items.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from itertools import product
from operator import attrgetter, itemgetter

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

    def totals(self) -> LedgerTotals:
        """The ledger without its lines and reasons (what :func:`compute_totals` returns)."""
        return LedgerTotals(
            self.categories,
            self.counted_total,
            self.required_total,
            tuple(r.code for r in self.requirements if not r.met),
        )


# ---------------------------------------------------------------- the computation
#
# One pass in earned order decides eligibility (and groups series), the series
# caps trim their groups, the allocation places the items that may go in several
# categories, and a last pass in earned order applies the category caps.  What a
# policy implies (category order, caps, labels, series caps, minute conversions)
# is looked up once per policy (:class:`_Compiled`), not once per item; the
# explanation strings are built only when the lines are asked for
# (:func:`compute`), never by :func:`compute_totals` / :func:`compute_many`,
# which run the same rules in :func:`_totals` (see "totals only") and give
# exactly the same totals.

_EARNED = attrgetter("earned_at")
_EARNED_ORDER = attrgetter("earned_at", "id")


def _in_earned_order(items: Sequence[LedgerItem]) -> list[LedgerItem]:
    """Sorted by (earned_at, id): by time alone (cheaper), unless two share a time."""
    order = sorted(items, key=_EARNED)
    previous = None
    for item in order:
        earned = item.earned_at
        if earned == previous:
            order.sort(key=_EARNED_ORDER)
            break
        previous = earned
    return order


_CREDIT = itemgetter(1)
_UNSEEN = object()


class _Compiled:
    """A policy's lookups, built once per policy and shared by every learner.

    The memo tables assume the default decimal context (as the rest of badger).
    """

    __slots__ = (
        "infos",
        "listed",
        "listed_rules",
        "minimum_checks",
        "minimum_rules",
        "minimums",
        "minutes_memo",
        "options_memo",
        "policy",
        "rank",
        "required_codes",
        "rules",
        "series_memo",
        "texts_memo",
    )

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        listed: list[str] = []
        rank: dict[str, int] = {}
        for position, rule in enumerate(policy.categories):
            if rule.name not in rank:
                rank[rule.name] = position
                listed.append(rule.name)
        self.listed = tuple(listed)
        self.listed_rules = tuple(
            (name, (rule := policy.category(name)).cap, rule.minimum) for name in listed
        )
        self.rank = rank
        self.minimum_rules = tuple(
            (rule.name, rule.minimum) for rule in policy.categories if rule.minimum is not None
        )
        minimums: dict[str, tuple[Decimal, ...]] = {}
        for name, minimum in self.minimum_rules:
            minimums[name] = (*minimums.get(name, ()), minimum)
        self.minimums = minimums
        # The listed categories come first in the totals, in this order.
        self.minimum_checks = tuple(
            (index, f"minimum:{name}", minimum)
            for index, (name, _cap, minimum) in enumerate(self.listed_rules)
            if minimum is not None
        )
        self.required_codes = tuple(
            (slug, f"required:{slug}") for slug in policy.required_achievements
        )
        self.rules: dict[str, CategoryRule] = {}
        self.options_memo: dict[tuple[str, ...], tuple[str, ...]] = {}
        self.series_memo: dict[str, SeriesCap | None] = {}
        self.minutes_memo: dict[int, Decimal] = {}
        self.texts_memo: dict[str, tuple[str, str, str]] = {}
        self.infos: dict[str, tuple[Decimal | None, tuple[Decimal, ...]]] = {}

    def rule(self, name: str) -> CategoryRule:
        rule = self.rules.get(name)
        if rule is None:
            if len(self.rules) > 4096:
                self.rules.clear()
            rule = self.rules[name] = self.policy.category(name)
        return rule

    def options(self, categories: tuple[str, ...]) -> tuple[str, ...]:
        """The item's categories in the policy's order (as Policy.category_order)."""
        options = self.options_memo.get(categories)
        if options is None:
            if len(self.options_memo) > 4096:  # arbitrary inputs cannot grow it without bound
                self.options_memo.clear()
            options = self.options_memo[categories] = tuple(self.policy.category_order(categories))
        return options

    def series_cap(self, series: str) -> SeriesCap | None:
        try:
            return self.series_memo[series]
        except KeyError:
            if len(self.series_memo) > 4096:
                self.series_memo.clear()
            cap = self.series_memo[series] = self.policy.series_cap(series)
            return cap

    def info(self, category: str) -> tuple[Decimal | None, tuple[Decimal, ...]]:
        """A category's cap and minimums (what placing credit there changes)."""
        info = self.infos.get(category)
        if info is None:
            if len(self.infos) > 4096:
                self.infos.clear()
            info = self.infos[category] = (
                self.rule(category).cap,
                self.minimums.get(category, ()),
            )
        return info

    def texts(self, category: str) -> tuple[str, str, str]:
        """A category's reasons: exempt; within its cap; the head of "capped at"."""
        texts = self.texts_memo.get(category)
        if texts is None:
            if len(self.texts_memo) > 4096:
                self.texts_memo.clear()
            rule = self.rule(category)
            label = rule.label or category
            texts = self.texts_memo[category] = (
                f"counts in {label}, which is exempt from the category cap",
                f"counts in {label} (cap {rule.cap})",
                f"{label} is capped at {rule.cap} credits per cycle; ",
            )
        return texts

    def minutes(self, minutes: int) -> Decimal:
        credit = self.minutes_memo.get(minutes)
        if credit is None:
            if len(self.minutes_memo) > 4096:
                self.minutes_memo.clear()
            credit = self.minutes_memo[minutes] = _q(
                Decimal(minutes) / Decimal(self.policy.minutes_per_credit)
            )
        return credit


# Frozen dataclasses set every field through ``object.__setattr__`` in
# ``__init__``; a batch recompute builds millions of lines and totals, so these
# two set the slots directly: the very same objects (neither class has a
# ``__post_init__``; tested), in about half the time.
_new = object.__new__
_TOTAL_SLOTS = tuple(
    CategoryTotal.__dict__[name].__set__ for name in ("name", "earned", "counted", "cap", "minimum")
)
_LINE_SLOTS = tuple(
    LedgerLine.__dict__[name].__set__
    for name in ("item_id", "name", "earned", "counted", "category", "status", "rule", "reason")
)


def _category_total(
    name: str, earned: Decimal, counted: Decimal, cap: Decimal | None, minimum: Decimal | None
) -> CategoryTotal:
    total = _new(CategoryTotal)
    set_name, set_earned, set_counted, set_cap, set_minimum = _TOTAL_SLOTS
    set_name(total, name)
    set_earned(total, earned)
    set_counted(total, counted)
    set_cap(total, cap)
    set_minimum(total, minimum)
    return total


def _line(
    item: LedgerItem,
    counted: Decimal,
    category: str | None,
    status: str,
    rule: str | None,
    reason: str,
) -> LedgerLine:
    line = _new(LedgerLine)
    set_id, set_name, set_earned, set_counted, set_category, set_status, set_rule, set_reason = (
        _LINE_SLOTS
    )
    set_id(line, item.id)
    set_name(line, item.name)
    set_earned(line, item.credits)
    set_counted(line, counted)
    set_category(line, category)
    set_status(line, status)
    set_rule(line, rule)
    set_reason(line, reason)
    return line


_COMPILED: dict[int, tuple[Policy, _Compiled]] = {}


def _compiled(policy: Policy) -> _Compiled:
    # Keyed by identity (hashing a Policy costs microseconds); the entry holds
    # the policy itself, so its id cannot be reused while it is cached.
    entry = _COMPILED.get(id(policy))
    if entry is not None and entry[0] is policy:
        return entry[1]
    if len(_COMPILED) >= 64:
        _COMPILED.clear()
    compiled = _Compiled(policy)
    _COMPILED[id(policy)] = (policy, compiled)
    return compiled


@dataclass(frozen=True, slots=True)
class LedgerTotals:
    """A ledger without its lines and reasons: what a batch recompute keeps per learner.

    Equal, field for field, to ``compute(...).totals()`` for the same inputs.
    """

    categories: tuple[CategoryTotal, ...]
    counted_total: Decimal
    required_total: Decimal
    unmet: tuple[str, ...]  # codes of the requirements not met, in the ledger's order

    @property
    def remaining(self) -> Decimal:
        return max(ZERO, self.required_total - self.counted_total)

    @property
    def satisfied(self) -> bool:
        return not self.unmet


_LEDGER_TOTALS_SLOTS = tuple(
    LedgerTotals.__dict__[name].__set__
    for name in ("categories", "counted_total", "required_total", "unmet")
)


def compute(policy: Policy, items: Sequence[LedgerItem], window: CycleWindow) -> Ledger:
    """The explained ledger: every item's line with its reason, the totals, the requirements."""
    lines: dict[str, LedgerLine] = {}
    order, categories, counted_total, achieved = _run(_compiled(policy), items, window, lines)
    return Ledger(
        tuple(lines[i.id] for i in order),
        categories,
        counted_total,
        policy.required_total,
        _requirements(policy, achieved, categories, counted_total),
    )


def compute_totals(
    policy: Policy, items: Sequence[LedgerItem], window: CycleWindow
) -> LedgerTotals:
    """The same totals and requirements met as :func:`compute`, without lines or reasons."""
    compiled = _compiled(policy)
    categories, counted_total, achieved = _totals(compiled, items, window)
    return LedgerTotals(
        categories,
        counted_total,
        policy.required_total,
        _unmet(compiled, achieved, categories, counted_total),
    )


def compute_many(
    policy: Policy,
    items_by_learner: Iterable[Sequence[LedgerItem]],
    windows: Iterable[CycleWindow] | CycleWindow,
) -> Iterator[LedgerTotals]:
    """:func:`compute_totals` for many learners, lazily (one result per learner, in order).

    ``windows`` is one window per learner, or a single window shared by all.
    Results are yielded one at a time, so a recompute can stream learners from
    the store and write results back in chunks without holding them all.
    """
    compiled = _compiled(policy)
    required = policy.required_total
    pairs = (
        ((items, windows) for items in items_by_learner)
        if isinstance(windows, CycleWindow)
        else zip(items_by_learner, windows, strict=True)
    )
    totals_of = _totals
    set_categories, set_counted_total, set_required_total, set_unmet = _LEDGER_TOTALS_SLOTS
    for items, window in pairs:
        categories, counted_total, achieved = totals_of(compiled, items, window)
        # LedgerTotals(categories, counted_total, required, unmet), slot by slot.
        totals = _new(LedgerTotals)
        set_categories(totals, categories)
        set_counted_total(totals, counted_total)
        set_required_total(totals, required)
        set_unmet(totals, _unmet(compiled, achieved, categories, counted_total))
        yield totals


def _shared_categories(members: list[list]) -> tuple[str, ...] | None:
    """The categories every member of a series is allowed in, or None when they differ."""
    first = members[0][0].categories
    for entry in members:
        if entry[0].categories != first:
            return None
    return first


def _run(
    compiled: _Compiled,
    items: Sequence[LedgerItem],
    window: CycleWindow,
    lines: dict[str, LedgerLine] | None,
) -> tuple[list[LedgerItem], tuple[CategoryTotal, ...], Decimal, set[str]]:
    """The four rules in order; fills ``lines`` (with reasons) when given one.

    Returns the items in earned order, the category totals, the counted total
    and the achievements of the items not excluded (for the requirements).

    Each eligible item becomes an entry ``[item, credit, category]``; its load
    is added to its category as soon as the category is known (at once for a
    single-category item outside a capped series, after the series caps or the
    allocation otherwise).  An entry trimmed by its series gets ``None``, ``None``.
    """
    policy = compiled.policy
    order = _in_earned_order(items)
    explain = lines is not None

    # 1-2. Window and evidence, in earned order; series members are grouped.
    start, deadline = window.start, window.deadline
    check_hiatus = bool(window.hiatus) and not policy.credit_during_hiatus
    proof_types = policy.proof_required_types
    minute_types = policy.minute_based_types
    series_memo = compiled.series_memo
    options_memo = compiled.options_memo
    eligible: list[list] = []
    series: dict[str, list[list]] = {}  # the same entries, by capped series
    flexible: list[list] = []  # entries with several categories: [item, credit, options]
    loads: dict[str, Decimal] = {}
    achieved: set[str] = set()
    for item in order:
        earned = item.earned_at
        if earned < start or earned > deadline:
            if explain:
                lines[item.id] = _excluded(
                    item,
                    "cycle_window",
                    f"earned before this cycle began ({start.date()})"
                    if earned < start
                    else f"earned after the cycle deadline ({deadline.date()})",
                )
            continue
        if check_hiatus and window.in_hiatus(earned):
            if explain:
                lines[item.id] = _excluded(
                    item, "hiatus", "earned while the certification was inactive (hiatus)"
                )
            continue
        categories = item.categories
        if not categories:
            if explain:
                lines[item.id] = _excluded(item, "no_category", "has no credit category")
            continue
        kind = item.activity_type
        if kind in proof_types and not item.has_proof:
            if explain:
                lines[item.id] = _excluded(
                    item,
                    "proof_required",
                    f"{kind} activities count only with proof of learning (quiz, reflection, certificate)",
                )
            continue
        credit = item.credits
        if kind in minute_types:
            minutes = item.learning_minutes
            if not minutes:
                if explain:
                    lines[item.id] = _excluded(
                        item,
                        "learning_time",
                        "counts only its documented learning sessions; none are documented yet (pending review)",
                    )
                continue
            by_minutes = compiled.minutes(minutes)
            credit = min(credit, by_minutes) if credit > ZERO else by_minutes
        if credit <= ZERO:
            if explain:
                lines[item.id] = _excluded(item, "no_credit", "carries no credit")
            continue
        if item.achievement:
            achieved.add(item.achievement)
        entry = [item, credit]
        eligible.append(entry)
        name = item.series
        if name:
            cap = series_memo.get(name, _UNSEEN)
            if cap is _UNSEEN:
                cap = compiled.series_cap(name)
            if cap is not None:
                series.setdefault(name, []).append(entry)
                continue
        if len(categories) == 1:
            category = categories[0]
        else:
            options = options_memo.get(categories) or compiled.options(categories)
            if len(options) > 1:
                entry.append(options)
                flexible.append(entry)
                continue
            category = options[0]  # one category, listed twice
        entry.append(category)
        loads[category] = loads.get(category, ZERO) + credit

    # 3. Series caps: the most valuable attendances are kept, earlier first among
    # equals, where that is the best choice: when every member of the series has
    # the same categories and keeping more credit can only count more there (one
    # category, or a cap on attendances only).  Otherwise which attendances to
    # keep is searched (see "series caps" below).
    searched: list[tuple[str, SeriesCap, list[list], list[tuple[str, ...]]]] = []
    for name, members in series.items():
        cap = compiled.series_cap(name)
        assert cap is not None  # noqa: S101 - grouped only when capped
        if cap.max_credits is not None or (
            cap.max_items is not None and len(members) > cap.max_items
        ):
            # Members are in earned order and the sort is stable (also reversed).
            members.sort(key=_CREDIT, reverse=True)
            shared = _shared_categories(members)
            if shared is None or (cap.max_credits is not None and len(shared) > 1):
                keys = _series_search_keys(compiled, cap, members)
                if keys is not None:
                    searched.append((name, cap, members, keys))
                    continue
            total = ZERO
            for position, entry in enumerate(members, start=1):
                item, credit = entry
                if cap.max_items is not None and position > cap.max_items:
                    if explain:
                        lines[item.id] = _series_capped(
                            item,
                            f"series {name!r} counts at most {cap.max_items} attendances; this is number {position}",
                        )
                    entry[1] = None
                    continue
                allowed = credit
                if cap.max_credits is not None:
                    allowed = max(ZERO, min(credit, cap.max_credits - total))
                if allowed <= ZERO:
                    if explain:
                        lines[item.id] = _series_capped(
                            item,
                            f"series {name!r} counts at most {cap.max_credits} credits; already reached",
                        )
                    entry[1] = None
                    continue
                total += allowed
                entry[1] = allowed
        _place_members(compiled, members, loads, flexible)
    if searched:
        _search_series(compiled, searched, loads, flexible, lines)

    # 4a. Allocation: the items allowed in several categories, by the exact search.
    if flexible:
        _allocate_flexible(compiled, flexible, loads)

    # 4b. Category caps: within a category earlier items count first; the cap bites the latest.
    used: dict[str, Decimal] = {}
    rule_of = compiled.rule
    if explain:
        minute_based = policy.minute_based_types
        for item, credit, category in eligible:
            if category is None:
                continue  # trimmed by its series
            rule = rule_of(category)
            cap = rule.cap
            already = used.get(category, ZERO)
            counted = credit if cap is None else max(ZERO, min(credit, cap - already))
            used[category] = already + counted
            lines[item.id] = _category_line(
                item, credit, counted, category, rule, minute_based, compiled.texts(category)
            )
    else:
        # The same sums without a line per item.  Decimal addition of credits is
        # exact, so a sum's value and exponent do not depend on the order: a
        # category within its cap counts its load as is; one over its cap
        # counts its items in earned order up to the item that crosses the cap.
        over: dict[str, Decimal] = {}
        for category, load in loads.items():
            cap = rule_of(category).cap
            if cap is None or load <= cap:
                used[category] = load
            else:
                over[category] = cap
        if over:
            for _item, credit, category in eligible:
                cap = over.get(category)  # type: ignore[arg-type]
                if cap is None:
                    continue
                already = used.get(category, ZERO)
                room = cap - already
                if credit > room:
                    used[category] = already + (room if room > ZERO else ZERO)
                    del over[category]
                    if not over:
                        break
                else:
                    used[category] = already + credit

    get_load, get_used = loads.get, used.get
    totals = [
        _category_total(name, get_load(name, ZERO), get_used(name, ZERO), cap, minimum)
        for name, cap, minimum in compiled.listed_rules
    ]
    rank = compiled.rank
    extra = [name for name in loads if name not in rank]  # categories the policy does not list
    if extra:
        for name in sorted(extra):
            rule = rule_of(name)
            totals.append(_category_total(name, loads[name], used[name], rule.cap, rule.minimum))
    categories_total = tuple(totals)
    # (The totals add the categories without load as zeros: the same exact sum.)
    counted_total = sum(used.values(), ZERO)
    return order, categories_total, counted_total, achieved


# ---------------------------------------------------------------- totals only
#
# What :func:`compute_totals` / :func:`compute_many` run: the passes of
# :func:`_run` without the one thing only the lines need, the sort of every
# item in earned order.  The totals depend on earned order in two places only,
# and there the few entries concerned are sorted:
#
# - a capped series whose cap bites keeps its most valuable attendances,
#   earlier first among equals: its members are sorted (earned order, then by
#   credit, stable), as :func:`_run` has them;
# - a category over its cap counts its items in earned order up to the one
#   that crosses the cap: the counted figure is the cap, but its Decimal
#   exponent depends on which items came first, so the entries of the
#   categories over their caps are sorted and walked as in :func:`_run`.
#
# Everything else is a sum of credits, and Decimal addition of credits is exact
# (as :func:`_run` assumes too), so its value and exponent do not depend on the
# order; the allocation sorts its items itself.  A learner whose series need the
# search over which attendances to keep (rare) goes through :func:`_run`.


def _entry_earned(entry: list) -> datetime:
    return entry[0].earned_at


def _entry_earned_order(entry: list) -> tuple[datetime, str]:
    item = entry[0]
    return item.earned_at, item.id


def _sort_entries(entries: list[list]) -> None:
    """Entries in the items' earned order (:func:`_in_earned_order`: by time, then id)."""
    entries.sort(key=_entry_earned)
    previous = None
    for entry in entries:
        earned = entry[0].earned_at
        if earned == previous:
            entries.sort(key=_entry_earned_order)
            return
        previous = earned


_FIRST = itemgetter(0)


def _placed_order(entry: tuple[datetime, Decimal, str, LedgerItem]) -> tuple[datetime, str]:
    return entry[0], entry[3].id


def _sort_placed(entries: list[tuple[datetime, Decimal, str, LedgerItem]]) -> None:
    """Placed entries in earned order (by time, then id, as :func:`_in_earned_order`)."""
    entries.sort(key=_FIRST)
    previous = None
    for entry in entries:
        earned = entry[0]
        if earned == previous:
            entries.sort(key=_placed_order)
            return
        previous = earned


def _totals(
    compiled: _Compiled, items: Sequence[LedgerItem], window: CycleWindow
) -> tuple[tuple[CategoryTotal, ...], Decimal, set[str]]:
    """:func:`_run`'s category totals, counted total and achievements, without the lines."""
    policy = compiled.policy
    start, deadline = window.start, window.deadline
    check_hiatus = bool(window.hiatus) and not policy.credit_during_hiatus
    proof_types = policy.proof_required_types
    minute_types = policy.minute_based_types
    series_memo = compiled.series_memo
    options_memo = compiled.options_memo
    # (earned_at, credit, category, item) of every entry placed in a category
    placed: list[tuple[datetime, Decimal, str, LedgerItem]] = []
    series: dict[str, list[list]] = {}
    flexible: list[list] = []
    loads: dict[str, Decimal] = {}
    achieved: set[str] = set()
    for item in items:
        # 1-2. Window and evidence (the checks of _run, in the same order).
        earned = item.earned_at
        if earned < start or earned > deadline:
            continue
        if check_hiatus and window.in_hiatus(earned):
            continue
        categories = item.categories
        if not categories:
            continue
        kind = item.activity_type
        if kind in proof_types and not item.has_proof:
            continue
        credit = item.credits
        if kind in minute_types:
            minutes = item.learning_minutes
            if not minutes:
                continue
            by_minutes = compiled.minutes(minutes)
            credit = min(credit, by_minutes) if credit > ZERO else by_minutes
        if credit <= ZERO:
            continue
        if item.achievement:
            achieved.add(item.achievement)
        name = item.series
        if name:
            cap = series_memo.get(name, _UNSEEN)
            if cap is _UNSEEN:
                cap = compiled.series_cap(name)
            if cap is not None:
                series.setdefault(name, []).append([item, credit])
                continue
        if len(categories) == 1:
            category = categories[0]
        else:
            options = options_memo.get(categories) or compiled.options(categories)
            if len(options) > 1:
                flexible.append([item, credit, options])
                continue
            category = options[0]
        placed.append((earned, credit, category, item))
        loads[category] = loads.get(category, ZERO) + credit

    # 3. Series caps (greedy, as _run; the search is _run's).
    for name, members in series.items():
        cap = compiled.series_cap(name)
        assert cap is not None  # noqa: S101 - grouped only when capped
        max_items, max_credits = cap.max_items, cap.max_credits
        if max_credits is None and (max_items is None or len(members) <= max_items):
            _place_members(compiled, members, loads, flexible)  # the cap does not bite
            placed.extend(
                (item.earned_at, credit, category, item)
                for item, credit, category in members
                if type(category) is str
            )
            continue
        # Members in earned order, then the most valuable first (a stable sort).
        _sort_entries(members)
        members.sort(key=_CREDIT, reverse=True)
        shared = _shared_categories(members)
        if shared is None or (max_credits is not None and len(shared) > 1):
            if _series_search_keys(compiled, cap, members) is not None:
                _o, totals, counted_total, achieved = _run(compiled, items, window, None)
                return totals, counted_total, achieved
        elif max_credits is None and len(options := _option_set(compiled, shared)) == 1:
            # The common case: a cap on attendances, one category: the first
            # max_items members count in full.
            category = options[0]
            load = loads.get(category, ZERO)
            for item, credit in members[:max_items]:
                placed.append((item.earned_at, credit, category, item))
                load += credit
            loads[category] = load
            continue
        total = ZERO
        for position, entry in enumerate(members, start=1):
            if max_items is not None and position > max_items:
                entry[1] = None
                continue
            allowed = entry[1]
            if max_credits is not None:
                allowed = max(ZERO, min(allowed, max_credits - total))
                if allowed <= ZERO:
                    entry[1] = None
                    continue
            total += allowed
            entry[1] = allowed
        _place_members(compiled, members, loads, flexible)
        placed.extend(
            (item.earned_at, credit, category, item)
            for item, credit, category in members
            if credit is not None and type(category) is str
        )

    # 4a. Allocation.
    if flexible:
        _allocate_flexible(compiled, flexible, loads)
        placed.extend((item.earned_at, credit, option, item) for item, credit, option in flexible)

    # 4b. Category caps: within its cap a category counts its load; over it,
    # its entries are walked in earned order up to the one crossing the cap.
    used: dict[str, Decimal] = {}
    over: dict[str, Decimal] = {}
    infos = compiled.infos
    for category, load in loads.items():
        cap = (infos.get(category) or compiled.info(category))[0]
        if cap is None or load <= cap:
            used[category] = load
        else:
            over[category] = cap
    if over:
        walked = [entry for entry in placed if entry[2] in over]
        _sort_placed(walked)
        running = dict.fromkeys(over, ZERO)  # the over-cap categories not yet crossed
        for _earned, credit, category, _item in walked:
            already = running.get(category)
            if already is None:
                continue  # crossed already
            room = over[category] - already
            if credit > room:
                used[category] = already + (room if room > ZERO else ZERO)
                del running[category]
                if not running:
                    break
            else:
                running[category] = already + credit

    # The totals, as _category_total builds them (inlined: six per learner).
    set_name, set_earned, set_counted, set_cap, set_minimum = _TOTAL_SLOTS
    get_load, get_used = loads.get, used.get
    totals = []
    append = totals.append
    for name, cap, minimum in compiled.listed_rules:
        total = _new(CategoryTotal)
        set_name(total, name)
        set_earned(total, get_load(name, ZERO))
        set_counted(total, get_used(name, ZERO))
        set_cap(total, cap)
        set_minimum(total, minimum)
        append(total)
    if not loads.keys() <= compiled.rank.keys():  # categories the policy does not list
        rank = compiled.rank
        for name in sorted(name for name in loads if name not in rank):
            rule = compiled.rule(name)
            append(_category_total(name, loads[name], used[name], rule.cap, rule.minimum))
    return tuple(totals), sum(used.values(), ZERO), achieved


# ---------------------------------------------------------------- series caps
#
# Which attendances of a capped series to keep, when keeping the most valuable
# ones (greedy, by credit) may not be best: the members are allowed in different
# categories (a larger attendance in a full category would push out one that
# counts where there is room), or they share several categories under a cap on
# credits (which attendance takes the last of the series' credit changes where
# the items can go).  Every choice the cap allows is compared by the counted
# total it leads to (with the exact allocation of the items allowed in several
# categories), the greedy choice first, so a choice replaces it only when it
# counts strictly more:
#
# - a cap on attendances only: within a set of members allowed in the same
#   categories more credit never counts less, so only how many members of each
#   set to keep (its most valuable ones) is chosen;
# - a cap on credits: every subset of at most ``max_items`` members, each
#   taking the series' credit in the greedy order (so the last one kept may be
#   cut), for a series of at most ``_SERIES_SUBSET_MEMBERS`` members.
#
# Every capped series of the learner that needs it is searched jointly, up to
# ``_SERIES_CHOICES`` combinations in all; beyond that (or beyond the member
# limit) every series falls back to greedy and the lines it trims say so.  In
# that fallback (only) adding an award may lower counted credit.  Choices that
# put the same credits in the same category sets are evaluated once, and the
# search stops at a choice that fills every category it can reach.  Each
# evaluation runs the exact allocation, so the search costs a few milliseconds
# in ordinary cases but up to about 2 s in the worst case measured (9
# attendances of distinct credit across two category sets under a cap on
# credits, plus 8 items allowed in three categories).

_SERIES_CHOICES = 512
_SERIES_SUBSET_MEMBERS = 9
_TOO_MANY = " (too many combinations to compare: the attendances with most credit were kept)"


def _option_set(compiled: _Compiled, categories: tuple[str, ...]) -> tuple[str, ...]:
    return categories if len(categories) == 1 else compiled.options(categories)


def _series_search_keys(
    compiled: _Compiled, cap: SeriesCap, members: list[list]
) -> list[tuple[str, ...]] | None:
    """The members' category sets when greedy may not be best, else ``None``.

    Greedy is best when the cap does not bite (every member counts in full), or
    when every member is allowed in the same categories and, under a cap on
    credits, in one category only.
    """
    max_items, max_credits = cap.max_items, cap.max_credits
    if not (max_items is not None and len(members) > max_items) and not (
        max_credits is not None and sum((e[1] for e in members), ZERO) > max_credits
    ):
        return None
    keys = [_option_set(compiled, e[0].categories) for e in members]
    first = keys[0]
    if all(key == first for key in keys) and (max_credits is None or len(first) == 1):
        return None
    return keys


def _series_limits(cap: SeriesCap) -> str:
    if cap.max_items is not None and cap.max_credits is not None:
        return f"{cap.max_items} attendances and {cap.max_credits} credits"
    if cap.max_items is not None:
        return f"{cap.max_items} attendances"
    return f"{cap.max_credits} credits"


def _series_allowed(
    cap: SeriesCap, members: list[list], kept: tuple[bool, ...] | None
) -> list[Decimal | None]:
    """What each member (in greedy order) counts: ``None`` when trimmed.

    ``kept`` None is the greedy choice (the first ``max_items``); otherwise the
    members kept (at most ``max_items`` of them).  The kept members take the
    series' credit in order.
    """
    max_items, max_credits = cap.max_items, cap.max_credits
    out: list[Decimal | None] = []
    total = ZERO
    for index, entry in enumerate(members):
        if kept is None:
            if max_items is not None and index >= max_items:
                out.append(None)
                continue
        elif not kept[index]:
            out.append(None)
            continue
        allowed = entry[1]
        if max_credits is not None:
            allowed = max(ZERO, min(allowed, max_credits - total))
            if allowed <= ZERO:
                out.append(None)
                continue
        total += allowed
        out.append(allowed)
    return out


def _apply_series(
    name: str,
    cap: SeriesCap,
    members: list[list],
    kept: tuple[bool, ...] | None,
    lines: dict[str, LedgerLine] | None,
    note: str,
) -> None:
    """Set each member's credit to what it counts (``None``: trimmed, with its line)."""
    allowed = _series_allowed(cap, members, kept)
    for index, (entry, value) in enumerate(zip(members, allowed, strict=True)):
        if value is None and lines is not None:
            item = entry[0]
            if kept is not None and not kept[index]:
                reason = (
                    f"series {name!r} counts at most {_series_limits(cap)}; left out so that"
                    " the attendances kept count more credit in their categories"
                )
            elif kept is None and cap.max_items is not None and index >= cap.max_items:
                reason = f"series {name!r} counts at most {cap.max_items} attendances; this is number {index + 1}"
            else:
                reason = (
                    f"series {name!r} counts at most {cap.max_credits} credits; already reached"
                )
            lines[item.id] = _series_capped(item, reason + note)
        entry[1] = value


def _place_members(
    compiled: _Compiled, members: list[list], loads: dict[str, Decimal], flexible: list[list]
) -> None:
    """Each kept member's credit to its category, or to the allocation when it has several."""
    for entry in members:
        credit = entry[1]
        if credit is None:
            entry.append(None)
            continue
        categories = entry[0].categories
        if len(categories) == 1:
            category = categories[0]
        else:
            options = compiled.options(categories)
            if len(options) > 1:
                entry.append(options)
                flexible.append(entry)
                continue
            category = options[0]
        entry.append(category)
        loads[category] = loads.get(category, ZERO) + credit


def _count_vectors(sizes: list[int], total: int) -> Iterator[tuple[int, ...]]:
    """Every way to take ``total`` members, at most ``sizes[i]`` from set ``i``."""
    if not sizes:
        if total == 0:
            yield ()
        return
    rest = sum(sizes[1:])
    for count in range(min(sizes[0], total), max(0, total - rest) - 1, -1):
        for tail in _count_vectors(sizes[1:], total - count):
            yield (count, *tail)


def _series_choices(
    cap: SeriesCap, members: list[list], keys: list[tuple[str, ...]], bound: int
) -> list[tuple[bool, ...] | None] | None:
    """The choices to compare, greedy (``None``) first; ``None`` beyond ``bound``."""
    count = len(members)
    max_items = cap.max_items
    limit = count if max_items is None else min(max_items, count)
    greedy = tuple(index < limit for index in range(count))
    choices: list[tuple[bool, ...] | None] = [None]
    if cap.max_credits is None:
        groups: dict[tuple[str, ...], list[int]] = {}
        for index, key in enumerate(keys):
            groups.setdefault(key, []).append(index)
        indices = list(groups.values())
        for counts in _count_vectors([len(g) for g in indices], limit):
            flags = [False] * count
            for group, taken in zip(indices, counts, strict=True):
                for index in group[:taken]:
                    flags[index] = True
            kept = tuple(flags)
            if kept != greedy:
                choices.append(kept)
                if len(choices) > bound:
                    return None
        return choices
    if count > _SERIES_SUBSET_MEMBERS:
        return None
    for mask in range(1, 1 << count):
        if max_items is not None and mask.bit_count() > max_items:
            continue
        kept = tuple(bool(mask >> index & 1) for index in range(count))
        if kept != greedy:
            choices.append(kept)
            if len(choices) > bound:
                return None
    return choices


def _search_series(
    compiled: _Compiled,
    searched: list[tuple[str, SeriesCap, list[list], list[tuple[str, ...]]]],
    loads: dict[str, Decimal],
    flexible: list[list],
    lines: dict[str, LedgerLine] | None,
) -> None:
    """Keep, in every series of ``searched``, the attendances that count most in all."""
    per_series: list[list[tuple[bool, ...] | None]] = []
    combinations = 1
    for _name, cap, members, keys in searched:
        choices = _series_choices(cap, members, keys, _SERIES_CHOICES)
        if choices is None or combinations * len(choices) > _SERIES_CHOICES:
            for name, cap_, members_, _keys in searched:
                _apply_series(name, cap_, members_, None, lines, _TOO_MANY)
                _place_members(compiled, members_, loads, flexible)
            return
        combinations *= len(choices)
        per_series.append(choices)

    rule_of = compiled.rule
    # No choice counts more than every category filled with all the credit that
    # may go there (up to its cap): a choice reaching that ceiling is the answer.
    reach = dict(loads)
    for entry in flexible:
        for option in entry[2]:
            reach[option] = reach.get(option, ZERO) + entry[1]
    for _name, cap, members, keys in searched:
        for entry, key in zip(members, keys, strict=True):
            credit = entry[1] if cap.max_credits is None else min(entry[1], cap.max_credits)
            for option in key:
                reach[option] = reach.get(option, ZERO) + credit
    ceiling = ZERO
    for category, load in reach.items():
        cap_of = rule_of(category).cap
        ceiling += load if cap_of is None else min(cap_of, load)

    best: tuple[tuple[bool, ...] | None, ...] | None = None
    best_total: Decimal | None = None
    # Choices that put the same credit in the same category sets count the same.
    seen: set[tuple[tuple[tuple[str, ...], Decimal], ...]] = set()
    for joint in product(*per_series):
        placed: list[tuple[tuple[str, ...], Decimal, LedgerItem]] = []
        for (_name, cap, members, keys), kept in zip(searched, joint, strict=True):
            allowed = _series_allowed(cap, members, kept)
            placed.extend(
                (key, value, entry[0])
                for entry, key, value in zip(members, keys, allowed, strict=True)
                if value is not None
            )
        signature = tuple(sorted((key, value) for key, value, _item in placed))
        if signature in seen:
            continue
        seen.add(signature)
        trial_loads = dict(loads)
        trial_flexible = [[e[0], e[1], e[2]] for e in flexible]
        for key, value, item in placed:
            if len(key) == 1:
                trial_loads[key[0]] = trial_loads.get(key[0], ZERO) + value
            else:
                trial_flexible.append([item, value, key])
        if trial_flexible:
            _allocate_flexible(compiled, trial_flexible, trial_loads)
        total = ZERO
        for category, load in trial_loads.items():
            cap_of = rule_of(category).cap
            total += load if cap_of is None else min(cap_of, load)
        if best_total is None or total > best_total:
            best, best_total = joint, total
            if total >= ceiling:
                break
    assert best is not None  # noqa: S101 - the greedy choice is always compared
    for (name, cap, members, _keys), kept in zip(searched, best, strict=True):
        _apply_series(name, cap, members, kept, lines, "")
        _place_members(compiled, members, loads, flexible)


def _excluded(item: LedgerItem, rule: str, reason: str) -> LedgerLine:
    return _line(item, ZERO, None, "excluded", rule, reason)


def _series_capped(item: LedgerItem, reason: str) -> LedgerLine:
    return _line(item, ZERO, None, "capped", "series_cap", reason)


def _category_line(
    item: LedgerItem,
    credit: Decimal,
    counted: Decimal,
    category: str,
    rule: CategoryRule,
    minute_based_types: frozenset[str],
    texts: tuple[str, str, str],
) -> LedgerLine:
    series_note = ""
    if credit < item.credits:
        series_note = (
            f" (learning sessions only: {item.learning_minutes} min = {credit})"
            if item.activity_type in minute_based_types
            else f" (series cap left {credit})"
        )
    exempt, within, capped = texts
    if rule.cap is None:
        return _line(item, counted, category, "counted", None, exempt + series_note)
    if counted == credit:
        return _line(item, counted, category, "counted", None, within + series_note)
    status = "capped" if counted == ZERO else "partly_capped"
    return _line(
        item,
        counted,
        category,
        status,
        "category_cap",
        f"{capped}{counted} of {credit} counted{series_note}",
    )


# ---------------------------------------------------------------- optimal allocation


def _allocate_flexible(
    compiled: _Compiled, flexible: list[list], loads: dict[str, Decimal]
) -> None:
    """Place each ``[item, credit, options]`` entry in one category, maximising counted credit.

    Exact depth-first branch-and-bound over the items (largest credit first, then
    id) and each item's options (in the policy's order).  The first allocation
    in that order with the best (counted credit, minimums met) wins; the pruning
    only skips branches that cannot beat what was already found, so it changes
    how fast, never which allocation.  Scores are kept relative to the fixed
    items' and updated per move.  Sets ``entry[2]`` to the chosen category and
    adds the flexible credit to ``loads``.  The entries whose choice is forced
    (:func:`_place_forced`) are placed first, without a search.
    """
    rule_of = compiled.rule
    minimums = compiled.minimums
    if len(flexible) > 1:
        flexible = _place_forced(compiled, flexible, loads)
    count = len(flexible)
    if count == 0:
        return
    if count == 1:
        entry = flexible[0]
        credit = entry[1]
        infos = compiled.infos
        best_option, best_score = None, None
        for option in entry[2]:
            cap, option_minimums = infos.get(option) or compiled.info(option)
            score = _move(cap, option_minimums, loads.get(option, ZERO), credit)
            if best_score is None or score > best_score:
                best_option, best_score = option, score
        entry[2] = best_option
        loads[best_option] = loads.get(best_option, ZERO) + credit  # type: ignore[index]
        return

    flexible.sort(key=lambda e: (-e[1], e[0].id))
    if count == 2:
        infos = compiled.infos
        info2 = {o: infos.get(o) or compiled.info(o) for e in flexible for o in e[2]}
        options = _best_of_two(flexible, loads, info2, None)
        for entry, option in zip(flexible, options, strict=True):
            entry[2] = option
            loads[option] = loads.get(option, ZERO) + entry[1]
        return

    relevant = sorted({o for e in flexible for o in e[2]})
    cap_of = {o: rule_of(o).cap for o in relevant}
    info = {o: (cap_of[o], minimums.get(o, ())) for o in relevant}
    # No allocation can beat every item counted in full with every minimum
    # still open met: the first allocation (in the search's order) that
    # reaches this ceiling is the answer, and the search stops there.
    still_open = 0
    for o in relevant:
        cap, load = cap_of[o], loads.get(o, ZERO)
        counted = load if cap is None else min(cap, load)
        still_open += sum(1 for minimum in minimums.get(o, ()) if not counted >= minimum)
    ceiling = (sum((e[1] for e in flexible), ZERO), still_open)

    if count == 3:
        options = _best_of_three(flexible, loads, info, ceiling)
        for entry, option in zip(flexible, options, strict=True):
            entry[2] = option
            loads[option] = loads.get(option, ZERO) + entry[1]
        return

    def move(option: str, load: Decimal, credit: Decimal) -> tuple[Decimal, int]:
        return _move(cap_of[option], minimums.get(option, ()), load, credit)

    credits = [e[1] for e in flexible]
    choices = [e[2] for e in flexible]
    current = dict(loads)
    choice: list[str] = [""] * count
    best: list[object] = [None, None, None, False]  # score, minimums, choice, at the ceiling

    suffix_remaining = [ZERO] * (count + 1)
    suffix_options: list[tuple[str, ...]] = [()] * (count + 1)
    suffix_uncapped = [False] * (count + 1)
    seen_options: set[str] = set()
    for index in range(count - 1, -1, -1):
        suffix_remaining[index] = credits[index] + suffix_remaining[index + 1]
        seen_options.update(choices[index])
        suffix_options[index] = tuple(sorted(seen_options))
        suffix_uncapped[index] = any(cap_of[o] is None for o in seen_options)
    # A category's load matters to the rest of the search only up to its cap
    # (or, uncapped, its minimum): equal keys have equal futures.
    limit_of = {
        o: cap_of[o] if cap_of[o] is not None else (rule_of(o).minimum or ZERO) for o in relevant
    }
    seen: dict[tuple[object, ...], tuple[Decimal, int]] = {}

    def search(index: int, score: Decimal, mins: int) -> None:
        if index == count:
            if best[0] is None or (score, mins) > (best[0], best[1]):  # type: ignore[operator]
                best[0], best[1], best[2] = score, mins, list(choice)
                best[3] = (score, mins) == ceiling
            return
        key = (index, *(min(current.get(o, ZERO), limit_of[o]) for o in relevant))
        previous = seen.get(key)
        if previous is not None and (score, mins) <= previous:
            return
        seen[key] = (score, mins)
        if best[0] is not None:
            # Bound: every remaining item counted in full, within the room left.
            remaining = suffix_remaining[index]
            if not suffix_uncapped[index]:
                room = sum(
                    (
                        max(ZERO, cap_of[o] - current.get(o, ZERO))  # type: ignore[operator]
                        for o in suffix_options[index]
                    ),
                    ZERO,
                )
                remaining = min(remaining, room)
            if score + remaining < best[0]:  # type: ignore[operator]
                return
        credit = credits[index]
        for option in choices[index]:
            load = current.get(option, ZERO)
            delta, gained = move(option, load, credit)
            current[option] = load + credit
            choice[index] = option
            search(index + 1, score + delta, mins + gained)
            current[option] = load
            if best[3]:
                return

    search(0, ZERO, 0)
    for entry, option in zip(flexible, best[2], strict=True):  # type: ignore[arg-type]
        entry[2] = option
        loads[option] = loads.get(option, ZERO) + entry[1]


def _place_forced(
    compiled: _Compiled, flexible: list[list], loads: dict[str, Decimal]
) -> list[list]:
    """Place the entries whose best category is known without a search; return the rest.

    Two cases, where the search would choose the same (so this changes how fast,
    never which allocation):

    - every option is *full* (capped, its fixed load at or over the cap): the
      item counts nothing wherever it goes and changes nothing for the others,
      so every allocation ties and the first option (the search's first) wins;
    - the first option has room for every flexible credit that may go there
      (or is uncapped), and no other option has a minimum still open (one that
      its fixed load does not meet but could): moving the item from any other
      option to the first counts its whole credit there, loses at most that
      credit elsewhere and no minimum, and changes nothing for the others, so
      some best allocation has it in the first option, and the search's first
      best (the earliest in its order) does.

    Placing an entry only adds load where these conditions still hold for the
    rest (room and demand drop together; a full category stays full; a minimum
    once met stays met), so the conditions are checked once, on the fixed loads.
    """
    infos = compiled.infos
    demand: dict[str, Decimal] = {}
    for entry in flexible:
        credit = entry[1]
        for option in entry[2]:
            demand[option] = demand.get(option, ZERO) + credit
    full: set[str] = set()
    roomy: set[str] = set()  # room for all the flexible credit that may go there
    still_open: set[str] = set()
    for option, wanted in demand.items():
        cap, mins = infos.get(option) or compiled.info(option)
        load = loads.get(option, ZERO)
        if cap is None:
            roomy.add(option)
            counted = load
        else:
            if load >= cap:
                full.add(option)
            elif cap - load >= wanted:
                roomy.add(option)
            counted = min(cap, load)
        for minimum in mins:
            if counted < minimum and (cap is None or minimum <= cap):
                still_open.add(option)
    rest = []
    for entry in flexible:
        options = entry[2]
        first = options[0]
        if full.issuperset(options) or (
            first in roomy and (not still_open or still_open.isdisjoint(options[1:]))
        ):
            entry[2] = first
            loads[first] = loads.get(first, ZERO) + entry[1]
        else:
            rest.append(entry)
    return rest


def _best_of_two(
    flexible: list[list],
    loads: dict[str, Decimal],
    info: dict[str, tuple[Decimal | None, tuple[Decimal, ...]]],
    ceiling: tuple[Decimal, int] | None,
) -> tuple[str, ...]:
    """Every allocation of two items, in the search's order; the first best wins."""
    (_, credit1, options1), (_, credit2, options2) = flexible
    best: tuple[str, ...] = ()
    best_score = None
    for option1 in options1:
        load1 = loads.get(option1, ZERO)
        delta1, gained1 = _move(*info[option1], load1, credit1)
        for option2 in options2:
            load2 = load1 + credit1 if option2 == option1 else loads.get(option2, ZERO)
            delta2, gained2 = _move(*info[option2], load2, credit2)
            score = (delta1 + delta2, gained1 + gained2)
            if best_score is None or score > best_score:
                best, best_score = (option1, option2), score
                if score == ceiling:
                    return best
    return best


def _best_of_three(
    flexible: list[list],
    loads: dict[str, Decimal],
    info: dict[str, tuple[Decimal | None, tuple[Decimal, ...]]],
    ceiling: tuple[Decimal, int],
) -> tuple[str, ...]:
    """Every allocation of three items, in the search's order; the first best wins."""
    (_, credit1, options1), (_, credit2, options2), (_, credit3, options3) = flexible
    best: tuple[str, ...] = ()
    best_score = None
    for option1 in options1:
        load1 = loads.get(option1, ZERO)
        delta1, gained1 = _move(*info[option1], load1, credit1)
        for option2 in options2:
            load2 = load1 + credit1 if option2 == option1 else loads.get(option2, ZERO)
            delta2, gained2 = _move(*info[option2], load2, credit2)
            for option3 in options3:
                load3 = loads.get(option3, ZERO)
                if option3 == option1:
                    load3 = load3 + credit1
                if option3 == option2:
                    load3 = load3 + credit2
                delta3, gained3 = _move(*info[option3], load3, credit3)
                score = (delta1 + delta2 + delta3, gained1 + gained2 + gained3)
                if best_score is None or score > best_score:
                    best, best_score = (option1, option2, option3), score
                    if score == ceiling:
                        return best
    return best


def _move(
    cap: Decimal | None, minimums: tuple[Decimal, ...], load: Decimal, credit: Decimal
) -> tuple[Decimal, int]:
    """What adding ``credit`` to a category at ``load`` adds to (counted credit, minimums met)."""
    new = load + credit
    if cap is None:
        delta, before, after = credit, load, new
    else:
        before, after = min(cap, load), min(cap, new)
        delta = after - before
    gained = 0
    for minimum in minimums:
        gained += (after >= minimum) - (before >= minimum)
    return delta, gained


def _capped(policy: Policy, category: str, load: Decimal) -> Decimal:
    cap = policy.category(category).cap
    return load if cap is None else min(cap, load)


# ---------------------------------------------------------------- requirements


def _unmet(
    compiled: _Compiled,
    achieved: set[str],
    totals: tuple[CategoryTotal, ...],
    counted_total: Decimal,
) -> tuple[str, ...]:
    """The codes of the requirements :func:`_requirements` finds not met, in its order."""
    policy = compiled.policy
    unmet = [] if counted_total >= policy.required_total else ["total"]
    for index, code, minimum in compiled.minimum_checks:
        if not totals[index].counted >= minimum:
            unmet.append(code)
    if policy.min_distinct_categories:
        distinct = 0
        for total in totals:
            if total.counted > ZERO:
                distinct += 1
        if distinct < policy.min_distinct_categories:
            unmet.append("distinct_categories")
    for slug, code in compiled.required_codes:
        if slug not in achieved:
            unmet.append(code)
    return tuple(unmet)


def _requirements(
    policy: Policy,
    achieved: set[str],
    totals: tuple[CategoryTotal, ...],
    counted_total: Decimal,
) -> tuple[Requirement, ...]:
    """``achieved``: the achievements of the items not excluded (window, evidence)."""
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
    for slug in policy.required_achievements:
        met = slug in achieved
        out.append(
            Requirement(
                f"required:{slug}",
                met,
                f"required achievement {slug}: {'earned this cycle' if met else 'not yet earned this cycle'}",
            )
        )
    return tuple(out)
