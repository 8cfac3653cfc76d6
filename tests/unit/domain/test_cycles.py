"""Certification cycles: deadlines with extensions and paused hiatus, grace, lapse, reminders."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from badger.domain import cycles
from badger.domain.cycles import CycleState, Extension
from badger.domain.errors import Conflict, ValidationError
from badger.domain.ledger import Period

START = datetime(2025, 1, 1, tzinfo=UTC)
DEADLINE = datetime(2028, 1, 1, tzinfo=UTC)


def day(n):
    return START + timedelta(days=n)


def state(status="active", extensions=(), hiatus=(), grace_days=30):
    return CycleState(
        status,
        START,
        DEADLINE,
        tuple(Extension(d, "hard times") for d in extensions),
        tuple(hiatus),
        grace_days,
    )


@pytest.mark.parametrize(
    ("extensions", "hiatus", "now", "expected"),
    [
        pytest.param((), (), day(10), DEADLINE, id="base deadline"),
        pytest.param((60,), (), day(10), DEADLINE + timedelta(days=60), id="one extension"),
        pytest.param((30, 15), (), day(10), DEADLINE + timedelta(days=45), id="extensions add up"),
        pytest.param(
            (),
            (Period(day(100), day(190)),),
            day(400),
            DEADLINE + timedelta(days=90),
            id="closed hiatus pauses its length",
        ),
        pytest.param(
            (),
            (Period(day(100), None),),
            day(150),
            DEADLINE + timedelta(days=50),
            id="open hiatus pauses up to now",
        ),
        pytest.param(
            (20,),
            (Period(day(100), day(110)), Period(day(200), None)),
            day(230),
            DEADLINE + timedelta(days=20 + 10 + 30),
            id="extension plus two hiatus periods",
        ),
    ],
)
def test_effective_deadline_is_base_plus_extensions_plus_paused_time(
    extensions, hiatus, now, expected
):
    assert cycles.effective_deadline(state(extensions=extensions, hiatus=hiatus), now) == expected


@pytest.mark.parametrize(
    ("status", "now", "grace", "expected"),
    [
        ("active", DEADLINE - timedelta(seconds=1), 30, "active"),
        ("active", DEADLINE, 30, "grace"),
        ("active", DEADLINE + timedelta(days=29), 30, "grace"),
        ("active", DEADLINE + timedelta(days=30), 30, "lapsed"),
        ("active", DEADLINE, 0, "lapsed"),
        ("grace", DEADLINE + timedelta(days=31), 30, "lapsed"),
        ("renewed", DEADLINE + timedelta(days=400), 30, "renewed"),
        ("inactive", DEADLINE + timedelta(days=400), 30, "inactive"),
    ],
)
def test_status_follows_the_clock(status, now, grace, expected):
    assert cycles.status_at(state(status, grace_days=grace), now) == expected


def test_settle_is_idempotent_and_explains_the_move():
    late = DEADLINE + timedelta(days=2)
    move = cycles.settle(state(), late)
    assert (move.from_status, move.to_status, move.code) == ("active", "grace", "deadline_passed")
    assert "2028-01-01" in move.reason
    assert cycles.settle(state("grace"), late) is None
    lapse = cycles.settle(state("grace"), DEADLINE + timedelta(days=31))
    assert (lapse.to_status, lapse.code) == ("lapsed", "lapsed")
    assert "grace period ended" in lapse.reason


def test_an_extension_reinstates_a_lapsed_cycle():
    now = DEADLINE + timedelta(days=40)
    move = cycles.settle(state("lapsed", extensions=(90,)), now)
    assert (move.to_status, move.code) == ("active", "reinstated")


def test_hiatus_does_not_advance_the_cycle_however_late():
    paused = state("inactive", hiatus=[Period(day(100), None)])
    assert cycles.settle(paused, DEADLINE + timedelta(days=500)) is None
    assert cycles.reminder_due(paused, DEADLINE - timedelta(days=1), ()) is None


def test_hiatus_then_reactivation_moves_the_deadline_by_the_pause():
    with_hiatus = state("inactive", hiatus=[Period(day(100), None)])
    move = cycles.end_hiatus(with_hiatus, day(220))
    assert (move.from_status, move.to_status) == ("inactive", "active")
    assert "120 days" in move.reason
    assert (DEADLINE + timedelta(days=120)).date().isoformat() in move.reason


@pytest.mark.parametrize(
    ("status", "message"),
    [("inactive", "already on hiatus"), ("lapsed", "cannot go on hiatus"), ("renewed", "cannot")],
)
def test_hiatus_refused_outside_active_or_grace(status, message):
    with pytest.raises(Conflict, match=message):
        cycles.start_hiatus(state(status), day(5))


def test_reactivation_needs_a_hiatus():
    with pytest.raises(Conflict, match="not on hiatus"):
        cycles.end_hiatus(state(), day(5))


@pytest.mark.parametrize(
    ("status", "now", "message"),
    [
        ("inactive", day(5), "on hiatus"),
        ("renewed", day(5), "already renewed"),
        ("active", DEADLINE + timedelta(days=31), "lapsed"),
    ],
)
def test_renewal_refused_with_a_reason(status, now, message):
    with pytest.raises(Conflict, match=message):
        cycles.check_can_renew(state(status), now)


def test_renewal_allowed_in_grace():
    cycles.check_can_renew(state("grace"), DEADLINE + timedelta(days=3))


@pytest.mark.parametrize("days", [0, -1, 3651])
def test_extension_days_are_bounded(days):
    with pytest.raises(ValidationError) as info:
        cycles.check_can_extend(state(), days)
    assert info.value.field == "days"


def test_a_renewed_cycle_cannot_be_extended():
    with pytest.raises(Conflict):
        cycles.check_can_extend(state("renewed"), 10)


@pytest.mark.parametrize(
    ("days_before", "sent", "expected"),
    [
        (120, (), None),
        (90, (), "90d:2028-01-01"),
        (60, ("90d:2028-01-01",), None),
        (30, ("90d:2028-01-01",), "30d:2028-01-01"),
        (20, (), "30d:2028-01-01"),  # missed the 90-day one: only the most urgent
        (7, ("90d:2028-01-01", "30d:2028-01-01"), "7d:2028-01-01"),
        (3, ("7d:2028-01-01",), None),
        (20, ("7d:2028-01-01",), None),  # a more urgent one already went
        (0, (), "grace-30d:2028-01-31"),  # deadline reached: grace has its own reminders
    ],
)
def test_reminders_go_90_30_7_days_before_once_each(days_before, sent, expected):
    now = DEADLINE - timedelta(days=days_before)
    due = cycles.reminder_due(state(), now, sent)
    assert (due.key if due else None) == expected


def test_a_moved_deadline_starts_its_own_reminders():
    moved = state(extensions=(60,))
    now = DEADLINE + timedelta(days=60) - timedelta(days=25)
    due = cycles.reminder_due(moved, now, ("30d:2028-01-01", "7d:2028-01-01"))
    assert due.key == "30d:2028-03-01"


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (DEADLINE - timedelta(days=10), 10),
        (DEADLINE - timedelta(days=9, hours=1), 10),
        (DEADLINE, 0),
        (DEADLINE + timedelta(days=2), -2),
    ],
)
def test_days_left(now, expected):
    assert cycles.days_left(state(), now) == expected


def test_ledger_window_follows_the_effective_deadline_and_hiatus():
    periods = (Period(day(100), day(130)),)
    w = cycles.window(state(extensions=(10,), hiatus=periods), day(400))
    assert w.start == START
    assert w.deadline == DEADLINE + timedelta(days=40)
    assert w.hiatus == periods


ORDER = {"active": 0, "grace": 1, "lapsed": 2}
days_st = st.integers(min_value=0, max_value=2000)


@given(
    extensions=st.lists(st.integers(min_value=1, max_value=400), max_size=4),
    hiatus=st.lists(st.tuples(days_st, st.integers(0, 300)), max_size=3),
    extra=st.integers(min_value=1, max_value=400),
    t1=days_st,
    t2=days_st,
)
def test_more_extension_never_brings_the_deadline_closer_and_time_only_moves_forward(
    extensions, hiatus, extra, t1, t2
):
    periods = [Period(day(s), day(s + n)) for s, n in hiatus]
    base = state(extensions=extensions, hiatus=periods)
    more = state(extensions=[*extensions, extra], hiatus=periods)
    now = day(min(t1, t2))
    later = day(max(t1, t2)) + timedelta(days=1100)
    assert cycles.effective_deadline(base, now) >= DEADLINE
    assert cycles.effective_deadline(more, now) == cycles.effective_deadline(base, now) + timedelta(
        days=extra
    )
    assert ORDER[cycles.status_at(base, now)] <= ORDER[cycles.status_at(base, later)]
    assert ORDER[cycles.status_at(more, later)] <= ORDER[cycles.status_at(base, later)]
