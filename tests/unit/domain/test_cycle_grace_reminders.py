"""Reminders during the grace period: when it starts and 7 days before it ends, once each."""

from datetime import UTC, datetime, timedelta

import pytest

from badger.domain import cycles
from badger.domain.cycles import CycleState, Extension
from badger.domain.ledger import Period

START = datetime(2025, 1, 1, tzinfo=UTC)
DEADLINE = datetime(2028, 1, 1, tzinfo=UTC)
GRACE_END = DEADLINE + timedelta(days=30)


def state(status="grace", grace_days=30, extensions=(), hiatus=()):
    return CycleState(
        status,
        START,
        DEADLINE,
        tuple(Extension(d, "hard times") for d in extensions),
        tuple(hiatus),
        grace_days,
    )


def test_the_grace_period_start_is_reminded_with_the_grace_end():
    due = cycles.reminder_due(state(), DEADLINE + timedelta(hours=3), ())
    assert due == cycles.Reminder(30, GRACE_END, "grace-30d:2028-01-31", cycles.GRACE_REMINDER)


@pytest.mark.parametrize(
    ("days_into_grace", "sent", "expected"),
    [
        (0, (), "grace-30d:2028-01-31"),
        (1, ("grace-30d:2028-01-31",), None),
        (22, ("grace-30d:2028-01-31",), None),  # 8 days left: not yet
        (23, ("grace-30d:2028-01-31",), "grace-7d:2028-01-31"),
        (25, ("grace-30d:2028-01-31", "grace-7d:2028-01-31"), None),
        (25, (), "grace-7d:2028-01-31"),  # a job that missed the start sends the urgent one only
        (29, ("grace-7d:2028-01-31",), None),  # the start is moot once 7d went
        (30, (), None),  # grace over: lapsed, no reminder
    ],
)
def test_grace_reminders_go_at_the_start_and_7_days_before_the_end_once_each(
    days_into_grace, sent, expected
):
    due = cycles.reminder_due(state(), DEADLINE + timedelta(days=days_into_grace), sent)
    assert (due.key if due else None) == expected


def test_deadline_reminders_already_sent_do_not_silence_grace_reminders():
    sent = ("90d:2028-01-01", "30d:2028-01-01", "7d:2028-01-01")
    due = cycles.reminder_due(state(), DEADLINE + timedelta(days=1), sent)
    assert due.key == "grace-30d:2028-01-31"


def test_grace_reminders_do_not_silence_the_deadline_reminders_of_a_moved_deadline():
    # An extension granted in grace makes the cycle active again: new deadline, new reminders.
    moved = state("active", extensions=(10,))
    now = DEADLINE + timedelta(days=5)
    due = cycles.reminder_due(moved, now, ("grace-30d:2028-01-31",))
    assert (due.kind, due.key) == (cycles.DEADLINE_REMINDER, "7d:2028-01-11")


def test_a_grace_period_of_a_few_days_sends_one_reminder():
    short = state(grace_days=5)
    first = cycles.reminder_due(short, DEADLINE, ())
    assert first.key == "grace-5d:2028-01-06"
    assert cycles.reminder_due(short, DEADLINE + timedelta(days=3), (first.key,)) is None


def test_no_grace_period_means_no_grace_reminders():
    assert cycles.reminder_due(state(grace_days=0), DEADLINE + timedelta(hours=1), ()) is None


def test_a_cycle_on_hiatus_in_grace_gets_no_reminder():
    paused = state("inactive", hiatus=[Period(DEADLINE + timedelta(days=2), None)])
    assert cycles.reminder_due(paused, DEADLINE + timedelta(days=28), ()) is None


def test_days_until_counts_whole_days_either_side():
    assert cycles.days_until(GRACE_END, GRACE_END - timedelta(days=6, hours=1)) == 7
    assert cycles.days_until(GRACE_END, GRACE_END) == 0
    assert cycles.days_until(GRACE_END, GRACE_END + timedelta(days=1, hours=1)) == -2
