"""Requirement rules: when has a learner earned an achievement?

Pure and composable (STYLE habits 7 and 8).  A rule looks at the *facts* known
about one learner (awards held, evidence approved, completion events,
approved activity submissions) at a moment ``now`` and returns an
:class:`Outcome` that explains itself: met or not, a stable code, a sentence,
and the ids of the facts that satisfied it (recorded with the award).

Combinators fail closed: an empty ``all_of``/``any_of`` is a validation error,
never "met"; ``at_least`` checks ``n`` against the number of rules.

Rules are stored as JSON (``schemas/rules.json``) and parsed with
:func:`parse_rule`, whose errors name the JSON path of the bad part.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from badger.domain.errors import ValidationError

# ---------------------------------------------------------------- facts


@dataclass(frozen=True, slots=True)
class HeldAward:
    """An award the learner holds (active, not revoked)."""

    achievement: str
    awarded_at: datetime
    award_id: str


@dataclass(frozen=True, slots=True)
class ApprovedEvidence:
    """Evidence a reviewer approved for an achievement."""

    achievement: str
    approved_at: datetime
    submission_id: str


@dataclass(frozen=True, slots=True)
class CompletionEvent:
    """Something that happened elsewhere (LMS, webinar platform, CSV import)."""

    kind: str
    occurred_at: datetime
    event_id: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ApprovedActivity:
    """An activity submission staff approved, worth credits."""

    activity_id: str
    approved_at: datetime
    credits: Decimal
    category: str | None = None


@dataclass(frozen=True, slots=True)
class Facts:
    awards: tuple[HeldAward, ...] = ()
    evidence: tuple[ApprovedEvidence, ...] = ()
    events: tuple[CompletionEvent, ...] = ()
    activities: tuple[ApprovedActivity, ...] = ()


# ---------------------------------------------------------------- outcomes


# What the reason of an outcome about an achievement says before its slug.
_ABOUT_PREFIX = {
    "earned": "holds ",
    "not_earned": "does not yet hold ",
    "evidence_approved": "evidence for ",
    "evidence_missing": "no approved evidence for ",
}


def named_reason(code: str, reason: str, about: str | None, names: Mapping[str, str]) -> str:
    """``reason`` with the slug it names (``about``) replaced by ``names[about]``."""
    prefix = _ABOUT_PREFIX.get(code)
    if prefix is None or about is None or about not in names:
        return reason
    if not reason.startswith(prefix + about):
        return reason
    return prefix + names[about] + reason[len(prefix) + len(about) :]


@dataclass(frozen=True, slots=True)
class Outcome:
    """The answer of one rule; ``inputs`` name the facts that satisfied it."""

    met: bool
    code: str
    reason: str
    inputs: tuple[str, ...] = ()
    children: tuple[Outcome, ...] = ()
    # The achievement (slug) an earned / evidence rule is about, named in
    # ``reason``: a page can put the achievement's name in its place.
    about: str | None = None

    def __bool__(self) -> bool:  # pragma: no cover - guard against `if outcome:`
        raise TypeError("Outcome is not a bool; read .met and .reason")

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"met": self.met, "code": self.code, "reason": self.reason}
        if self.inputs:
            out["inputs"] = list(self.inputs)
        if self.children:
            out["children"] = [c.as_json() for c in self.children]
        if self.about is not None:
            out["about"] = self.about
        return out

    def named(self, names: Mapping[str, str]) -> Outcome:
        """The same outcome with each achievement it is ``about`` called by its
        name in ``names`` (slug → name) instead of its slug, for people."""
        reason = named_reason(self.code, self.reason, self.about, names)
        children = tuple(child.named(names) for child in self.children)
        return replace(self, reason=reason, children=children)

    def abouts(self) -> set[str]:
        """The achievements (slugs) this outcome and its parts are about."""
        found = {self.about} if self.about is not None else set()
        for child in self.children:
            found |= child.abouts()
        return found

    def lines(self, depth: int = 0) -> list[str]:
        """The outcome as indented human lines (CLI, audit log)."""
        mark = "✓" if self.met else "✗"
        out = [f"{'  ' * depth}{mark} {self.reason}"]
        for child in self.children:
            out.extend(child.lines(depth + 1))
        return out


@dataclass(frozen=True, slots=True)
class Dependencies:
    """What a rule looks at: used to re-evaluate only rules an input can affect."""

    achievements: frozenset[str] = frozenset()
    evidence_for: frozenset[str] = frozenset()
    event_kinds: frozenset[str] = frozenset()
    activities: bool = False

    def __or__(self, other: Dependencies) -> Dependencies:
        return Dependencies(
            self.achievements | other.achievements,
            self.evidence_for | other.evidence_for,
            self.event_kinds | other.event_kinds,
            self.activities or other.activities,
        )


class Rule(Protocol):
    def evaluate(self, facts: Facts, now: datetime) -> Outcome: ...

    def dependencies(self) -> Dependencies: ...

    def to_json(self) -> dict[str, Any]: ...


# ---------------------------------------------------------------- time windows


@dataclass(frozen=True, slots=True)
class Window:
    """When a fact counts: within the last N days of ``now``, and/or between dates."""

    within_days: int | None = None
    after: datetime | None = None
    before: datetime | None = None

    def contains(self, moment: datetime, now: datetime) -> bool:
        if moment > now:
            return False
        if self.within_days is not None and moment < now - timedelta(days=self.within_days):
            return False
        if self.after is not None and moment < self.after:
            return False
        return not (self.before is not None and moment >= self.before)

    def describe(self) -> str:
        parts = []
        if self.within_days is not None:
            parts.append(f"within the last {self.within_days} days")
        if self.after is not None:
            parts.append(f"on or after {self.after.date().isoformat()}")
        if self.before is not None:
            parts.append(f"before {self.before.date().isoformat()}")
        return " and ".join(parts)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.within_days is not None:
            out["within_days"] = self.within_days
        if self.after is not None:
            out["after"] = self.after.isoformat()
        if self.before is not None:
            out["before"] = self.before.isoformat()
        return out


def _counts(window: Window | None, moment: datetime, now: datetime) -> bool:
    """A fact counts when it is not in the future and lies in the window, if any."""
    return moment <= now and (window is None or window.contains(moment, now))


def _suffix(window: Window | None) -> str:
    return f" {window.describe()}" if window else ""


# ---------------------------------------------------------------- leaf rules


@dataclass(frozen=True, slots=True)
class Earned:
    """The learner holds an award of ``achievement`` (prerequisites, stacking)."""

    achievement: str
    window: Window | None = None

    def evaluate(self, facts: Facts, now: datetime) -> Outcome:
        for award in facts.awards:
            if award.achievement == self.achievement and _counts(
                self.window, award.awarded_at, now
            ):
                return Outcome(
                    True,
                    "earned",
                    f"holds {self.achievement}{_suffix(self.window)}",
                    (f"award:{award.award_id}",),
                    about=self.achievement,
                )
        return Outcome(
            False,
            "not_earned",
            f"does not yet hold {self.achievement}{_suffix(self.window)}",
            about=self.achievement,
        )

    def dependencies(self) -> Dependencies:
        return Dependencies(achievements=frozenset({self.achievement}))

    def to_json(self) -> dict[str, Any]:
        return _with_window({"earned": self.achievement}, self.window)


@dataclass(frozen=True, slots=True)
class EvidenceApproved:
    """A reviewer approved evidence submitted for ``achievement``."""

    achievement: str
    window: Window | None = None

    def evaluate(self, facts: Facts, now: datetime) -> Outcome:
        for item in facts.evidence:
            if item.achievement == self.achievement and _counts(self.window, item.approved_at, now):
                return Outcome(
                    True,
                    "evidence_approved",
                    f"evidence for {self.achievement} approved{_suffix(self.window)}",
                    (f"evidence:{item.submission_id}",),
                    about=self.achievement,
                )
        return Outcome(
            False,
            "evidence_missing",
            f"no approved evidence for {self.achievement}{_suffix(self.window)}",
            about=self.achievement,
        )

    def dependencies(self) -> Dependencies:
        return Dependencies(evidence_for=frozenset({self.achievement}))

    def to_json(self) -> dict[str, Any]:
        return _with_window({"evidence_approved": self.achievement}, self.window)


_OPERATORS: dict[str, tuple[str, Callable[[Any, Any], bool]]] = {
    "eq": ("=", operator.eq),
    "ne": ("≠", operator.ne),
    "gte": ("≥", operator.ge),
    "gt": (">", operator.gt),
    "lte": ("≤", operator.le),
    "lt": ("<", operator.lt),
    "in": ("one of", lambda a, b: a in b),
}
_NUMERIC = {"gte", "gt", "lte", "lt"}


def _as_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


@dataclass(frozen=True, slots=True)
class Condition:
    """A test on one field of an event's data, e.g. ``score gte 80``."""

    field: str
    op: str
    value: Any

    def holds(self, data: Mapping[str, Any]) -> bool:
        actual: Any = data
        for part in self.field.split("."):
            if not isinstance(actual, Mapping) or part not in actual:
                return False
            actual = actual[part]
        if self.op in _NUMERIC:
            left, right = _as_decimal(actual), _as_decimal(self.value)
            return left is not None and right is not None and _OPERATORS[self.op][1](left, right)
        if self.op == "in":
            return actual in self.value
        return _OPERATORS[self.op][1](actual, self.value)

    def describe(self) -> str:
        return f"{self.field} {_OPERATORS[self.op][0]} {self.value!r}"

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "op": self.op, "value": self.value}


@dataclass(frozen=True, slots=True)
class EventCount:
    """At least ``count`` events of ``kind`` whose data meets every condition."""

    kind: str
    conditions: tuple[Condition, ...] = ()
    count: int = 1
    window: Window | None = None

    def evaluate(self, facts: Facts, now: datetime) -> Outcome:
        matching = [
            e
            for e in facts.events
            if e.kind == self.kind
            and _counts(self.window, e.occurred_at, now)
            and all(c.holds(e.data) for c in self.conditions)
        ]
        matching.sort(key=lambda e: (e.occurred_at, e.event_id))
        what = self.kind + (
            f" with {' and '.join(c.describe() for c in self.conditions)}"
            if self.conditions
            else ""
        )
        need = f"{self.count} x {what}" if self.count > 1 else what
        if len(matching) >= self.count:
            used = matching[: self.count]
            return Outcome(
                True,
                "event_matched",
                f"{need}{_suffix(self.window)}: {len(matching)} found",
                tuple(f"event:{e.event_id}" for e in used),
            )
        return Outcome(
            False,
            "event_missing",
            f"{need}{_suffix(self.window)}: {len(matching)} of {self.count} so far",
        )

    def dependencies(self) -> Dependencies:
        return Dependencies(event_kinds=frozenset({self.kind}))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"event": self.kind}
        if self.conditions:
            out["where"] = [c.to_json() for c in self.conditions]
        if self.count != 1:
            out["count"] = self.count
        return _with_window(out, self.window)


@dataclass(frozen=True, slots=True)
class ActivityCredits:
    """Approved activity submissions worth at least ``credits`` (optionally in a category)."""

    credits: Decimal
    category: str | None = None
    window: Window | None = None

    def evaluate(self, facts: Facts, now: datetime) -> Outcome:
        chosen = [
            a
            for a in facts.activities
            if (self.category is None or a.category == self.category)
            and _counts(self.window, a.approved_at, now)
        ]
        total = sum((a.credits for a in chosen), Decimal(0))
        scope = f" in {self.category}" if self.category else ""
        if total >= self.credits:
            return Outcome(
                True,
                "credits_met",
                f"{total} of {self.credits} credits{scope} from approved activities{_suffix(self.window)}",
                tuple(f"activity:{a.activity_id}" for a in chosen),
            )
        return Outcome(
            False,
            "credits_short",
            f"{total} of {self.credits} credits{scope} from approved activities{_suffix(self.window)}",
        )

    def dependencies(self) -> Dependencies:
        return Dependencies(activities=True)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"activity_credits": float(self.credits)}
        if self.category:
            out["category"] = self.category
        return _with_window(out, self.window)


def _with_window(data: dict[str, Any], window: Window | None) -> dict[str, Any]:
    if window is not None:
        data.update(window.to_json())
    return data


# ---------------------------------------------------------------- combinators


@dataclass(frozen=True, slots=True)
class AtLeast:
    """At least ``n`` of ``rules`` are met.  ``all_of`` is n = len, ``any_of`` n = 1."""

    n: int
    rules: tuple[Rule, ...]
    label: str = "at_least"

    def __post_init__(self) -> None:
        if not self.rules:
            raise ValidationError(
                self.label, "needs at least one rule (an empty group is never met)"
            )
        if not 1 <= self.n <= len(self.rules):
            raise ValidationError(
                self.label, f"n must be between 1 and {len(self.rules)}, got {self.n}"
            )

    def evaluate(self, facts: Facts, now: datetime) -> Outcome:
        children = tuple(rule.evaluate(facts, now) for rule in self.rules)
        met = [c for c in children if c.met]
        total = len(self.rules)
        if self.n == total:
            head = f"all {total} of" if total > 1 else "the requirement"
        elif self.n == 1:
            head = f"any 1 of {total}" if total > 1 else "the requirement"
        else:
            head = f"at least {self.n} of {total}"
        reason = f"{head}: {len(met)} met"
        if len(met) >= self.n:
            inputs = tuple(dict.fromkeys(i for c in met[: self.n] for i in c.inputs))
            return Outcome(True, "group_met", reason, inputs, children)
        return Outcome(False, "group_unmet", reason, (), children)

    def dependencies(self) -> Dependencies:
        deps = Dependencies()
        for rule in self.rules:
            deps = deps | rule.dependencies()
        return deps

    def to_json(self) -> dict[str, Any]:
        rules = [r.to_json() for r in self.rules]
        if self.label == "all_of":
            return {"all_of": rules}
        if self.label == "any_of":
            return {"any_of": rules}
        return {"at_least": self.n, "of": rules}


def all_of(rules: Iterable[Rule]) -> AtLeast:
    items = tuple(rules)
    return AtLeast(len(items), items, "all_of") if items else AtLeast(1, (), "all_of")


def any_of(rules: Iterable[Rule]) -> AtLeast:
    return AtLeast(1, tuple(rules), "any_of")


# ---------------------------------------------------------------- parsing


def _datetime(value: Any, path: str) -> datetime:
    if not isinstance(value, str):
        raise ValidationError(path, "must be an ISO 8601 date-time string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(path, f"{value!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise ValidationError(path, "needs a time zone (e.g. 2026-12-31T00:00:00Z)")
    return moment


def _window(data: Mapping[str, Any], path: str) -> Window | None:
    within = data.get("within_days")
    after = data.get("after")
    before = data.get("before")
    if within is None and after is None and before is None:
        return None
    if within is not None and (
        isinstance(within, bool) or not isinstance(within, int) or within < 1
    ):
        raise ValidationError(f"{path}.within_days", "must be a whole number of days ≥ 1")
    window = Window(
        within_days=within,
        after=_datetime(after, f"{path}.after") if after is not None else None,
        before=_datetime(before, f"{path}.before") if before is not None else None,
    )
    if window.after and window.before and window.after >= window.before:
        raise ValidationError(f"{path}.before", "must be later than after")
    return window


def _text(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(path, "must be a non-empty string")
    return value.strip()


_KEYS = ("all_of", "any_of", "at_least", "earned", "evidence_approved", "event", "activity_credits")
_WINDOW_KEYS = {"within_days", "after", "before"}


def parse_rule(data: Any, path: str = "rules") -> Rule:
    """Build a rule from its JSON form; errors name the path of the bad part."""
    if not isinstance(data, Mapping):
        raise ValidationError(path, "must be an object")
    kinds = [k for k in _KEYS if k in data]
    if len(kinds) != 1:
        raise ValidationError(path, f"needs exactly one of {', '.join(_KEYS)}")
    kind = kinds[0]
    allowed = {kind, *_WINDOW_KEYS}
    if kind == "at_least":
        allowed = {"at_least", "of"}
    elif kind == "event":
        allowed |= {"where", "count"}
    elif kind == "activity_credits":
        allowed |= {"category"}
    elif kind in {"all_of", "any_of"}:
        allowed = {kind}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError(f"{path}.{unknown[0]}", f"is not allowed with {kind}")

    if kind in {"all_of", "any_of", "at_least"}:
        items_key = "of" if kind == "at_least" else kind
        items = data.get(items_key)
        if not isinstance(items, list):
            raise ValidationError(f"{path}.{items_key}", "must be a list of rules")
        rules = tuple(parse_rule(item, f"{path}.{items_key}[{i}]") for i, item in enumerate(items))
        if kind == "at_least":
            n = data["at_least"]
            if isinstance(n, bool) or not isinstance(n, int):
                raise ValidationError(f"{path}.at_least", "must be a whole number")
            return AtLeast(n, rules, f"{path}.at_least")
        if not rules:
            raise ValidationError(
                f"{path}.{kind}", "needs at least one rule (an empty group is never met)"
            )
        return AtLeast(len(rules) if kind == "all_of" else 1, rules, kind)
    window = _window(data, path)
    if kind == "earned":
        return Earned(_text(data["earned"], f"{path}.earned"), window)
    if kind == "evidence_approved":
        return EvidenceApproved(
            _text(data["evidence_approved"], f"{path}.evidence_approved"), window
        )
    if kind == "event":
        conditions = []
        where = data.get("where", [])
        if not isinstance(where, list):
            raise ValidationError(f"{path}.where", "must be a list of conditions")
        for i, cond in enumerate(where):
            conditions.append(_condition(cond, f"{path}.where[{i}]"))
        count = data.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValidationError(f"{path}.count", "must be a whole number ≥ 1")
        return EventCount(_text(data["event"], f"{path}.event"), tuple(conditions), count, window)
    credits = _as_decimal(data["activity_credits"])
    if credits is None or credits <= 0:
        raise ValidationError(f"{path}.activity_credits", "must be a positive number")
    category = data.get("category")
    if category is not None:
        category = _text(category, f"{path}.category")
    return ActivityCredits(credits, category, window)


def _condition(data: Any, path: str) -> Condition:
    if not isinstance(data, Mapping) or set(data) - {"field", "op", "value"}:
        raise ValidationError(path, "a condition is {field, op, value}")
    field_name = _text(data.get("field"), f"{path}.field")
    op = data.get("op")
    if op not in _OPERATORS:
        raise ValidationError(f"{path}.op", f"one of {', '.join(_OPERATORS)}")
    if "value" not in data:
        raise ValidationError(f"{path}.value", "is required")
    value = data["value"]
    if op in _NUMERIC and _as_decimal(value) is None:
        raise ValidationError(f"{path}.value", f"must be a number for {op}")
    if op == "in" and not isinstance(value, list):
        raise ValidationError(f"{path}.value", "must be a list for in")
    return Condition(field_name, op, value)
