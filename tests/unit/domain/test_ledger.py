"""The CE ledger: the seed rules of a real certifying body, and its invariants."""

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D  # noqa: N817 - reads like the policy tables

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from badger.domain.ledger import (
    CategoryRule,
    CycleWindow,
    LedgerItem,
    Period,
    Policy,
    SeriesCap,
    _capped,
    compute,
    compute_totals,
)

START = datetime(2025, 1, 1, tzinfo=UTC)
DEADLINE = datetime(2027, 12, 31, tzinfo=UTC)
WINDOW = CycleWindow(START, DEADLINE)

POLICY = Policy(
    key="csms",
    version=1,
    name="Certified Social Media Strategist",
    required_total=D("30"),
    default_category_cap=D("5"),
    categories=(
        CategoryRule("ethics", D("5"), minimum=D("2")),
        CategoryRule("training-library", None, label="training library"),
        CategoryRule("analytics", D("5")),
        CategoryRule("content-strategy", D("5")),
        CategoryRule("webinars", D("5")),
        CategoryRule("conferences", D("5")),
    ),
    series_caps=(SeriesCap("monthly-strategy-webinar", max_items=6),),
    min_distinct_categories=3,
    required_achievements=("ethics-disclosure",),
    proof_required_types=frozenset({"webinar"}),
)


def item(n, credits, *categories, days=30, **kw):
    return LedgerItem(
        id=f"i{n:03d}",
        name=kw.pop("name", f"item {n}"),
        credits=D(str(credits)),
        categories=categories,
        earned_at=START + timedelta(days=days, minutes=n),
        **kw,
    )


def line(ledger, item_id):
    return next(x for x in ledger.lines if x.item_id == item_id)


def test_category_cap_of_five_with_an_exempt_training_library():
    items = [item(i, 2, "analytics") for i in range(4)] + [
        item(10 + i, 4, "training-library") for i in range(3)
    ]
    ledger = compute(POLICY, items, WINDOW)
    totals = {t.name: t for t in ledger.categories}
    assert totals["analytics"].counted == D("5")
    assert totals["analytics"].earned == D("8")
    assert totals["training-library"].counted == D("12")
    assert totals["training-library"].exempt
    assert [line(ledger, f"i00{i}").status for i in range(4)] == [
        "counted",
        "counted",
        "partly_capped",
        "capped",
    ]
    assert (
        line(ledger, "i002").reason == "analytics is capped at 5 credits per cycle; 1 of 2 counted"
    )
    assert "exempt from the category cap" in line(ledger, "i010").reason
    assert ledger.counted_total == D("17")


def test_one_series_attended_twenty_times_counts_six():
    items = [
        item(
            i,
            "0.5",
            "webinars",
            days=30 * i,
            series="monthly-strategy-webinar",
            activity_type="webinar",
        )
        for i in range(20)
    ]
    ledger = compute(POLICY, items, WINDOW)
    counted = [x for x in ledger.lines if x.status == "counted"]
    capped = [x for x in ledger.lines if x.rule == "series_cap"]
    assert len(counted) == 6
    assert len(capped) == 14
    assert {t.name: t.counted for t in ledger.categories}["webinars"] == D("3")
    assert "counts at most 6 attendances" in capped[0].reason


def test_webinar_without_proof_of_learning_counts_nothing():
    ledger = compute(
        POLICY, [item(1, 1, "webinars", activity_type="webinar", has_proof=False)], WINDOW
    )
    assert line(ledger, "i001").rule == "proof_required"
    assert ledger.counted_total == 0


def test_conference_day_of_eight_hours_counts_its_three_hours_of_sessions():
    conference = item(1, 8, "conferences", activity_type="conference", learning_minutes=180)
    ledger = compute(POLICY, [conference], WINDOW)
    assert line(ledger, "i001").counted == D("3")
    assert "learning sessions only: 180 min = 3" in line(ledger, "i001").reason
    undocumented = item(2, 8, "conferences", activity_type="conference")
    ledger = compute(POLICY, [undocumented], WINDOW)
    assert line(ledger, "i002").rule == "learning_time"
    assert "pending review" in line(ledger, "i002").reason


def test_proposal_approved_mid_cycle_counts_as_an_activity():
    proposal = item(1, "1.5", "content-strategy", days=400, name="Proposed: local meetup talk")
    ledger = compute(POLICY, [proposal], WINDOW)
    assert line(ledger, "i001").counted == D("1.5")


def test_an_extension_moves_the_deadline():
    late = item(1, 2, "analytics", days=(DEADLINE - START).days + 20)
    assert compute(POLICY, [late], WINDOW).counted_total == 0
    assert "after the cycle deadline" in compute(POLICY, [late], WINDOW).lines[0].reason
    extended = CycleWindow(START, DEADLINE + timedelta(days=90))
    assert compute(POLICY, [late], extended).counted_total == D("2")


def test_hiatus_excludes_credit_earned_while_inactive_unless_policy_allows():
    window = CycleWindow(
        START, DEADLINE, (Period(START + timedelta(days=100), START + timedelta(days=200)),)
    )
    during = item(1, 2, "analytics", days=150)
    after = item(2, 2, "analytics", days=250)
    ledger = compute(POLICY, [during, after], window)
    assert line(ledger, "i001").rule == "hiatus"
    assert ledger.counted_total == D("2")
    lenient = replace(POLICY, credit_during_hiatus=True)
    assert compute(lenient, [during, after], window).counted_total == D("4")


def test_requirements_total_minimum_distinct_and_required_unit():
    items = [
        item(1, 2, "ethics", achievement="ethics-disclosure"),
        item(2, 4, "training-library"),
        item(3, 4, "training-library"),
        item(4, 5, "analytics"),
    ]
    ledger = compute(POLICY, items, WINDOW)
    met = {r.code: r.met for r in ledger.requirements}
    assert met == {
        "total": False,
        "minimum:ethics": True,
        "distinct_categories": True,
        "required:ethics-disclosure": True,
    }
    assert ledger.remaining == D("15")
    assert not ledger.satisfied
    more = [*items, *(item(10 + i, 4, "training-library") for i in range(4))]
    assert compute(POLICY, more, WINDOW).satisfied


def test_a_flexible_item_goes_where_it_counts():
    # Analytics is full; the dual-category course should count in content strategy.
    items = [item(1, 5, "analytics"), item(2, 3, "analytics", "content-strategy")]
    ledger = compute(POLICY, items, WINDOW)
    assert line(ledger, "i002").category == "content-strategy"
    assert ledger.counted_total == D("8")


def test_same_inputs_same_ledger():
    items = [item(i, 1 + i % 3, "analytics", "ethics", "webinars") for i in range(8)]
    assert compute(POLICY, items, WINDOW) == compute(POLICY, list(reversed(items)), WINDOW)


# ---------------------------------------------------------------- properties

CATS = ["a", "b", "c", "x"]
SMALL = Policy(
    key="p",
    version=1,
    name="p",
    required_total=D("10"),
    default_category_cap=D("3"),
    categories=(
        CategoryRule("a", D("3")),
        CategoryRule("b", D("4")),
        CategoryRule("c", D("2")),
        CategoryRule("x", None),
    ),
)

items_strategy = st.lists(
    st.tuples(
        st.integers(1, 8).map(lambda n: D(n) / 2),
        st.lists(st.sampled_from(CATS), min_size=1, max_size=3, unique=True),
    ),
    max_size=7,
)


def build(specs):
    return [item(i, credits, *cats) for i, (credits, cats) in enumerate(specs)]


@settings(max_examples=150, deadline=None)
@given(items_strategy)
def test_allocation_is_optimal_against_brute_force(specs):
    items = build(specs)
    best = D(0)
    for choice in itertools.product(*(i.categories for i in items)):
        loads = {}
        for it, cat in zip(items, choice, strict=True):
            loads[cat] = loads.get(cat, D(0)) + it.credits
        best = max(best, sum((_capped(SMALL, c, v) for c, v in loads.items()), D(0)))
    assert compute(SMALL, items, WINDOW).counted_total == best


@settings(max_examples=150, deadline=None)
@given(items_strategy)
def test_totals_never_exceed_caps_and_lines_add_up(specs):
    ledger = compute(SMALL, build(specs), WINDOW)
    for total in ledger.categories:
        if total.cap is not None:
            assert total.counted <= total.cap
    assert sum((x.counted for x in ledger.lines), D(0)) == ledger.counted_total
    for x in ledger.lines:
        assert 0 <= x.counted <= x.earned


@settings(max_examples=150, deadline=None)
@given(
    items_strategy,
    st.integers(1, 8).map(lambda n: D(n) / 2),
    st.lists(st.sampled_from(CATS), min_size=1, max_size=3, unique=True),
)
def test_adding_an_award_never_lowers_counted_credit(specs, credits, cats):
    before = compute(SMALL, build(specs), WINDOW).counted_total
    after = compute(SMALL, [*build(specs), item(99, credits, *cats)], WINDOW).counted_total
    assert after >= before


@pytest.mark.parametrize("n", [25])
def test_many_flexible_items_stay_fast(n):
    items = [item(i, 1 + i % 4, "a", "b", "c") for i in range(n)]
    ledger = compute(SMALL, items, WINDOW)
    assert ledger.counted_total == D("9")


# ---------------------------------------------------------------- series caps across categories

SERIES_POLICY = Policy(
    key="s",
    version=1,
    name="series across categories",
    required_total=D("10"),
    categories=(CategoryRule("A", D("2")), CategoryRule("B", D("5")), CategoryRule("C", D("2"))),
)


def _series_ledger(series_cap, specs):
    policy = replace(SERIES_POLICY, series_caps=(series_cap,))
    items = [
        item(n, credits, *categories, days=n, series=series, name=name)
        for n, (name, credits, categories, series) in enumerate(specs, start=1)
    ]
    return policy, items


FULL_A = ("full", 2, ("A",), None)  # category A (cap 2) is full without the series


@pytest.mark.parametrize(
    ("series_cap", "specs", "before", "after", "statuses"),
    [
        pytest.param(
            SeriesCap("S", max_items=1),
            [FULL_A, ("a", 1, ("B",), "S")],
            [("b", 2, ("A",), "S")],
            D("3"),
            {"a": "counted", "b": "capped"},
            id="one attendance: the larger one in a full category does not push out the other",
        ),
        pytest.param(
            SeriesCap("S", max_credits=D("2")),
            [FULL_A, ("a", 1, ("B",), "S")],
            [("b", 2, ("A",), "S")],
            D("3"),
            {"a": "counted", "b": "capped"},
            id="two credits: the larger one in a full category does not take the series credit",
        ),
        pytest.param(
            SeriesCap("S", max_items=1),
            [("a", 1, ("B",), "S")],
            [("b", 2, ("A",), "S")],
            D("2"),
            {"a": "capped", "b": "counted"},
            id="one attendance: the larger one counts where there is room (greedy is best)",
        ),
        pytest.param(
            SeriesCap("S", max_items=2, max_credits=D("4")),
            [("a", 2, ("A", "C"), "S"), ("b", 2, ("A", "C"), "S")],
            [("c", 3, ("A", "C"), "S")],
            D("4"),
            {"a": "counted", "b": "counted", "c": "capped"},
            id="shared categories under a credit cap: the cut attendance would not fit",
        ),
    ],
)
def test_adding_an_attendance_to_a_capped_series_never_lowers_counted_credit(
    series_cap, specs, before, after, statuses
):
    policy, items = _series_ledger(series_cap, specs)
    earlier = compute(policy, items, WINDOW).counted_total
    policy, more = _series_ledger(series_cap, [*specs, *before])
    ledger = compute(policy, more, WINDOW)
    assert ledger.counted_total >= earlier
    assert ledger.counted_total == after
    by_name = {x.name: x for x in ledger.lines}
    assert {name: by_name[name].status for name in statuses} == statuses
    for name, status in statuses.items():
        if status == "capped" and by_name[name].counted == 0:
            assert by_name[name].rule == "series_cap"
            assert by_name[name].reason.startswith("series 'S' counts at most ")
    assert compute_totals(policy, more, WINDOW) == ledger.totals()


def test_an_attendance_left_out_for_a_better_total_says_why():
    policy, items = _series_ledger(
        SeriesCap("S", max_items=1),
        [FULL_A, ("a", 1, ("B",), "S"), ("b", 2, ("A",), "S")],
    )
    b = next(x for x in compute(policy, items, WINDOW).lines if x.name == "b")
    assert b.reason == (
        "series 'S' counts at most 1 attendances; left out so that"
        " the attendances kept count more credit in their categories"
    )


def test_a_series_with_too_many_choices_keeps_the_most_credit_and_says_so():
    # Eleven attendances under a credit cap, in two category sets: more than
    # the subsets compared, so the series keeps its most valuable attendances.
    specs = [FULL_A] + [
        (f"m{n}", 2 if n % 2 else 1, ("A",) if n % 2 else ("B",), "S") for n in range(11)
    ]
    policy, items = _series_ledger(SeriesCap("S", max_credits=D("2")), specs)
    ledger = compute(policy, items, WINDOW)
    trimmed = [x for x in ledger.lines if x.rule == "series_cap"]
    assert len(trimmed) == 10
    assert all(
        x.reason.endswith(
            "(too many combinations to compare: the attendances with most credit were kept)"
        )
        for x in trimmed
    )
    assert ledger.counted_total == D("2")  # greedy: the 2-credit attendance in full A


SERIES_CAPS = [
    SeriesCap("s1", max_items=1),
    SeriesCap("s1", max_items=2),
    SeriesCap("s1", max_credits=D("2.5")),
    SeriesCap("s1", max_items=2, max_credits=D("3")),
]

series_items_strategy = st.lists(
    st.tuples(
        st.integers(1, 8).map(lambda n: D(n) / 2),
        st.lists(st.sampled_from(CATS), min_size=1, max_size=2, unique=True),
        st.sampled_from([None, "s1", "s1", "s2"]),
    ),
    max_size=7,
)


def _series_kept(cap, members):
    """What each member of a subset counts: in order of credit (earlier first), up to the cap."""
    total, kept = D(0), []
    for it in sorted(members, key=lambda i: (-i.credits, i.earned_at, i.id)):
        allowed = (
            it.credits if cap.max_credits is None else min(it.credits, cap.max_credits - total)
        )
        if allowed > 0:
            kept.append((it, allowed))
            total += allowed
    return kept


@settings(max_examples=150, deadline=None)
@given(series_items_strategy, st.sampled_from(SERIES_CAPS), st.sampled_from(SERIES_CAPS))
def test_series_caps_keep_the_best_subset_against_brute_force(specs, cap1, cap2):
    policy = replace(SMALL, series_caps=(cap1, replace(cap2, series="s2")))
    items = [
        item(i, credits, *cats, days=1 + i % 3, series=series)
        for i, (credits, cats, series) in enumerate(specs)
    ]
    others = [(it, it.credits) for it in items if it.series is None]
    subsets = []
    for cap in policy.series_caps:
        members = [it for it in items if it.series == cap.series]
        subsets.append(
            [
                _series_kept(cap, chosen)
                for size in range(len(members) + 1)
                if cap.max_items is None or size <= cap.max_items
                for chosen in itertools.combinations(members, size)
            ]
        )
    best = D(0)
    for kept1, kept2 in itertools.product(*subsets):
        counted = [*others, *kept1, *kept2]
        for choice in itertools.product(*(it.categories for it, _ in counted)):
            loads = {}
            for (_it, credit), cat in zip(counted, choice, strict=True):
                loads[cat] = loads.get(cat, D(0)) + credit
            best = max(best, sum((_capped(policy, c, v) for c, v in loads.items()), D(0)))
    ledger = compute(policy, items, WINDOW)
    assert ledger.counted_total == best
    assert compute_totals(policy, items, WINDOW) == ledger.totals()
