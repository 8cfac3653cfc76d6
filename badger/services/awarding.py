"""The awarding engine: record what happened, award what is now earned, exactly once.

Event-driven: a completion event, an approved submission or a new award
re-evaluates only the achievements whose rules depend on it (a
:class:`RuleIndex` maps event kinds, achievement slugs and evidence to the
rules that read them), and awards cascade: a new badge can complete a stack.

Exactly once: the database allows one award per (learner, achievement,
cycle).  On PostgreSQL each automatic award runs in a SAVEPOINT; when a
concurrent worker got there first the unique constraint refuses ours, the
savepoint rolls back and the award counts as already held — nothing
half-issued, nothing twice.  On SQLite the unit of work is the only writer
from its first statement (BEGIN IMMEDIATE), so what it read as not held stays
not held and the savepoint would only cost time (``uow.concurrent_writers``).

Latency: an evaluation loads only the facts the affected rules read (the
awards always, to know what is held; events of the kinds they count;
submissions only for evidence and activity rules), in one query per kind.
"""

from __future__ import annotations

import gc
import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Integer,
    bindparam,
    case,
    func,
    literal_column,
    null,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.attributes import set_committed_value

from badger.domain.errors import Conflict, NotFound, ValidationError
from badger.domain.moments import parse_moment
from badger.domain.recipients import parse_identifier
from badger.domain.requirements import (
    ApprovedActivity,
    ApprovedEvidence,
    AtLeast,
    CompletionEvent,
    Dependencies,
    Facts,
    HeldAward,
    Outcome,
    Rule,
    parse_rule,
)
from badger.services import audit, catalog, cycles
from badger.services.context import Context
from badger.services.issue import (
    IDENTIFIER_COLUMNS,
    LEARNER_WITH,
    LEARNER_WITH_WIDTH,
    NEW_IDENTIFIER_UNLESS_HELD,
    AlreadyHeld,
    IssuedAward,
    IssueRequest,
    add_award,
    adopt_first_sighting,
    first_sighting,
    known_from_rows,
    known_learner,
    learner_for,
    new_learner,
    seen_concurrently,
)
from badger.services.validation import validate
from badger.store.db import DatabaseError, UnitOfWork, detached_loaded, detached_row
from badger.store.models import (
    Achievement,
    Award,
    Issuer,
    Learner,
    LearnerIdentifier,
    Submission,
    new_public_id,
)
from badger.store.models import CompletionEvent as EventRow
from badger.store.prepared import Prepared

log = logging.getLogger(__name__)

MAX_CASCADE = 25
MAX_EVENT_BYTES = 64 * 1024


# ---------------------------------------------------------------- the rule index


@dataclass
class RuleIndex:
    """Which achievements' rules read which inputs; rebuilt when definitions change."""

    version: int = -1
    checked_at: float = field(default_factory=time.monotonic)
    generation: int = 0
    rules: dict[int, tuple[str, Rule]] = field(default_factory=dict)
    needs: dict[int, Dependencies] = field(default_factory=dict)
    by_event: dict[str, set[int]] = field(default_factory=dict)
    by_achievement: dict[str, set[int]] = field(default_factory=dict)
    by_evidence: dict[str, set[int]] = field(default_factory=dict)
    by_activity: set[int] = field(default_factory=set)
    # What an award reads of each achievement, read with the rules
    # (:data:`_INDEX_ROWS`), until its first award turns it into ``rows[id]``,
    # the row (issuer loaded) kept detached (``achievement_row``).  Both
    # are valid as long as the index is.
    sources: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    rows: dict[int, Achievement] = field(default_factory=dict)
    # Issuers (few) of the achievements awarded, kept detached the same way.
    issuers: dict[int, Issuer] = field(default_factory=dict)

    def add(self, achievement_id: int, slug: str, rule: Rule) -> None:
        self.rules[achievement_id] = (slug, rule)
        deps = rule.dependencies()
        self.needs[achievement_id] = deps
        for kind in deps.event_kinds:
            self.by_event.setdefault(kind, set()).add(achievement_id)
        for dep in deps.achievements:
            self.by_achievement.setdefault(dep, set()).add(achievement_id)
        for dep in deps.evidence_for:
            self.by_evidence.setdefault(dep, set()).add(achievement_id)
        if deps.activities:
            self.by_activity.add(achievement_id)

    def needs_of(self, achievement_ids: set[int]) -> Dependencies:
        """What the rules of ``achievement_ids`` read, together."""
        needs = Dependencies()
        for achievement_id in achievement_ids:
            needs |= self.needs[achievement_id]
        return needs

    def affected(self, triggers: Dependencies) -> set[int]:
        found: set[int] = set()
        for kind in triggers.event_kinds:
            found |= self.by_event.get(kind, set())
        for slug in triggers.achievements:
            found |= self.by_achievement.get(slug, set())
        for slug in triggers.evidence_for:
            found |= self.by_evidence.get(slug, set())
        if triggers.activities:
            found |= self.by_activity
        return found


_index_lock = threading.Lock()


INDEX_RECHECK_SECONDS = 2.0


def rule_index(ctx: Context, uow: UnitOfWork) -> RuleIndex:
    """The cached index, rebuilt when any achievement changed (``catalog.catalog_version``).

    This process drops the cache itself whenever it defines an achievement; a
    change made by another process is noticed within INDEX_RECHECK_SECONDS
    (the version is one row read by its key, cheap but still a round trip).
    """
    cached = ctx.extras.get("rule_index")
    if (
        isinstance(cached, RuleIndex)
        and cached.generation == catalog.generation()
        and time.monotonic() - cached.checked_at < INDEX_RECHECK_SECONDS
    ):
        return cached
    version = catalog.catalog_version(uow)
    if (
        isinstance(cached, RuleIndex)
        and cached.version == version
        and cached.generation == catalog.generation()
    ):
        cached.checked_at = time.monotonic()
        return cached
    with _index_lock:
        index = RuleIndex(version=version, generation=catalog.generation())
        for found in uow.session.execute(_INDEX_ROWS):
            achievement_id, slug, rules = found[:3]
            if rules:
                index.add(achievement_id, slug, parse_rule(rules))
                index.sources[achievement_id] = tuple(found[3:])
        ctx.extras["rule_index"] = index
    return index


# What an award reads of every achievement with rules, read with them when
# the index is built (one query, instead of one per achievement at its first
# award in each process): every column but a picture longer than
# SMALL_IMAGE_CHARS.  An uploaded picture is a data URI of up to
# catalog.MAX_IMAGE_BYTES; kept for each of thousands of achievements, such
# pictures would hold gigabytes.  A row without it reads it when an award of
# it is rendered (``issue.award_images``, which keeps the pictures drawn).
# Each is kept as a tuple (a dict per achievement held three times the
# memory) without its rules, which the index holds parsed.
SMALL_IMAGE_CHARS = 2048
_KEPT = tuple(
    column
    for column in Achievement.__table__.c
    if column.key not in ("id", "slug", "rules", "image_uri")
)
_KEPT_KEYS = ("id", "slug", *(column.key for column in _KEPT))
_INDEX_ROWS = select(
    Achievement.id,
    Achievement.slug,
    Achievement.rules,
    *_KEPT,
    case(
        (func.length(Achievement.image_uri) <= SMALL_IMAGE_CHARS, Achievement.image_uri),
    ).label("small_image"),
    Achievement.image_uri.is_not(None).label("has_image"),
).where(Achievement.rules.is_not(None))
_ISSUER_ROW = Prepared(select(Issuer.__table__).where(Issuer.id == bindparam("issuer_id")))


def achievement_row(uow: UnitOfWork, index: RuleIndex, achievement_id: int) -> Achievement:
    """The achievement (with its issuer) an automatic award renders, read with the index.

    A copy that belongs to no session (a rollback of this transaction must
    not expire it; any thread may read it, none writes it), made at its
    first award from what the index read and kept with the index.  The
    issuer is read at the first award of any of its achievements and kept
    the same way.  The index is rebuilt when any achievement or issuer
    changes: in this process at once, in the others within
    INDEX_RECHECK_SECONDS, as for the rules themselves.
    """
    row = index.rows.get(achievement_id)
    if row is not None:
        return row
    kept = index.sources.get(achievement_id)
    if kept is None:  # another thread made the copy meanwhile (it is stored first)
        row = index.rows.get(achievement_id)
        if row is None:  # not an achievement with rules when the index was built
            raise NotFound(f"no achievement {achievement_id}")
        return row
    *columns, small_image, has_image = kept
    values = dict(
        zip(_KEPT_KEYS, (achievement_id, index.rules[achievement_id][0], *columns), strict=True)
    )
    if small_image is not None or not has_image:
        values["image_uri"] = small_image  # else read when an award is rendered
    issuer = index.issuers.get(values["issuer_id"])
    if issuer is None:
        loaded = uow.core(_ISSUER_ROW, {"issuer_id": values["issuer_id"]}).one()
        issuer = index.issuers[values["issuer_id"]] = detached_loaded(Issuer, loaded)
    row = detached_row(Achievement, values)
    set_committed_value(row, "issuer", issuer)
    index.rows[achievement_id] = row  # two threads may both make it: either copy will do
    index.sources.pop(achievement_id, None)
    return row


def warm_up(ctx: Context) -> None:
    """Prepare a serving process: build the rule index, then keep the GC off it.

    With thousands of achievements defined the index and the loaded modules
    are a large, long-lived heap; each full pass of Python's cyclic garbage
    collector over it paused an award by milliseconds.  ``gc.freeze`` moves
    everything alive now out of the collector's generations (reference
    counting still frees it); what requests allocate later is collected as
    usual.  The web workers call this once after start-up (``badger.wsgi``).
    """
    try:
        with ctx.uow() as uow:
            rule_index(ctx, uow)
    except (SQLAlchemyError, DatabaseError) as exc:
        # A database not yet initialised (or not reachable) must not stop the
        # worker: the index is then built by the first event, as without this.
        log.warning("rule index not built at start-up: %s", type(exc).__name__)
    gc.collect()
    gc.freeze()


# ---------------------------------------------------------------- facts


def learner_facts(uow: UnitOfWork, learner_id: int) -> Facts:
    """Everything a rule can read about a learner."""
    return _load_facts(uow, learner_id, None)[1]


@dataclass
class _Loaded:
    """What an evaluation's queries of facts read besides the facts."""

    open_cycle_ids: list[int] | None = None  # None: not read


# The statements every event runs, built once (building one costs more than
# SQLite takes to run it; the compiled form is cached by SQLAlchemy either way).
_HELD = select(
    Award.achievement_id,
    Achievement.slug,
    Award.issued_on,
    Award.public_id,
    Award.status,
    Award.cycle_key,
).join(Achievement, Award.achievement_id == Achievement.id)
_HELD_BY = Prepared(_HELD.where(Award.learner_id == bindparam("learner_id")))
_EVENTS = select(EventRow.kind, EventRow.occurred_at, EventRow.public_id, EventRow.data).where(
    EventRow.learner_id == bindparam("learner_id")
)
_OF_KINDS = EventRow.kind.in_(bindparam("kinds", expanding=True))
_ALL_EVENTS = Prepared(_EVENTS)
# What a rule on events reads, held badges and events of its kinds, in one
# statement (one round trip): each row is an award (fact 'a') or an event
# ('e'), NULL in the columns only the other kind has; with them the
# learner's open certification cycles ('c', the id first), which an award
# then checks for renewal (cycles.after_award): one round trip less.
_FACTS = (
    _HELD.add_columns(type_coerce(null(), JSON).label("data"))
    .add_columns(literal_column("'a'").label("fact"))
    .where(Award.learner_id == bindparam("learner_id")),
    select(
        null(),
        EventRow.kind,
        EventRow.occurred_at,
        EventRow.public_id,
        null(),
        null(),
        EventRow.data,
        literal_column("'e'"),
    ).where(EventRow.learner_id == bindparam("learner_id"), _OF_KINDS),
    cycles.OPEN_CYCLE_IDS.add_columns(
        null(), null(), null(), null(), null(), null(), literal_column("'c'")
    ),
)
_HELD_AND_EVENTS = Prepared(union_all(*_FACTS))
# PostgreSQL, an event from a learner seen before: the event's insert (a
# data-modifying CTE, ON CONFLICT on its idempotency key) and those facts in
# one statement, one round trip less.  The row of fact 'i' is the event's
# id, absent when the key was recorded before.  The facts are read as the
# statement began, so the event itself is not among them.  Its values are
# parameters named event_<column>, a name no table's column has (see
# status._AWARD_COLUMNS).
_EVENT_VALUES = tuple(
    c for c in EventRow.__table__.c if not c.primary_key and c.key != "learner_id"
)


def _event_insert(learner_id: Any, name: str) -> Any:
    """The event's insert, its learner ``learner_id``, as the data-modifying CTE ``name``.

    ``ON CONFLICT`` on its idempotency key does nothing; it returns its id.
    """
    return (
        pg_insert(EventRow.__table__)
        .from_select(
            ["learner_id", *(c.key for c in _EVENT_VALUES)],
            select(learner_id, *(bindparam(f"event_{c.key}", type_=c.type) for c in _EVENT_VALUES)),
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(EventRow.__table__.c.id)
        .cte(name)
    )


_NEW_EVENT = _event_insert(bindparam("event_learner_id", type_=Integer), "new_event")
_EVENT_AND_FACTS = Prepared(
    union_all(
        *_FACTS,
        # Last: a union's columns take their types from its first select.
        select(
            _NEW_EVENT.c.id, null(), null(), null(), null(), null(), null(), literal_column("'i'")
        ),
    )
)
# PostgreSQL, an event from a recipient: the learner holding the identifier
# (issue.LEARNER_WITH's rows, tagged 'k'), or else the learner made for it,
# its identifier (issue.NEW_IDENTIFIER_UNLESS_HELD, its parameters
# issue.first_sighting's) and the event, in one statement: one round trip
# for a learner first seen, whose lookup used to find nothing first.  The
# rows are LEARNER_WITH's columns (in a first sighting's row, tagged 'n',
# only the identifier's are set), the event's id (None: its key was
# recorded before) and the tag.  No row: the identifier was taken
# meanwhile, and the event was not inserted.  For a learner seen before
# nothing is inserted: the caller records the event.
_SIGHTED_IDENTIFIER = NEW_IDENTIFIER_UNLESS_HELD.cte("new_identifier")
_SIGHTED_EVENT = _event_insert(_SIGHTED_IDENTIFIER.c.learner_id, "first_event")
_LEARNER_OR_FIRST_SIGHTING = Prepared(
    union_all(
        # First: a union's columns take their types from its first select.
        LEARNER_WITH.add_columns(null(), literal_column("'k'")),
        select(
            *(null() for _ in range(IDENTIFIER_COLUMNS.start)),
            *_SIGHTED_IDENTIFIER.c,
            *(null() for _ in range(LEARNER_WITH_WIDTH - IDENTIFIER_COLUMNS.stop)),
            _SIGHTED_EVENT.c.id,
            literal_column("'n'"),
        ).select_from(_SIGHTED_IDENTIFIER.outerjoin(_SIGHTED_EVENT, true())),
    )
)
_IDENTIFIER_ID = IDENTIFIER_COLUMNS.start  # the identifier's id: its first column
_EVENT_BY_KEY = Prepared(
    select(EventRow.public_id).where(EventRow.idempotency_key == bindparam("key"))
)


def _load_facts(
    uow: UnitOfWork,
    learner_id: int,
    needs: Dependencies | None,
    loaded: _Loaded | None = None,
    rows: list[tuple[Any, ...]] | None = None,
) -> tuple[set[int], Facts]:
    """The achievements held in the default cycle, and the facts ``needs`` reads (all if None).

    A rule reads events of the kinds in its dependencies only, and
    submissions only when it depends on evidence or activities, so the facts
    left out cannot change its outcome.  ``loaded`` gets the learner's open
    certification cycles when the query of a rule on events read them.
    ``rows``: that query's rows, when the caller has them already.
    """
    session = uow.session
    held: set[int] = set()
    awards = []
    events: tuple[CompletionEvent, ...] = ()
    if needs is not None and needs.event_kinds:
        # The usual case (a rule on events): badges and events in one query.
        if rows is None:
            rows = uow.core(
                _HELD_AND_EVENTS, {"learner_id": learner_id, "kinds": sorted(needs.event_kinds)}
            ).all()
        held_rows = [row[:6] for row in rows if row[7] == "a"]
        if loaded is not None:
            loaded.open_cycle_ids = [row[0] for row in rows if row[7] == "c"]
        events = tuple(
            CompletionEvent(kind, occurred_at, public_id, data or {})
            for _, kind, occurred_at, public_id, _, _, data, fact in rows
            if fact == "e"
        )
    else:
        held_rows = uow.core(_HELD_BY, {"learner_id": learner_id}).all()
    for achievement_id, slug, issued_on, public_id, status, cycle_key in held_rows:
        if cycle_key == "":
            held.add(achievement_id)
        if status != "revoked":
            awards.append(HeldAward(slug, issued_on, public_id))
    evidence = []
    activities = []
    if needs is None or needs.evidence_for or needs.activities:
        for sub, slug in session.execute(
            select(Submission, Achievement.slug)
            .outerjoin(Achievement, Submission.achievement_id == Achievement.id)
            .where(Submission.learner_id == learner_id, Submission.status == "approved")
        ):
            reviewed = sub.reviewed_at or sub.updated_at
            if sub.kind == "evidence" and slug:
                evidence.append(ApprovedEvidence(slug, reviewed, sub.public_id))
            elif sub.kind == "activity" and sub.credits is not None:
                activities.append(
                    ApprovedActivity(sub.public_id, reviewed, sub.credits, sub.category)
                )
    if needs is None:
        events = tuple(
            CompletionEvent(kind, occurred_at, public_id, data or {})
            for kind, occurred_at, public_id, data in uow.core(
                _ALL_EVENTS, {"learner_id": learner_id}
            )
        )
    return held, Facts(tuple(awards), tuple(evidence), events, tuple(activities))


# ---------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Evaluation:
    awarded: tuple[IssuedAward, ...]
    outcomes: dict[str, Outcome]
    renewed: tuple[str, ...] = ()  # certification cycles the awards completed (auto-renew)


def evaluate(
    ctx: Context,
    uow: UnitOfWork,
    learner: Learner,
    triggers: Dependencies,
    *,
    actor: str,
    notify: bool = True,
    first_facts: Facts | None = None,
    first_rows: list[tuple[Any, ...]] | None = None,
    index: RuleIndex | None = None,
) -> Evaluation:
    """Award every achievement the triggers made earnable, cascading; in the caller's transaction.

    ``first_facts``: everything there is to know about the learner, when the
    caller knows it without asking the database (a learner first seen in
    this transaction has nothing but the event that introduced it); the
    first round then runs no query.  ``first_rows``: the first round's facts
    as :data:`_HELD_AND_EVENTS` returns them, read by the caller (with
    ``index``, the rule index it read them for).
    """
    if index is None:
        index = rule_index(ctx, uow)
    awarded: list[IssuedAward] = []
    outcomes: dict[str, Outcome] = {}
    pending = index.affected(triggers)
    recipient = (learner, _primary_identifier(learner))
    opened = _Loaded()  # the open cycles, when a query of facts read them
    for _ in range(MAX_CASCADE):
        if not pending:
            break
        needs = index.needs_of(pending)
        if first_facts is not None:
            held, facts, first_facts = set(), first_facts, None
        else:
            held, facts = _load_facts(uow, learner.id, needs, opened, first_rows)
            first_rows = None
        # Read the clock each round: awards made in the previous round carry
        # that round's time and must not look like future facts.
        now = ctx.now()
        new_slugs: set[str] = set()
        for achievement_id in sorted(pending - held):
            slug, rule = index.rules[achievement_id]
            outcome = rule.evaluate(facts, now)
            outcomes[slug] = outcome
            if not outcome.met:
                continue
            issued = _award_once(
                ctx,
                uow,
                achievement_row(uow, index, achievement_id),
                recipient,
                outcome,
                actor=actor,
                notify=notify,
            )
            if issued is not None:
                awarded.append(issued)
                new_slugs.add(slug)
        pending = index.affected(Dependencies(achievements=frozenset(new_slugs)))
    renewed: list[str] = []
    if (awarded or triggers.activities) and not uow.created_here(learner):
        # A new badge or an approved activity can complete a renewal cycle
        # whose policy renews automatically: the cascade ends in the renewal.
        # (A learner first seen in this transaction has no cycle: cycles are
        # started for learners the database knows.)
        renewed = cycles.after_award(
            ctx, uow, learner.id, actor=actor, open_cycle_ids=opened.open_cycle_ids
        )
    return Evaluation(tuple(awarded), outcomes, tuple(renewed))


def _recipient_of(learner: Learner) -> str:
    return _primary_identifier(learner).value


def _primary_identifier(learner: Learner) -> LearnerIdentifier:
    return next((i for i in learner.identifiers if i.is_primary), None) or learner.identifiers[0]


def _award_once(
    ctx: Context,
    uow: UnitOfWork,
    achievement: Achievement,
    recipient: tuple[Learner, LearnerIdentifier],
    outcome: Outcome,
    *,
    actor: str,
    notify: bool,
) -> IssuedAward | None:
    basis = {"rule": "automatic", "outcome": outcome.as_json(), "inputs": list(outcome.inputs)}
    request = IssueRequest(
        achievement=achievement.public_id,
        recipient=recipient[1].value,
        basis=basis,
        narrative="Awarded automatically: " + outcome.reason,
    )
    # The caller has just seen the achievement not held (in this transaction);
    # a concurrent event that awarded it first (PostgreSQL) makes add_award
    # raise AlreadyHeld before it writes anything: exactly once holds.
    try:
        return add_award(
            ctx,
            uow,
            request,
            actor=actor,
            notify=notify,
            recipient=recipient,
            unheld=True,
            achievement=achievement,
        )
    except AlreadyHeld:
        return None


# ---------------------------------------------------------------- events in


@dataclass(frozen=True)
class EventResult:
    event_id: str
    recorded: bool
    awarded: tuple[IssuedAward, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "event": self.event_id,
            "recorded": self.recorded,
            "awards": [a.as_json() for a in self.awarded],
        }


def _parse_time(value: Any, now: datetime) -> datetime:
    if value is None:
        return now
    moment = parse_moment(str(value), "occurred_at")
    if moment > now + timedelta(minutes=5):
        raise ValidationError("occurred_at", "is in the future")
    return moment


def record_event(
    ctx: Context, payload: Mapping[str, Any], *, idempotency_key: str, source: str, actor: str
) -> EventResult:
    """Record a completion event (once per idempotency key) and award what it completes."""
    if not idempotency_key or len(idempotency_key) > 200:
        raise ValidationError("idempotency_key", "required (1-200 characters)")
    validate("event", payload)
    if len(json.dumps(payload.get("data", {}))) > MAX_EVENT_BYTES:
        raise ValidationError("data", f"at most {MAX_EVENT_BYTES} bytes")
    now = ctx.now()
    occurred_at = _parse_time(payload.get("occurred_at"), now)
    scoped_key = f"{source}:{idempotency_key}"
    try:
        with ctx.uow() as uow:
            return _record_event(ctx, uow, payload, scoped_key, occurred_at, now, source, actor)
    except _Duplicate as duplicate:
        return EventResult(duplicate.event_id, False, ())


class _Duplicate(Exception):
    """The idempotency key was recorded before: roll back, answer with that event."""

    def __init__(self, event_id: str) -> None:
        super().__init__(event_id)
        self.event_id = event_id


def _record_event(
    ctx: Context,
    uow: UnitOfWork,
    payload: Mapping[str, Any],
    scoped_key: str,
    occurred_at: datetime,
    now: datetime,
    source: str,
    actor: str,
) -> EventResult:
    event_id, kind = new_public_id(), payload["kind"]
    data = dict(payload.get("data") or {})
    row: dict[str, Any] = {
        "public_id": event_id,
        "kind": kind,
        "occurred_at": occurred_at,
        "data": data,
        "source": source,
        "idempotency_key": scoped_key,
        "received_at": now,
    }
    triggers = Dependencies(event_kinds=frozenset({kind}))
    index = rule_index(ctx, uow)
    needs = index.needs_of(index.affected(triggers))
    first_rows = None
    # No lookup of the key first: the insert skips a key recorded before
    # (ON CONFLICT DO NOTHING), and a concurrent event with the same key
    # (PostgreSQL) makes it wait for that one's outcome.  A repeat rolls
    # back (with a learner its recipient may have created) and answers
    # with the event recorded first.
    learner, inserted, recorded = _learner_and_first_event(uow, payload, row)
    row["learner_id"] = learner.id
    first_sighted = uow.created_here(learner)
    if recorded:  # with the learner it introduced
        pass
    elif uow.on_postgresql and needs.event_kinds and not first_sighted:
        inserted, first_rows = _event_and_facts(uow, row, needs)
    else:
        inserted = uow.insert_skipping(
            EventRow.__table__, ("idempotency_key",), ("id",), row
        ).scalar()
    if inserted is None:
        existing = uow.core(_EVENT_BY_KEY, {"key": scoped_key}).scalar()
        if existing is None:  # pragma: no cover - recorded, then deleted meanwhile
            raise Conflict("this idempotency key was used concurrently; retry")
        raise _Duplicate(existing)
    audit.record(
        uow,
        actor=actor,
        action="event.record",
        subject_type="event",
        subject_id=event_id,
        now=now,
        kind=kind,
        source=source,
    )
    # A learner this event introduced has no badges, submissions or other
    # events yet: its facts are this event alone.
    first_facts = (
        Facts(events=(CompletionEvent(kind, occurred_at, event_id, data),))
        if first_sighted
        else None
    )
    result = evaluate(
        ctx,
        uow,
        learner,
        triggers,
        actor=actor,
        first_facts=first_facts,
        first_rows=first_rows,
        index=index,
    )
    return EventResult(event_id, True, result.awarded)


def _event_and_facts(
    uow: UnitOfWork, row: Mapping[str, Any], needs: Dependencies
) -> tuple[int | None, list[tuple[Any, ...]]]:
    """PostgreSQL: the event inserted and the facts ``needs`` reads (:data:`_EVENT_AND_FACTS`).

    The event's id (``None``: its key was recorded before) and the facts as
    :data:`_HELD_AND_EVENTS` returns them, the event itself among them.
    """
    params: dict[str, Any] = {f"event_{key}": value for key, value in row.items()}
    params.update(learner_id=row["learner_id"], kinds=sorted(needs.event_kinds))
    rows = uow.core(_EVENT_AND_FACTS, params).all()
    inserted = next((r[0] for r in rows if r[7] == "i"), None)
    facts = [r for r in rows if r[7] != "i"]
    facts.append(
        (None, row["kind"], row["occurred_at"], row["public_id"], None, None, row["data"], "e")
    )
    return inserted, facts


def _learner_and_first_event(
    uow: UnitOfWork, payload: Mapping[str, Any], row: Mapping[str, Any]
) -> tuple[Learner, int | None, bool]:
    """The event's learner; on PostgreSQL a learner first seen is created with the event.

    Returns the learner, the event's id and whether the event's insert ran
    (its id ``None`` then: the key was recorded before).  Otherwise the
    caller inserts the event.
    """
    ident = parse_identifier(payload["recipient"])
    name = payload.get("recipient_name")
    if not uow.on_postgresql:
        found = known_learner(uow, ident)
        if found is not None:
            return found[0], None, False
        return new_learner(uow, ident, name)[0], None, False
    sighting = first_sighting(ident, name)
    params = {**sighting, **{f"event_{key}": value for key, value in row.items()}}
    rows = uow.core(_LEARNER_OR_FIRST_SIGHTING, params).all()
    known = sorted(
        (r[:LEARNER_WITH_WIDTH] for r in rows if r[-1] == "k"), key=lambda r: r[_IDENTIFIER_ID]
    )
    if known:
        return known_from_rows(uow, known, ident.kind.value, ident.value)[0], None, False
    got = next((r for r in rows if r[-1] == "n"), None)
    made = adopt_first_sighting(uow, None if got is None else got[IDENTIFIER_COLUMNS], sighting)
    if made is None:  # a concurrent event's recipient was created first
        return seen_concurrently(uow, ident)[0], None, False
    return made[0], got[-2], True  # type: ignore[index]


def after_issue(ctx: Context, uow: UnitOfWork, issued: IssuedAward, *, actor: str) -> Evaluation:
    """What an award made by hand or in bulk completes, in the caller's transaction.

    The same consequences as an automatic award: the stacks it completes are
    awarded (cascading), and an auto-renewing cycle it satisfies renews.
    """
    learner, _ = learner_for(uow, issued.recipient, None)
    triggers = Dependencies(achievements=frozenset({issued.achievement_slug}))
    evaluation = evaluate(ctx, uow, learner, triggers, actor=actor)
    if evaluation.awarded:
        return evaluation  # evaluate has already run the renewal check
    renewed = cycles.after_award(ctx, uow, learner.id, actor=actor)
    return Evaluation((), evaluation.outcomes, tuple(renewed))


def reevaluate(ctx: Context, recipient: str, *, actor: str) -> Evaluation:
    """Re-check every rule for one learner (after a rule change or by hand)."""
    ident = parse_identifier(recipient)
    with ctx.uow() as uow:
        learner, _ = learner_for(uow, ident.value, None)
        uow.session.flush()
        index = rule_index(ctx, uow)
        everything = Dependencies(
            achievements=frozenset(index.by_achievement),
            evidence_for=frozenset(index.by_evidence),
            event_kinds=frozenset(index.by_event),
            activities=True,
        )
        return evaluate(ctx, uow, learner, everything, actor=actor)


# ---------------------------------------------------------------- dry run


@dataclass(frozen=True)
class SimulationLine:
    recipient: str
    holds: bool
    would_hold: bool
    reason: str


@dataclass(frozen=True)
class Towards:
    """A public achievement a learner has started on: its rules as they stand for them."""

    achievement_public_id: str
    name: str
    outcome: Outcome
    # Of the parts of its top rule (all 3 of …, at least 2 of …) those met and
    # those it needs; a single rule is one part.
    parts_met: int
    parts_needed: int


def progress_towards(ctx: Context, learner_public_id: str, *, limit: int = 10) -> list[Towards]:
    """The public achievements not yet held whose rules read something the learner
    has (a badge, an event, approved evidence or activities), evaluated on what they
    have now (nothing is awarded here), the furthest along first."""
    with ctx.uow() as uow:
        learner_id = uow.session.scalar(
            select(Learner.id).where(Learner.public_id == learner_public_id)
        )
        if learner_id is None:
            raise NotFound(f"no learner {learner_public_id!r}")
        index = rule_index(ctx, uow)
        held, facts = _load_facts(uow, learner_id, None)
        started = (
            index.affected(
                Dependencies(
                    achievements=frozenset(a.achievement for a in facts.awards),
                    evidence_for=frozenset(e.achievement for e in facts.evidence),
                    event_kinds=frozenset(e.kind for e in facts.events),
                    activities=bool(facts.activities),
                )
            )
            - held
        )
        if not started:
            return []
        public = uow.session.execute(
            select(
                Achievement.id, Achievement.public_id, Achievement.name, Achievement.issuer_id
            ).where(Achievement.id.in_(started), Achievement.is_public.is_(True))
        ).all()
        now = ctx.now()
        found = []
        for achievement_id, public_id, name, issuer_id in public:
            rule = index.rules[achievement_id][1]
            outcome = rule.evaluate(facts, now)
            if outcome.met:
                continue  # awarded by the next event that reads it, not "in progress"
            needed = rule.n if isinstance(rule, AtLeast) else 1
            met = min(needed, sum(child.met for child in outcome.children))
            found.append((issuer_id, Towards(public_id, name, outcome, met, needed)))
        found.sort(key=lambda f: (-f[1].parts_met / f[1].parts_needed, f[1].name))
        found = found[:limit]
        names = catalog.achievement_names(
            uow.session,
            {(issuer_id, slug) for issuer_id, t in found for slug in t.outcome.abouts()},
        )
    return [replace(t, outcome=t.outcome.named(names.get(issuer_id, {}))) for issuer_id, t in found]


def simulate_rules(
    ctx: Context, achievement: str, new_rules: Mapping[str, Any]
) -> list[SimulationLine]:
    """Who would gain or lose ``achievement`` under ``new_rules`` (nothing is written)."""
    rule = parse_rule(new_rules)
    now = ctx.now()
    with ctx.uow() as uow:
        row = uow.session.scalar(
            select(Achievement)
            .join(Issuer)
            .where((Achievement.slug == achievement) | (Achievement.public_id == achievement))
        )
        if row is None:
            raise NotFound(f"no achievement {achievement!r}")
        current = parse_rule(row.rules) if row.rules else None
        lines = []
        for learner in uow.session.scalars(select(Learner).order_by(Learner.id)):
            facts = learner_facts(uow, learner.id)
            holds = any(a.achievement == row.slug for a in facts.awards)
            others = Facts(
                tuple(a for a in facts.awards if a.achievement != row.slug),
                facts.evidence,
                facts.events,
                facts.activities,
            )
            outcome = rule.evaluate(others, now)
            before = holds or (current.evaluate(others, now).met if current else False)
            if before != outcome.met or holds != outcome.met:
                lines.append(
                    SimulationLine(_recipient_of(learner), holds, outcome.met, outcome.reason)
                )
        return lines
