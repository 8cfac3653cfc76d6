"""Certification cycles: status, deadlines, pauses and reminders (pure).

A cycle runs from ``starts_at`` to its *effective deadline*:

    effective deadline = base deadline + every extension + paused hiatus time

A hiatus still open at ``now`` pauses the clock up to ``now``, so an inactive
cycle never reaches its deadline while it is inactive.  After the deadline
comes the policy's grace period, then the cycle lapses.  The status that time
alone implies is :func:`status_at`; a daily job compares it with the stored
status and records the :class:`Transition` (with its reason) when they differ,
so running the job twice changes nothing the second time.

Statuses:

* ``active``   — credit is being earned; the deadline lies ahead.
* ``inactive`` — on hiatus: the clock is paused (staff or an approved request).
* ``grace``    — past the deadline, within the grace period: renewal still possible.
* ``lapsed``   — past the grace period; an extension that moves the deadline
  beyond ``now`` reinstates it.
* ``renewed``  — the renewal credential was issued; final.

Every function takes ``now``; nothing reads a clock.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from badger.domain.errors import Conflict, ValidationError
from badger.domain.ledger import CycleWindow, Period

ACTIVE, INACTIVE, GRACE, LAPSED, RENEWED = "active", "inactive", "grace", "lapsed", "renewed"
STATUSES = (ACTIVE, INACTIVE, GRACE, LAPSED, RENEWED)
OPEN = (ACTIVE, INACTIVE, GRACE)
REMINDER_DAYS = (90, 30, 7)
# Days before the grace period ends; its start (grace_days before the end) is one too.
GRACE_REMINDER_DAYS = (7,)
DEADLINE_REMINDER, GRACE_REMINDER = "deadline", "grace"
MAX_EXTENSION_DAYS = 3650
ON_SHORTFALL = ("suspend", "keep")


@dataclass(frozen=True, slots=True)
class Extension:
    days: int
    reason: str


@dataclass(frozen=True, slots=True)
class CycleState:
    """What the database knows about one cycle."""

    status: str
    starts_at: datetime
    base_deadline: datetime
    extensions: tuple[Extension, ...] = ()
    hiatus: tuple[Period, ...] = ()
    grace_days: int = 0

    @property
    def extension_days(self) -> int:
        return sum(e.days for e in self.extensions)

    def open_hiatus(self) -> Period | None:
        return next((p for p in self.hiatus if p.end is None), None)


@dataclass(frozen=True, slots=True)
class Transition:
    """A change of status, with a stable code and a sentence for people."""

    from_status: str
    to_status: str
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class Reminder:
    """A reminder due now; ``key`` is unique per kind, threshold and date.

    A ``deadline`` reminder comes ``days_before`` the effective deadline
    (``90d:2028-01-01``); a ``grace`` one ``days_before`` the end of the grace
    period, which ``deadline`` then holds (``grace-7d:2028-01-31``).
    """

    days_before: int
    deadline: datetime
    key: str
    kind: str = DEADLINE_REMINDER


@dataclass(frozen=True, slots=True)
class RenewalRules:
    """The cycle-related part of a renewal policy (schemas/renewal-policy.json)."""

    auto_renew: bool = False
    on_shortfall: str = "suspend"  # suspend | keep
    grace_days: int = 0


# ---------------------------------------------------------------- time


def paused(state: CycleState, now: datetime) -> timedelta:
    """Hiatus time so far: closed periods in full, an open one up to ``now``."""
    total = timedelta(0)
    for period in state.hiatus:
        end = period.end if period.end is not None else max(now, period.start)
        total += max(timedelta(0), end - period.start)
    return total


def effective_deadline(state: CycleState, now: datetime) -> datetime:
    return state.base_deadline + timedelta(days=state.extension_days) + paused(state, now)


def grace_end(state: CycleState, now: datetime) -> datetime:
    return effective_deadline(state, now) + timedelta(days=state.grace_days)


def days_until(moment: datetime, now: datetime) -> int:
    """Whole days until ``moment`` (0 on the day, negative once past)."""
    seconds = (moment - now).total_seconds()
    return math.ceil(seconds / 86400) if seconds > 0 else math.floor(seconds / 86400)


def days_left(state: CycleState, now: datetime) -> int:
    """Whole days until the effective deadline (0 on the day, negative once past)."""
    return days_until(effective_deadline(state, now), now)


def window(state: CycleState, now: datetime) -> CycleWindow:
    """Where credit counts for the ledger: start → effective deadline, minus hiatus."""
    return CycleWindow(state.starts_at, effective_deadline(state, now), state.hiatus)


# ---------------------------------------------------------------- status


def status_at(state: CycleState, now: datetime) -> str:
    """The status that time alone implies (renewed and inactive are kept as they are)."""
    if state.status in (RENEWED, INACTIVE):
        return state.status
    if now < effective_deadline(state, now):
        return ACTIVE
    if now < grace_end(state, now):
        return GRACE
    return LAPSED


def settle(state: CycleState, now: datetime) -> Transition | None:
    """The transition the daily job should record, or ``None`` when nothing changes."""
    target = status_at(state, now)
    if target == state.status:
        return None
    deadline = effective_deadline(state, now).date()
    if target == GRACE:
        return Transition(
            state.status,
            GRACE,
            "deadline_passed",
            f"the deadline ({deadline}) has passed; renewal is still possible until "
            f"{grace_end(state, now).date()} (grace period of {state.grace_days} days)",
        )
    if target == LAPSED:
        why = (
            f"the grace period ended on {grace_end(state, now).date()}"
            if state.grace_days
            else f"the deadline ({deadline}) passed without renewal"
        )
        return Transition(state.status, LAPSED, "lapsed", f"{why}; the certification lapsed")
    # Back to active: an extension moved the deadline past now.
    code = "reinstated" if state.status == LAPSED else "deadline_moved"
    return Transition(
        state.status, ACTIVE, code, f"the deadline moved to {deadline}; the cycle is active again"
    )


def check_can_extend(state: CycleState, days: int) -> None:
    if state.status == RENEWED:
        raise Conflict("this cycle is already renewed; extend the open cycle instead")
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise ValidationError("days", f"between 1 and {MAX_EXTENSION_DAYS}")


def start_hiatus(state: CycleState, now: datetime) -> Transition:
    """Pause the clock; allowed while active or in grace."""
    if state.status == INACTIVE:
        raise Conflict("the cycle is already on hiatus")
    if state.status not in (ACTIVE, GRACE):
        raise Conflict(f"a {state.status} cycle cannot go on hiatus")
    return Transition(
        state.status,
        INACTIVE,
        "hiatus_started",
        f"inactive from {now.date()}: the cycle clock is paused",
    )


def end_hiatus(state: CycleState, now: datetime) -> Transition:
    """Reactivate: the clock runs again; the deadline moved by the time paused."""
    period = state.open_hiatus()
    if state.status != INACTIVE or period is None:
        raise Conflict("the cycle is not on hiatus")
    closed = CycleState(
        ACTIVE,
        state.starts_at,
        state.base_deadline,
        state.extensions,
        tuple(Period(p.start, now) if p is period else p for p in state.hiatus),
        state.grace_days,
    )
    target = status_at(closed, now)
    pause = max(timedelta(0), now - period.start)
    return Transition(
        INACTIVE,
        target,
        "reactivated",
        f"reactivated after {pause.days} days on hiatus; the deadline is now "
        f"{effective_deadline(closed, now).date()}",
    )


def check_can_renew(state: CycleState, now: datetime) -> None:
    """Renewal is possible while the cycle is active or in grace."""
    current = status_at(state, now)
    if current == RENEWED:
        raise Conflict("this cycle is already renewed")
    if current == INACTIVE:
        raise Conflict("the cycle is on hiatus; reactivate it before renewing")
    if current == LAPSED:
        raise Conflict(
            "the cycle lapsed; staff can reinstate it with an extension before it is renewed"
        )


# ---------------------------------------------------------------- reminders


def reminder_due(
    state: CycleState,
    now: datetime,
    sent: Iterable[str],
    days: Iterable[int] = REMINDER_DAYS,
    grace_days: Iterable[int] = GRACE_REMINDER_DAYS,
) -> Reminder | None:
    """The reminder to send now, if any: the most urgent threshold passed, once.

    An active cycle is reminded ``days`` before its effective deadline; a
    cycle in grace when the grace period starts and ``grace_days`` before it
    ends.  A date that moves (extension, hiatus) starts its own reminders; a
    job that missed days sends the most urgent one only.  Cycles on hiatus,
    lapsed or renewed get none.
    """
    current = status_at(state, now)
    if current == ACTIVE:
        return _due(DEADLINE_REMINDER, "", effective_deadline(state, now), now, sent, days)
    if current == GRACE:
        thresholds = {state.grace_days, *(d for d in grace_days if d < state.grace_days)}
        return _due(GRACE_REMINDER, "grace-", grace_end(state, now), now, sent, thresholds)
    return None


def _due(
    kind: str,
    prefix: str,
    target: datetime,
    now: datetime,
    sent: Iterable[str],
    days: Iterable[int],
) -> Reminder | None:
    passed = [d for d in days if now >= target - timedelta(days=d)]
    if not passed:
        return None
    nearest = min(passed)
    date = target.date().isoformat()
    same_date = re.compile(rf"{re.escape(prefix)}(\d+)d:{re.escape(date)}")
    # Once a more urgent reminder went for this date, the earlier ones are moot.
    for key in sent:
        match = same_date.fullmatch(key)
        if match is not None and int(match.group(1)) <= nearest:
            return None
    return Reminder(nearest, target, f"{prefix}{nearest}d:{date}", kind)
