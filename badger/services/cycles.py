"""Certification cycles: policies in the database, deadlines, hard times, renewal.

Use cases for staff (import policies, start cycles, grant extensions, put a
member on hiatus and reactivate them, decide requests, renew, resolve the
suspension review queue), for learners (see their cycles with the ledger, ask
for an extension / hiatus / reactivation, renew a satisfied cycle, preview an
activity, get suggestions) and for the daily job (:func:`tick`: grace, lapse,
automatic renewal, reminders).  Each use case owns one transaction; mail goes out only
after it commits.  Views returned here are frozen dataclasses, never ORM rows.

The rules themselves are pure: :mod:`badger.domain.cycles` (status, effective
deadline, reminders) and :mod:`badger.domain.ledger` (how credit counts).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from badger.domain import cycles as rules
from badger.domain.cycles import CycleState, Extension, RenewalRules
from badger.domain.errors import Conflict, DomainError, NotFound, ValidationError
from badger.domain.ledger import Ledger, LedgerItem, LedgerLine, Period, Policy, compute
from badger.domain.recipients import parse_identifier
from badger.services import audit, claims, status
from badger.services.context import Context
from badger.services.ledger import (
    ACTIVITY_TYPES_FROM_TAGS,
    add_months,
    items_of_learner,
    parse_policy,
)
from badger.services.mail import Message
from badger.store.db import UnitOfWork
from badger.store.models import (
    Account,
    Achievement,
    Award,
    CertificationCycle,
    CycleExtension,
    CycleHiatus,
    CycleReminder,
    CycleRequest,
    Issuer,
    Learner,
    LearnerIdentifier,
    RenewalPolicy,
)
from badger.store.prepared import Prepared

log = logging.getLogger(__name__)

MAX_REASON = 2000
REQUEST_KINDS = ("extension", "hiatus", "reactivation")
DECISIONS = ("approve", "reject")
REVIEW_DECISIONS = ("reinstate", "revoke")
WHAT_IF_ID = "what-if"

# ---------------------------------------------------------------- views


@dataclass(frozen=True)
class PolicyVersionView:
    key: str
    version: int
    name: str
    sha256: str
    created_at: datetime
    created_by: str
    required_total: Decimal
    cycle_months: int
    grace_days: int
    auto_renew: bool
    on_shortfall: str
    document: dict[str, Any]
    # Whether this call created the version (False: it already existed, identical).
    created: bool = False


@dataclass(frozen=True)
class ExtensionView:
    days: int
    reason: str
    granted_by: str
    created_at: datetime


@dataclass(frozen=True)
class HiatusView:
    started_at: datetime
    ended_at: datetime | None
    reason: str
    actor: str
    ended_by: str | None


@dataclass(frozen=True)
class CycleView:
    public_id: str
    learner_public_id: str
    learner_name: str
    policy_key: str
    policy_version: int
    policy_name: str
    certification: str  # achievement slug
    certification_name: str
    status: str
    status_reason: str | None
    starts_at: datetime
    base_deadline: datetime
    effective_deadline: datetime
    grace_ends_at: datetime
    days_left: int
    extension_days: int
    paused_days: int
    extensions: tuple[ExtensionView, ...]
    hiatus: tuple[HiatusView, ...]
    renewal_award_id: str | None
    renewed_at: datetime | None
    previous_cycle_id: str | None
    next_cycle_id: str | None
    superseded_at: datetime | None
    review_state: str | None
    review_reason: str | None
    created_at: datetime

    @property
    def is_open(self) -> bool:
        return self.status in rules.OPEN


@dataclass(frozen=True)
class RequestView:
    public_id: str
    cycle_public_id: str
    learner_public_id: str
    learner_name: str
    kind: str
    days: int | None
    reason: str
    status: str
    decided_by: str | None
    comment: str | None
    created_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True)
class CycleOverview:
    cycle: CycleView
    policy: Policy
    ledger: Ledger
    pending_requests: tuple[RequestView, ...]


@dataclass(frozen=True)
class AtRiskCycle:
    cycle: CycleView
    counted_total: Decimal
    required_total: Decimal
    remaining: Decimal
    unmet: tuple[str, ...]  # the reasons of the requirements not met yet


@dataclass(frozen=True)
class WhatIf:
    cycle_public_id: str
    before: Ledger
    after: Ledger
    gain: Decimal
    line: LedgerLine  # how the hypothetical activity itself would count
    capped_by: str | None  # the rule that bites (category_cap, series_cap, ...), if any
    explanation: str


@dataclass(frozen=True)
class Suggestion:
    achievement_slug: str
    achievement_name: str
    credits: Decimal
    category: str
    exempt: bool
    gain: Decimal
    reason: str


@dataclass(frozen=True)
class RenewalResult:
    cycle: CycleView  # the renewed cycle
    next_cycle: CycleView
    award_public_id: str
    clr_url: str | None


@dataclass(frozen=True)
class TickChange:
    cycle_public_id: str
    learner_name: str
    from_status: str
    to_status: str
    reason: str


@dataclass(frozen=True)
class TickReminder:
    cycle_public_id: str
    learner_name: str
    kind: str
    days_left: int


@dataclass(frozen=True)
class TickReport:
    now: datetime
    examined: int
    changes: tuple[TickChange, ...]
    renewed: tuple[str, ...]  # cycle public ids
    reminders: tuple[TickReminder, ...]
    failures: tuple[tuple[str, str], ...]  # (cycle public id, message)


@dataclass(frozen=True)
class ReviewItem:
    cycle: CycleView
    renewal_award_status: str | None
    counted_total: Decimal
    required_total: Decimal
    unmet: tuple[str, ...]


# ---------------------------------------------------------------- policies


def _canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def renewal_rules(document: dict[str, Any]) -> RenewalRules:
    return RenewalRules(
        auto_renew=bool(document.get("auto_renew", False)),
        on_shortfall=str(document.get("on_shortfall", "suspend")),
        grace_days=int(document.get("grace_days", 0)),
    )


def _policy_view(row: RenewalPolicy, *, created: bool = False) -> PolicyVersionView:
    policy = parse_policy(row.document)
    extra = renewal_rules(row.document)
    return PolicyVersionView(
        key=row.key,
        version=row.version,
        name=row.name,
        sha256=row.sha256,
        created_at=row.created_at,
        created_by=row.created_by,
        required_total=policy.required_total,
        cycle_months=policy.cycle_months,
        grace_days=policy.grace_days,
        auto_renew=extra.auto_renew,
        on_shortfall=extra.on_shortfall,
        document=json.loads(_canonical(row.document)),
        created=created,
    )


def import_policy(ctx: Context, data: Any, *, actor: str) -> PolicyVersionView:
    """Store a policy version; the same key and version again must be identical."""
    parse_policy(data)  # validates against schemas/renewal-policy.json; errors name the field
    digest = hashlib.sha256(_canonical(data)).hexdigest()
    now = ctx.now()
    with ctx.uow() as uow:
        existing = uow.session.scalar(
            select(RenewalPolicy).where(
                RenewalPolicy.key == data["key"], RenewalPolicy.version == data["version"]
            )
        )
        if existing is not None:
            if existing.sha256 != digest:
                raise Conflict(
                    f"policy {data['key']} v{data['version']} exists with different content; "
                    "publish a new version number instead (cycles keep the version they started under)"
                )
            return _policy_view(existing)
        row = RenewalPolicy(
            key=data["key"],
            version=data["version"],
            name=data["name"],
            document=json.loads(_canonical(data)),
            sha256=digest,
            created_by=actor,
            created_at=now,
        )
        uow.session.add(row)
        uow.session.flush()
        audit.record(
            uow,
            actor=actor,
            action="policy.import",
            subject_type="renewal_policy",
            subject_id=f"{row.key}:v{row.version}",
            now=now,
            sha256=digest,
        )
        return _policy_view(row, created=True)


def list_policies(ctx: Context) -> list[PolicyVersionView]:
    with ctx.uow() as uow:
        rows = uow.session.scalars(
            select(RenewalPolicy).order_by(RenewalPolicy.key, RenewalPolicy.version)
        )
        return [_policy_view(r) for r in rows]


def _policy_row(uow: UnitOfWork, key: str, version: int | None = None) -> RenewalPolicy:
    stmt = select(RenewalPolicy).where(RenewalPolicy.key == key)
    if version is None:
        stmt = stmt.order_by(RenewalPolicy.version.desc()).limit(1)
    else:
        stmt = stmt.where(RenewalPolicy.version == version)
    row = uow.session.scalar(stmt)
    if row is None:
        what = f"{key} v{version}" if version is not None else key
        raise NotFound(f"no renewal policy {what}; import it with `badger policy import FILE`")
    return row


def get_policy(ctx: Context, key: str, version: int | None = None) -> PolicyVersionView:
    """One version (the newest when ``version`` is None)."""
    with ctx.uow() as uow:
        return _policy_view(_policy_row(uow, key, version))


# ---------------------------------------------------------------- helpers


def _clean(text: str | None, field: str, *, required: bool = True) -> str | None:
    value = (text or "").strip()
    if required and not value:
        raise ValidationError(field, "required: say why")
    if len(value) > MAX_REASON:
        raise ValidationError(field, f"at most {MAX_REASON} characters")
    return value or None


def _state(cycle: CertificationCycle) -> CycleState:
    return CycleState(
        status=cycle.status,
        starts_at=cycle.starts_at,
        base_deadline=cycle.base_deadline,
        extensions=tuple(Extension(e.days, e.reason) for e in cycle.extensions),
        hiatus=tuple(Period(h.started_at, h.ended_at) for h in cycle.hiatus_periods),
        grace_days=renewal_rules(cycle.policy.document).grace_days,
    )


def _as_of(cycle: CertificationCycle, now: datetime) -> datetime:
    # A renewed cycle's window is frozen at its renewal.
    return cycle.renewed_at if cycle.renewed_at is not None else now


def _detailed(stmt: Select[tuple[CertificationCycle]]) -> Select[tuple[CertificationCycle]]:
    """Load what a :class:`CycleView` shows with the cycles (no query per row)."""
    return stmt.options(
        joinedload(CertificationCycle.learner),
        joinedload(CertificationCycle.policy),
        joinedload(CertificationCycle.certification),
        selectinload(CertificationCycle.extensions),
        selectinload(CertificationCycle.hiatus_periods),
    )


def _find_cycle(uow: UnitOfWork, public_id: str, *, lock: bool = False) -> CertificationCycle:
    return uow.by_public_id(CertificationCycle, public_id, "certification cycle", lock=lock)


def _learner_by_public_id(uow: UnitOfWork, public_id: str) -> Learner:
    return uow.by_public_id(Learner, public_id, "learner")


def _learner_by_recipient(uow: UnitOfWork, recipient: str) -> Learner:
    ident = parse_identifier(recipient)
    row = uow.session.scalar(
        select(Learner)
        .join(LearnerIdentifier, LearnerIdentifier.learner_id == Learner.id)
        .where(LearnerIdentifier.kind == ident.kind.value, LearnerIdentifier.value == ident.value)
    )
    if row is None:
        raise NotFound(f"no learner {ident.value}")
    return row


def find_learner(ctx: Context, recipient: str) -> str:
    """The public id of the learner an email or DID names."""
    with ctx.uow() as uow:
        return _learner_by_recipient(uow, recipient).public_id


def _view(uow: UnitOfWork, cycle: CertificationCycle, now: datetime) -> CycleView:
    state = _state(cycle)
    as_of = _as_of(cycle, now)
    previous = cycle.previous_cycle
    next_id = uow.session.scalar(
        select(CertificationCycle.public_id).where(CertificationCycle.previous_cycle_id == cycle.id)
    )
    return CycleView(
        public_id=cycle.public_id,
        learner_public_id=cycle.learner.public_id,
        learner_name=cycle.learner.display_name,
        policy_key=cycle.policy_key,
        policy_version=cycle.policy.version,
        policy_name=cycle.policy.name,
        certification=cycle.certification.slug,
        certification_name=cycle.certification.name,
        status=cycle.status,
        status_reason=cycle.status_reason,
        starts_at=cycle.starts_at,
        base_deadline=cycle.base_deadline,
        effective_deadline=rules.effective_deadline(state, as_of),
        grace_ends_at=rules.grace_end(state, as_of),
        days_left=rules.days_left(state, as_of),
        extension_days=state.extension_days,
        paused_days=rules.paused(state, as_of).days,
        extensions=tuple(
            ExtensionView(e.days, e.reason, e.granted_by, e.created_at) for e in cycle.extensions
        ),
        hiatus=tuple(
            HiatusView(h.started_at, h.ended_at, h.reason, h.actor, h.ended_by)
            for h in cycle.hiatus_periods
        ),
        renewal_award_id=cycle.renewal_award.public_id if cycle.renewal_award else None,
        renewed_at=cycle.renewed_at,
        previous_cycle_id=previous.public_id if previous else None,
        next_cycle_id=next_id,
        superseded_at=cycle.superseded_at,
        review_state=cycle.review_state,
        review_reason=cycle.review_reason,
        created_at=cycle.created_at,
    )


def _request_view(row: CycleRequest) -> RequestView:
    return RequestView(
        public_id=row.public_id,
        cycle_public_id=row.cycle.public_id,
        learner_public_id=row.learner.public_id,
        learner_name=row.learner.display_name,
        kind=row.kind,
        days=row.days,
        reason=row.reason,
        status=row.status,
        decided_by=row.decided_by,
        comment=row.comment,
        created_at=row.created_at,
        decided_at=row.decided_at,
    )


def _ledger(
    uow: UnitOfWork,
    cycle: CertificationCycle,
    now: datetime,
    extra: Sequence[LedgerItem] = (),
) -> tuple[Policy, Ledger]:
    policy = parse_policy(cycle.policy.document)
    items = [*items_of_learner(uow, cycle.learner_id), *extra]
    return policy, compute(policy, items, rules.window(_state(cycle), _as_of(cycle, now)))


def _set_status(
    uow: UnitOfWork,
    cycle: CertificationCycle,
    move: rules.Transition,
    *,
    actor: str,
    now: datetime,
) -> None:
    cycle.status, cycle.status_reason, cycle.status_changed_at = move.to_status, move.reason, now
    if move.to_status == rules.LAPSED:
        cycle.open_policy_key = None
    audit.record(
        uow,
        actor=actor,
        action="cycle.status",
        subject_type="certification_cycle",
        subject_id=cycle.public_id,
        now=now,
        from_status=move.from_status,
        to_status=move.to_status,
        code=move.code,
        reason=move.reason,
    )


def _learner_email(uow: UnitOfWork, learner: Learner) -> str | None:
    account = uow.session.scalar(select(Account).where(Account.learner_id == learner.id))
    if account is not None:
        return account.email
    return uow.session.scalar(
        select(LearnerIdentifier.value)
        .where(LearnerIdentifier.learner_id == learner.id, LearnerIdentifier.kind == "email")
        .order_by(LearnerIdentifier.is_primary.desc(), LearnerIdentifier.id)
        .limit(1)
    )


def _mail(
    ctx: Context,
    uow: UnitOfWork,
    learner: Learner,
    subject: str,
    lines: Sequence[str],
    *,
    to: str | None = None,
) -> None:
    to = to or _learner_email(uow, learner)
    if to is None:
        return
    body = "\n".join([f"Hello {learner.display_name},", "", *lines, ""])
    message = Message(to=to, subject=subject, body=body)
    uow.after_commit(lambda: ctx.mailer.send(message))


def _cycle_page(ctx: Context) -> str:
    return f"{ctx.settings.base_url}/account"


def _settle(uow: UnitOfWork, cycle: CertificationCycle, *, actor: str, now: datetime) -> None:
    """Record the status the clock implies after a change of deadline."""
    move = rules.settle(_state(cycle), now)
    if move is None:
        return
    if move.to_status == rules.ACTIVE and cycle.open_policy_key is None:
        other = uow.session.scalar(
            select(CertificationCycle.public_id).where(
                CertificationCycle.learner_id == cycle.learner_id,
                CertificationCycle.open_policy_key == cycle.policy_key,
            )
        )
        if other is not None:
            raise Conflict(
                f"the learner already has an open {cycle.policy_key} cycle ({other}); "
                "this lapsed cycle cannot be reinstated"
            )
        cycle.open_policy_key = cycle.policy_key
    _set_status(uow, cycle, move, actor=actor, now=now)


# ---------------------------------------------------------------- cycles


def start_cycle(
    ctx: Context,
    *,
    recipient: str,
    policy_key: str,
    certification: str | None = None,
    start: datetime,
    actor: str,
) -> CycleView:
    """Open a learner's cycle under the newest version of ``policy_key``."""
    if not isinstance(start, datetime) or start.tzinfo is None:
        raise ValidationError("start", "a date-time with a time zone")
    now = ctx.now()
    with ctx.uow() as uow:
        learner = _learner_by_recipient(uow, recipient)
        policy_row = _policy_row(uow, policy_key)
        cert = _certification(uow, ctx.settings.issuer_slug, certification or policy_key)
        open_id = uow.session.scalar(
            select(CertificationCycle.public_id).where(
                CertificationCycle.learner_id == learner.id,
                CertificationCycle.open_policy_key == policy_key,
            )
        )
        if open_id is not None:
            raise Conflict(
                f"{learner.display_name} already has an open {policy_key} cycle ({open_id})"
            )
        try:
            cycle = _open_cycle(uow, learner, policy_row, cert, start, actor=actor, now=now)
        except IntegrityError:
            # A concurrent start won the unique (learner, open policy key) slot.
            raise Conflict(
                f"{learner.display_name} already has an open {policy_key} cycle"
            ) from None
        _settle(uow, cycle, actor=actor, now=now)
        return _view(uow, cycle, now)


def migrate_cycle(
    ctx: Context, cycle_public_id: str, *, version: int, reason: str, actor: str
) -> CycleView:
    """Move an open cycle to another version of its policy (audited).

    Cycles keep the version they started under; staff migrate one explicitly,
    e.g. when a new version relaxes a cap.  The start stays; the base deadline
    follows the new version's cycle length.
    """
    text = _clean(reason, "reason")
    now = ctx.now()
    with ctx.uow() as uow:
        cycle = _find_cycle(uow, cycle_public_id, lock=True)
        if cycle.status not in rules.OPEN:
            raise Conflict(f"a {cycle.status} cycle keeps the policy it was decided under")
        target = _policy_row(uow, cycle.policy_key, version)
        if target.id == cycle.policy_id:
            raise Conflict(f"the cycle is already under {target.key} v{target.version}")
        old = cycle.policy.version
        cycle.policy = target
        deadline = add_months(cycle.starts_at, parse_policy(target.document).cycle_months)
        if deadline <= cycle.starts_at:  # pragma: no cover - cycle_months >= 1 by schema
            raise ValidationError("version", "its cycle ends before the start")
        cycle.base_deadline = deadline
        uow.session.flush()
        audit.record(
            uow,
            actor=actor,
            action="cycle.migrate",
            subject_type="certification_cycle",
            subject_id=cycle.public_id,
            now=now,
            from_version=old,
            to_version=target.version,
            reason=text,
        )
        _settle(uow, cycle, actor=actor, now=now)
        return _view(uow, cycle, now)


def _certification(uow: UnitOfWork, issuer_slug: str, ref: str) -> Achievement:
    stmt = select(Achievement).join(Issuer)
    row = uow.session.scalar(stmt.where(Achievement.public_id == ref))
    if row is None:
        row = uow.session.scalar(stmt.where(Achievement.slug == ref, Issuer.slug == issuer_slug))
    if row is None:
        raise ValidationError(
            "certification", f"no achievement {ref!r}: name the certification it renews"
        )
    if row.achievement_type != "Certification":
        raise ValidationError(
            "certification", f"{ref!r} is a {row.achievement_type}, not a Certification"
        )
    return row


def _open_cycle(
    uow: UnitOfWork,
    learner: Learner,
    policy_row: RenewalPolicy,
    cert: Achievement,
    start: datetime,
    *,
    actor: str,
    now: datetime,
    previous: CertificationCycle | None = None,
) -> CertificationCycle:
    months = parse_policy(policy_row.document).cycle_months
    cycle = CertificationCycle(
        learner=learner,
        policy=policy_row,
        policy_key=policy_row.key,
        open_policy_key=policy_row.key,
        certification=cert,
        starts_at=start,
        base_deadline=add_months(start, months),
        status=rules.ACTIVE,
        status_changed_at=now,
        previous_cycle=previous,
        renewal_basis={},
        created_by=actor,
        created_at=now,
    )
    uow.session.add(cycle)
    uow.session.flush()
    audit.record(
        uow,
        actor=actor,
        action="cycle.start",
        subject_type="certification_cycle",
        subject_id=cycle.public_id,
        now=now,
        learner=learner.public_id,
        policy=f"{policy_row.key}:v{policy_row.version}",
        starts_at=start.isoformat(),
        previous=previous.public_id if previous else None,
    )
    return cycle


def get_cycle(ctx: Context, cycle_public_id: str) -> CycleView:
    now = ctx.now()
    with ctx.uow() as uow:
        return _view(uow, _find_cycle(uow, cycle_public_id), now)


def list_cycles(ctx: Context, *, status: str | None = None) -> list[CycleView]:
    if status is not None and status not in rules.STATUSES:
        raise ValidationError("status", f"one of {', '.join(rules.STATUSES)}")
    now = ctx.now()
    with ctx.uow() as uow:
        stmt = _detailed(select(CertificationCycle).order_by(CertificationCycle.id))
        if status is not None:
            stmt = stmt.where(CertificationCycle.status == status)
        return [_view(uow, c, now) for c in uow.session.scalars(stmt)]


def learner_cycles(
    ctx: Context, learner_public_id: str, *, now: datetime | None = None
) -> list[CycleOverview]:
    """Every cycle of a learner, newest first, with its ledger and pending requests."""
    now = now or ctx.now()
    with ctx.uow() as uow:
        learner = _learner_by_public_id(uow, learner_public_id)
        out = []
        for cycle in uow.session.scalars(
            select(CertificationCycle)
            .where(CertificationCycle.learner_id == learner.id)
            .order_by(CertificationCycle.starts_at.desc(), CertificationCycle.id.desc())
        ):
            policy, ledger = _ledger(uow, cycle, now)
            pending = uow.session.scalars(
                select(CycleRequest)
                .where(CycleRequest.cycle_id == cycle.id, CycleRequest.status == "pending")
                .order_by(CycleRequest.id)
            )
            out.append(
                CycleOverview(
                    _view(uow, cycle, now), policy, ledger, tuple(_request_view(r) for r in pending)
                )
            )
        return out


def cycle_ledger(ctx: Context, cycle_public_id: str) -> CycleOverview:
    """One cycle with its ledger (as :func:`learner_cycles` shows it)."""
    now = ctx.now()
    with ctx.uow() as uow:
        cycle = _find_cycle(uow, cycle_public_id)
        policy, ledger = _ledger(uow, cycle, now)
        pending = uow.session.scalars(
            select(CycleRequest)
            .where(CycleRequest.cycle_id == cycle.id, CycleRequest.status == "pending")
            .order_by(CycleRequest.id)
        )
        return CycleOverview(
            _view(uow, cycle, now), policy, ledger, tuple(_request_view(r) for r in pending)
        )


def at_risk(ctx: Context, *, now: datetime, within_days: int = 90) -> list[AtRiskCycle]:
    """Open cycles due within ``within_days`` (or in grace) whose ledger is not satisfied."""
    if not 0 <= within_days <= 3650:
        raise ValidationError("within_days", "between 0 and 3650")
    out = []
    with ctx.uow() as uow:
        for cycle in uow.session.scalars(
            _detailed(select(CertificationCycle))
            .where(CertificationCycle.status.in_((rules.ACTIVE, rules.GRACE)))
            .order_by(CertificationCycle.id)
        ):
            deadline = rules.effective_deadline(_state(cycle), now)
            if deadline - now > timedelta(days=within_days):
                continue
            _, ledger = _ledger(uow, cycle, now)
            if ledger.satisfied:
                continue
            out.append(
                AtRiskCycle(
                    _view(uow, cycle, now),
                    ledger.counted_total,
                    ledger.required_total,
                    ledger.remaining,
                    tuple(r.reason for r in ledger.requirements if not r.met),
                )
            )
    out.sort(key=lambda a: (a.cycle.effective_deadline, a.cycle.public_id))
    return out


# ---------------------------------------------------------------- extensions and hiatus


def _extend(
    uow: UnitOfWork, cycle: CertificationCycle, *, days: int, reason: str, actor: str, now: datetime
) -> None:
    rules.check_can_extend(_state(cycle), days)
    if cycle.superseded_at is not None:
        # A cycle closed by a claim merge: reopening it would make a second open cycle.
        raise Conflict(f"this cycle was closed ({cycle.status_reason}); extend the open cycle")
    cycle.extensions.append(
        CycleExtension(days=days, reason=reason, granted_by=actor, created_at=now)
    )
    uow.session.flush()
    audit.record(
        uow,
        actor=actor,
        action="cycle.extend",
        subject_type="certification_cycle",
        subject_id=cycle.public_id,
        now=now,
        days=days,
        reason=reason,
        deadline=rules.effective_deadline(_state(cycle), now).isoformat(),
    )
    _settle(uow, cycle, actor=actor, now=now)


def grant_extension(
    ctx: Context, cycle_public_id: str, *, days: int, reason: str, actor: str
) -> CycleView:
    """Move the deadline by ``days`` (reinstates a lapsed cycle when it moves past now)."""
    text = _clean(reason, "reason")
    now = ctx.now()
    with ctx.uow() as uow:
        cycle = _find_cycle(uow, cycle_public_id, lock=True)
        _extend(uow, cycle, days=_days(days), reason=text or "", actor=actor, now=now)
        deadline = rules.effective_deadline(_state(cycle), now)
        _mail(
            ctx,
            uow,
            cycle.learner,
            f"Deadline extended: {cycle.certification.name}",
            [
                f"Your renewal deadline was extended by {days} days; it is now {deadline:%d %B %Y}.",
                f"Reason: {text}",
                "",
                f"Your progress: {_cycle_page(ctx)}",
            ],
        )
        return _view(uow, cycle, now)


def _days(days: Any) -> int:
    if isinstance(days, bool) or not isinstance(days, int):
        raise ValidationError("days", "a whole number of days")
    if not 1 <= days <= rules.MAX_EXTENSION_DAYS:
        raise ValidationError("days", f"between 1 and {rules.MAX_EXTENSION_DAYS}")
    return days


def _current_certificate(uow: UnitOfWork, cycle: CertificationCycle) -> Award | None:
    """The learner's certification credential in force (for suspension during hiatus)."""
    previous = cycle.previous_cycle
    if previous is not None and previous.renewal_award is not None:
        return previous.renewal_award if previous.renewal_award.status == "active" else None
    return uow.session.scalar(
        select(Award)
        .where(
            Award.learner_id == cycle.learner_id,
            Award.achievement_id == cycle.certification_id,
            Award.status == "active",
        )
        .order_by(Award.issued_on.desc())
        .limit(1)
    )


def _start_hiatus(
    ctx: Context,
    uow: UnitOfWork,
    cycle: CertificationCycle,
    *,
    reason: str,
    actor: str,
    now: datetime,
) -> None:
    move = rules.start_hiatus(_state(cycle), now)
    certificate = _current_certificate(uow, cycle)
    if certificate is not None:
        status.suspend_award(
            ctx, uow, certificate, reason="certification inactive (hiatus)", actor=actor, now=now
        )
    cycle.hiatus_periods.append(
        CycleHiatus(
            started_at=now,
            reason=reason,
            actor=actor,
            suspended_award_id=certificate.id if certificate is not None else None,
        )
    )
    uow.session.flush()
    _set_status(uow, cycle, move, actor=actor, now=now)
    _mail(
        ctx,
        uow,
        cycle.learner,
        f"Certification inactive: {cycle.certification.name}",
        [
            f"Your certification is inactive (hiatus) from {now:%d %B %Y}: the renewal clock is paused.",
            f"Reason: {reason}",
            "Ask for reactivation when you are ready to continue.",
        ],
    )


def _end_hiatus(
    ctx: Context, uow: UnitOfWork, cycle: CertificationCycle, *, actor: str, now: datetime
) -> None:
    move = rules.end_hiatus(_state(cycle), now)
    period = next(h for h in cycle.hiatus_periods if h.ended_at is None)
    period.ended_at, period.ended_by = now, actor
    if period.suspended_award_id is not None:
        award = uow.session.get(Award, period.suspended_award_id)
        if award is not None and award.status == "suspended":
            status.unsuspend_award(ctx, uow, award, actor=actor, now=now, reason="hiatus ended")
    uow.session.flush()
    _set_status(uow, cycle, move, actor=actor, now=now)
    deadline = rules.effective_deadline(_state(cycle), now)
    _mail(
        ctx,
        uow,
        cycle.learner,
        f"Certification reactivated: {cycle.certification.name}",
        [
            f"Your certification is active again. Your renewal deadline is now {deadline:%d %B %Y}.",
            f"Your progress: {_cycle_page(ctx)}",
        ],
    )


def start_hiatus(ctx: Context, cycle_public_id: str, *, reason: str, actor: str) -> CycleView:
    """Put the cycle on hiatus: the clock pauses; the certification credential is suspended."""
    text = _clean(reason, "reason")
    now = ctx.now()
    with ctx.uow() as uow:
        cycle = _find_cycle(uow, cycle_public_id, lock=True)
        _start_hiatus(ctx, uow, cycle, reason=text or "", actor=actor, now=now)
        return _view(uow, cycle, now)


def end_hiatus(ctx: Context, cycle_public_id: str, *, actor: str) -> CycleView:
    """Reactivate: the deadline moves by the time paused; the suspension is lifted."""
    now = ctx.now()
    with ctx.uow() as uow:
        cycle = _find_cycle(uow, cycle_public_id, lock=True)
        _end_hiatus(ctx, uow, cycle, actor=actor, now=now)
        return _view(uow, cycle, now)


# ---------------------------------------------------------------- requests


def request_change(
    ctx: Context,
    *,
    learner_public_id: str,
    cycle_public_id: str,
    kind: str,
    reason: str,
    days: int | None = None,
) -> RequestView:
    """A learner asks for an extension (``days``), a hiatus or reactivation."""
    if kind not in REQUEST_KINDS:
        raise ValidationError("kind", f"one of {', '.join(REQUEST_KINDS)}")
    text = _clean(reason, "reason")
    if kind == "extension":
        if days is None:
            raise ValidationError("days", "how many days of extension you ask for")
        days = _days(days)
    elif days is not None:
        raise ValidationError("days", f"only an extension request has days, not a {kind}")
    now = ctx.now()
    with ctx.uow() as uow:
        learner = _learner_by_public_id(uow, learner_public_id)
        cycle = _find_cycle(uow, cycle_public_id, lock=True)
        if cycle.learner_id != learner.id:
            raise NotFound(f"no certification cycle {cycle_public_id!r}")
        state = _state(cycle)
        current = rules.status_at(state, now)
        if kind == "reactivation" and current != rules.INACTIVE:
            raise ValidationError("kind", "the cycle is not on hiatus; nothing to reactivate")
        if kind == "hiatus" and current not in (rules.ACTIVE, rules.GRACE):
            raise ValidationError("kind", f"a {current} cycle cannot go on hiatus")
        if kind == "extension" and current == rules.RENEWED:
            raise ValidationError("kind", "this cycle is already renewed")
        pending = uow.session.scalar(
            select(CycleRequest.public_id).where(
                CycleRequest.cycle_id == cycle.id,
                CycleRequest.kind == kind,
                CycleRequest.status == "pending",
            )
        )
        if pending is not None:
            raise Conflict(f"a {kind} request for this cycle is already waiting ({pending})")
        row = CycleRequest(
            cycle=cycle,
            learner=learner,
            kind=kind,
            days=days,
            reason=text or "",
            status="pending",
            created_at=now,
        )
        uow.session.add(row)
        uow.session.flush()
        audit.record(
            uow,
            actor=f"learner:{learner.public_id}",
            action="cycle.request",
            subject_type="cycle_request",
            subject_id=row.public_id,
            now=now,
            cycle=cycle.public_id,
            kind=kind,
            days=days,
        )
        return _request_view(row)


def list_requests(ctx: Context, *, status: str | None = "pending") -> list[RequestView]:
    """Requests (pending ones by default), oldest first."""
    if status is not None and status not in ("pending", "approved", "rejected"):
        raise ValidationError("status", "pending, approved or rejected")
    with ctx.uow() as uow:
        stmt = select(CycleRequest).order_by(CycleRequest.created_at, CycleRequest.id)
        if status is not None:
            stmt = stmt.where(CycleRequest.status == status)
        return [_request_view(r) for r in uow.session.scalars(stmt)]


def requests_of(ctx: Context, learner_public_id: str) -> list[RequestView]:
    """A learner's own requests, newest first."""
    with ctx.uow() as uow:
        learner = _learner_by_public_id(uow, learner_public_id)
        rows = uow.session.scalars(
            select(CycleRequest)
            .where(CycleRequest.learner_id == learner.id)
            .order_by(CycleRequest.created_at.desc(), CycleRequest.id.desc())
        )
        return [_request_view(r) for r in rows]


def decide_request(
    ctx: Context,
    request_public_id: str,
    *,
    decision: str,
    actor: str,
    comment: str | None = None,
    days: int | None = None,
) -> RequestView:
    """Approve (applies the extension / hiatus / reactivation) or reject (with a comment)."""
    if decision not in DECISIONS:
        raise ValidationError("decision", "approve or reject")
    note = _clean(comment, "comment", required=decision == "reject")
    now = ctx.now()
    with ctx.uow() as uow:
        row = uow.session.scalar(
            select(CycleRequest)
            .where(CycleRequest.public_id == request_public_id)
            .with_for_update()
        )
        if row is None:
            raise NotFound(f"no request {request_public_id!r}")
        if row.status != "pending":
            raise Conflict(f"request {request_public_id} was already {row.status}")
        cycle = _find_cycle(uow, row.cycle.public_id, lock=True)
        if decision == "approve":
            if row.kind == "extension":
                granted = _days(days) if days is not None else (row.days or 0)
                _extend(
                    uow,
                    cycle,
                    days=_days(granted),
                    reason=f"request: {row.reason}",
                    actor=actor,
                    now=now,
                )
                row.days = granted
            elif days is not None:
                raise ValidationError("days", "only an extension has days")
            elif row.kind == "hiatus":
                _start_hiatus(ctx, uow, cycle, reason=row.reason, actor=actor, now=now)
            else:
                _end_hiatus(ctx, uow, cycle, actor=actor, now=now)
        row.status = "approved" if decision == "approve" else "rejected"
        row.decided_by, row.comment, row.decided_at = actor, note, now
        audit.record(
            uow,
            actor=actor,
            action="cycle.request_decide",
            subject_type="cycle_request",
            subject_id=row.public_id,
            now=now,
            decision=decision,
            kind=row.kind,
            days=row.days,
            comment=note,
        )
        what = {"extension": f"extension of {row.days} days", "hiatus": "hiatus"}.get(
            row.kind, "reactivation"
        )
        _mail(
            ctx,
            uow,
            row.learner,
            f"Your {row.kind} request was {row.status}",
            [
                f"Your request for {what} ({cycle.certification.name}) was {row.status}.",
                *([f"Comment: {note}"] if note else []),
                "",
                f"Your progress: {_cycle_page(ctx)}",
            ],
        )
        return _request_view(row)


# ---------------------------------------------------------------- what-if and suggestions


def _what_if_item(activity: Any, now: datetime) -> LedgerItem:
    if not isinstance(activity, dict):
        raise ValidationError("activity", "an object with credits and category")
    try:
        credits = Decimal(str(activity.get("credits")))
    except (InvalidOperation, ValueError):
        raise ValidationError("credits", "a number of credits, e.g. 1.5") from None
    if not credits.is_finite() or not Decimal(0) <= credits <= Decimal(1000):
        raise ValidationError("credits", "between 0 and 1000")
    category = activity.get("category")
    if not isinstance(category, str) or not category.strip():
        raise ValidationError("category", "required: the credit category")
    minutes = activity.get("learning_minutes")
    if minutes is not None and (
        isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 <= minutes <= 100000
    ):
        raise ValidationError("learning_minutes", "a whole number of minutes")
    for field in ("series", "activity_type", "name"):
        value = activity.get(field)
        if value is not None and (not isinstance(value, str) or len(value) > 200):
            raise ValidationError(field, "text of at most 200 characters")
    earned_at = activity.get("earned_at", now)
    if isinstance(earned_at, str):
        try:
            earned_at = datetime.fromisoformat(earned_at.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError("earned_at", "an ISO 8601 date-time") from None
    if not isinstance(earned_at, datetime) or earned_at.tzinfo is None:
        raise ValidationError("earned_at", "a date-time with a time zone")
    return LedgerItem(
        id=WHAT_IF_ID,
        name=activity.get("name") or "this activity",
        credits=credits,
        categories=(category.strip(),),
        earned_at=earned_at,
        series=activity.get("series") or None,
        activity_type=activity.get("activity_type") or None,
        learning_minutes=minutes,
        has_proof=bool(activity.get("has_proof", True)),
    )


def _compare(before: Ledger, after: Ledger, item_id: str) -> tuple[Decimal, LedgerLine]:
    line = next(x for x in after.lines if x.item_id == item_id)
    return after.counted_total - before.counted_total, line


def what_if(ctx: Context, cycle_public_id: str, activity: dict[str, Any]) -> WhatIf:
    """The ledger before and after a hypothetical activity (nothing is written)."""
    now = ctx.now()
    item = _what_if_item(activity, now)
    with ctx.uow() as uow:
        cycle = _find_cycle(uow, cycle_public_id)
        _, before = _ledger(uow, cycle, now)
        _, after = _ledger(uow, cycle, now, [item])
    gain, line = _compare(before, after, WHAT_IF_ID)
    capped_by = line.rule if line.status != "counted" else None
    if gain == line.counted:
        explanation = f"would add {gain} credits: {line.reason}"
    else:
        explanation = (
            f"would add {gain} credits in total ({line.counted} from this activity, "
            f"the rest from credit the allocation moves): {line.reason}"
        )
    return WhatIf(cycle.public_id, before, after, gain, line, capped_by, explanation)


def suggestions(ctx: Context, cycle_public_id: str, limit: int = 10) -> list[Suggestion]:
    """Catalogue achievements with credit that would still count, best gain first."""
    if not 1 <= limit <= 100:
        raise ValidationError("limit", "between 1 and 100")
    now = ctx.now()
    with ctx.uow() as uow:
        cycle = _find_cycle(uow, cycle_public_id)
        policy, before = _ledger(uow, cycle, now)
        window = rules.window(_state(cycle), _as_of(cycle, now))
        moment = min(max(now, window.start), window.deadline)
        full = {t.name for t in before.categories if t.room is not None and t.room <= 0}
        held = set(
            uow.session.scalars(
                select(Award.achievement_id).where(
                    Award.learner_id == cycle.learner_id, Award.status == "active"
                )
            )
        )
        base = items_of_learner(uow, cycle.learner_id)
        catalogue = uow.session.scalars(
            select(Achievement)
            .where(
                Achievement.credits_available.is_not(None),
                Achievement.credits_available > 0,
                Achievement.credit_category.is_not(None),
                Achievement.is_public.is_(True),
            )
            .order_by(Achievement.name, Achievement.id)
        )
        out = []
        for achievement in catalogue:
            category = achievement.credit_category or ""
            if achievement.id in held or category in full:
                continue
            tags = set(achievement.tags or ())
            item = LedgerItem(
                id=WHAT_IF_ID,
                name=achievement.name,
                credits=achievement.credits_available or Decimal(0),
                categories=(category,),
                earned_at=moment,
                achievement=achievement.slug,
                series=achievement.series,
                activity_type=next((t for t in ACTIVITY_TYPES_FROM_TAGS if t in tags), None),
            )
            after = compute(policy, [*base, item], window)
            gain, line = _compare(before, after, WHAT_IF_ID)
            if gain <= 0:
                continue
            out.append(
                Suggestion(
                    achievement.slug,
                    achievement.name,
                    item.credits,
                    category,
                    policy.category(category).cap is None,
                    gain,
                    line.reason,
                )
            )
    out.sort(key=lambda s: (-s.gain, s.achievement_name, s.achievement_slug))
    return out[:limit]


# ---------------------------------------------------------------- renewal


def _renew(
    ctx: Context, uow: UnitOfWork, cycle: CertificationCycle, *, actor: str, now: datetime
) -> RenewalResult:
    state = _state(cycle)
    rules.check_can_renew(state, now)
    policy, ledger = _ledger(uow, cycle, now)
    if not ledger.satisfied:
        unmet = "; ".join(r.reason for r in ledger.requirements if not r.met)
        raise Conflict(f"not satisfied yet: {unmet}")
    # Imported here: the renewal credential module is optional until it lands.
    from badger.services import renewal

    deadline = rules.effective_deadline(state, now)
    newest = _policy_row(uow, cycle.policy_key)
    next_months = parse_policy(newest.document).cycle_months
    issued = renewal.issue_renewal(
        ctx,
        uow,
        learner_id=cycle.learner_id,
        certification=cycle.certification.slug,
        policy=policy,
        ledger=ledger,
        # The new cycle starts at the old deadline, but a credential whose
        # validFrom lies in the future is "not yet valid" to every verifier (and
        # fatal to 1EdTech's): an early renewal is in force from today.
        valid_from=min(deadline, now),
        valid_until=add_months(deadline, next_months),
        cycle_key=cycle.public_id,
        actor=actor,
    )
    award = uow.session.scalar(select(Award).where(Award.public_id == issued.award_public_id))
    if award is None:  # pragma: no cover - issue_renewal just created it
        raise NotFound(f"no award {issued.award_public_id}")
    counted = [line.item_id for line in ledger.lines if line.counted > 0]
    cycle.renewal_award = award
    cycle.renewal_basis = {
        "counted_total": str(ledger.counted_total),
        "required_total": str(ledger.required_total),
        "items": counted,
        "policy": f"{policy.key}:v{policy.version}",
    }
    cycle.renewed_at = now
    cycle.open_policy_key = None
    _set_status(
        uow,
        cycle,
        rules.Transition(
            cycle.status,
            rules.RENEWED,
            "renewed",
            f"renewed with {ledger.counted_total} of {ledger.required_total} credits",
        ),
        actor=actor,
        now=now,
    )
    previous = cycle.previous_cycle
    if previous is not None and previous.superseded_at is None:
        # The previous renewal credential stays (never deleted); this one supersedes it.
        previous.superseded_at = now
    uow.session.flush()
    nxt = _open_cycle(
        uow,
        cycle.learner,
        newest,
        cycle.certification,
        deadline,
        actor=actor,
        now=now,
        previous=cycle,
    )
    audit.record(
        uow,
        actor=actor,
        action="cycle.renew",
        subject_type="certification_cycle",
        subject_id=cycle.public_id,
        now=now,
        award=award.public_id,
        counted_total=str(ledger.counted_total),
        next_cycle=nxt.public_id,
    )
    # The one mail of a renewal: it carries what the award mail would have
    # (the credential's page, a claim link when the address needs proving).
    notice = claims.award_notice(ctx, uow, award, now=now, actor=actor)
    if notice is not None:
        _mail(
            ctx,
            uow,
            cycle.learner,
            f"Certification renewed: {cycle.certification.name}",
            [
                f"Your certification is renewed until {nxt.base_deadline:%d %B %Y} "
                f"with {ledger.counted_total} credits.",
                "",
                f"See your renewal credential, download it and share it here: {notice.page_url}",
                *(
                    [f"Your comprehensive learner record: {issued.clr_url}"]
                    if issued.clr_url
                    else []
                ),
                *(["", *claims.claim_lines(notice), ""] if notice.claim_url else []),
                f"Your badges: {_cycle_page(ctx)}",
            ],
            to=notice.to,
        )
    return RenewalResult(
        _view(uow, cycle, now), _view(uow, nxt, now), award.public_id, issued.clr_url
    )


def renew(ctx: Context, cycle_public_id: str, *, actor: str) -> RenewalResult:
    """Issue the renewal credential for a satisfied cycle and open the next cycle."""
    now = ctx.now()
    with ctx.uow() as uow:
        cycle = _find_cycle(uow, cycle_public_id, lock=True)
        return _renew(ctx, uow, cycle, actor=actor, now=now)


def renew_own(
    ctx: Context, *, learner_public_id: str, cycle_public_id: str, actor: str
) -> RenewalResult:
    """A learner asks for the renewal of their own satisfied cycle (policy ``auto_renew`` off).

    Another learner's cycle is :class:`NotFound` (as for requests: not even
    whether it exists); a cycle that is not satisfied, on hiatus, lapsed or
    already renewed is a :class:`Conflict` naming why, and nothing is issued.
    """
    now = ctx.now()
    with ctx.uow() as uow:
        learner = _learner_by_public_id(uow, learner_public_id)
        cycle = _find_cycle(uow, cycle_public_id, lock=True)
        if cycle.learner_id != learner.id:
            raise NotFound(f"no certification cycle {cycle_public_id!r}")
        return _renew(ctx, uow, cycle, actor=actor, now=now)


# Built once: every award runs the first (most learners have no open cycle,
# and a Core query of ids costs a fraction of loading objects).  The awarding
# engine reads the same ids with a learner's badges and events (OPEN_CYCLE_IDS
# in its query), and hands them to after_award.
OPEN_CYCLE_IDS = select(CertificationCycle.id).where(
    CertificationCycle.learner_id == bindparam("learner_id"),
    CertificationCycle.status.in_((rules.ACTIVE, rules.GRACE)),
)
_OPEN_CYCLE_IDS_OF = Prepared(OPEN_CYCLE_IDS)
_CYCLES = (
    select(CertificationCycle)
    .where(CertificationCycle.id.in_(bindparam("ids", expanding=True)))
    .order_by(CertificationCycle.id)
)


def after_award(
    ctx: Context,
    uow: UnitOfWork,
    learner_id: int,
    *,
    actor: str,
    open_cycle_ids: Sequence[int] | None = None,
) -> list[str]:
    """Renew the learner's open auto-renew cycles that an award has just satisfied.

    Call inside the awarding transaction; returns the renewed cycles' public
    ids.  ``open_cycle_ids``: the learner's open cycles (:data:`OPEN_CYCLE_IDS`)
    when the caller has read them in this transaction already.
    """
    now = ctx.now()
    renewed: list[str] = []
    ids = (
        uow.core(_OPEN_CYCLE_IDS_OF, {"learner_id": learner_id}).scalars().all()
        if open_cycle_ids is None
        else list(open_cycle_ids)
    )
    if not ids:
        return renewed
    for cycle in uow.session.scalars(_CYCLES, {"ids": ids}):
        if not renewal_rules(cycle.policy.document).auto_renew:
            continue
        _, ledger = _ledger(uow, cycle, now)
        if ledger.satisfied and rules.status_at(_state(cycle), now) != rules.LAPSED:
            _renew(ctx, uow, cycle, actor=actor, now=now)
            renewed.append(cycle.public_id)
    return renewed


# ---------------------------------------------------------------- claim merges


def merge_into(
    ctx: Context,
    uow: UnitOfWork,
    duplicate: CertificationCycle,
    into: CertificationCycle,
    *,
    why: str,
    actor: str,
    now: datetime,
) -> None:
    """Close ``duplicate`` into ``into``, the open cycle of the same learner and policy.

    Called inside a claim's transaction when a placeholder learner with an
    open cycle merges into an account that already has one under the same
    policy (one open cycle per learner and policy).  The placeholder's badges
    and approved activities have moved to the account, so they count in
    ``into``'s ledger already.  ``duplicate`` closes: lapsed and superseded,
    its reason naming ``into``; its pending requests move to ``into`` where
    they still apply (else they are rejected, saying why); an open hiatus
    ends, and the certificate it suspended is reinstated unless ``into`` is on
    hiatus itself (then ``into``'s reactivation lifts it).  Its extensions
    and decided requests stay with it as history.
    """
    into_status = rules.status_at(_state(into), now)
    waiting = set(
        uow.session.scalars(
            select(CycleRequest.kind).where(
                CycleRequest.cycle_id == into.id, CycleRequest.status == "pending"
            )
        )
    )
    moved, rejected = [], []
    for row in uow.session.scalars(
        select(CycleRequest)
        .where(CycleRequest.cycle_id == duplicate.id, CycleRequest.status == "pending")
        .order_by(CycleRequest.id)
    ):
        applies = (
            row.kind == "extension"
            or (row.kind == "hiatus" and into_status in (rules.ACTIVE, rules.GRACE))
            or (row.kind == "reactivation" and into_status == rules.INACTIVE)
        )
        if applies and row.kind not in waiting:
            row.cycle_id, row.learner_id = into.id, into.learner_id
            waiting.add(row.kind)
            moved.append(row.public_id)
            continue
        row.status, row.decided_by, row.decided_at = "rejected", actor, now
        row.comment = f"the cycle was merged into {into.public_id}, " + (
            f"which has its own {row.kind} request waiting"
            if row.kind in waiting
            else f"which is {into_status}: a {row.kind} request no longer applies"
        )
        rejected.append(row.public_id)
    period = next((h for h in duplicate.hiatus_periods if h.ended_at is None), None)
    if period is not None:
        period.ended_at, period.ended_by = now, actor
        award = (
            uow.session.get(Award, period.suspended_award_id)
            if period.suspended_award_id is not None
            else None
        )
        into_period = next((h for h in into.hiatus_periods if h.ended_at is None), None)
        if award is not None and award.status == "suspended":
            if into_period is not None and into_period.suspended_award_id is None:
                into_period.suspended_award_id = award.id
            else:
                status.unsuspend_award(
                    ctx,
                    uow,
                    award,
                    actor=actor,
                    now=now,
                    reason="the hiatus of a merged cycle ended",
                )
    reason = f"merged into cycle {into.public_id}: {why}"
    from_status = duplicate.status
    duplicate.status, duplicate.status_reason, duplicate.status_changed_at = (
        rules.LAPSED,
        reason,
        now,
    )
    duplicate.open_policy_key = None
    duplicate.superseded_at = now
    uow.session.flush()
    audit.record(
        uow,
        actor=actor,
        action="cycle.merge",
        subject_type="certification_cycle",
        subject_id=duplicate.public_id,
        now=now,
        into=into.public_id,
        from_status=from_status,
        moved_requests=moved,
        rejected_requests=rejected,
        reason=reason,
    )


# ---------------------------------------------------------------- the daily job


def tick(ctx: Context, *, now: datetime) -> TickReport:
    """Move open cycles through grace and lapse, auto-renew, send due reminders.

    Idempotent: a second run at the same ``now`` changes nothing and sends
    nothing (reminders are recorded, unique per cycle and kind).  Each cycle
    is handled in its own transaction so one failure does not stop the rest.
    """
    if now.tzinfo is None:
        raise ValidationError("now", "needs a time zone")
    with ctx.uow() as uow:
        ids = list(
            uow.session.scalars(
                select(CertificationCycle.public_id)
                .where(CertificationCycle.status.in_((rules.ACTIVE, rules.GRACE)))
                .order_by(CertificationCycle.id)
            )
        )
    changes: list[TickChange] = []
    renewed: list[str] = []
    reminders: list[TickReminder] = []
    failures: list[tuple[str, str]] = []
    for public_id in ids:
        try:
            with ctx.uow() as uow:
                _tick_one(ctx, uow, public_id, now, changes, renewed, reminders)
        except DomainError as exc:
            failures.append((public_id, exc.message))
            log.warning("cycles tick: %s: %s", public_id, exc.message)
        except Exception as exc:  # one cycle must not stop the daily job
            failures.append((public_id, f"{type(exc).__name__} (see the log)"))
            log.exception("cycles tick: %s failed", public_id)
    return TickReport(
        now, len(ids), tuple(changes), tuple(renewed), tuple(reminders), tuple(failures)
    )


def _tick_one(
    ctx: Context,
    uow: UnitOfWork,
    public_id: str,
    now: datetime,
    changes: list[TickChange],
    renewed: list[str],
    reminders: list[TickReminder],
) -> None:
    cycle = _find_cycle(uow, public_id, lock=True)
    if cycle.status not in (rules.ACTIVE, rules.GRACE):
        return  # changed since the list was read
    state = _state(cycle)
    target = rules.status_at(state, now)
    _, ledger = _ledger(uow, cycle, now)
    if (
        target != rules.LAPSED
        and ledger.satisfied
        and renewal_rules(cycle.policy.document).auto_renew
    ):
        _renew(ctx, uow, cycle, actor=audit.SYSTEM, now=now)
        renewed.append(public_id)
        return
    move = rules.settle(state, now)
    sent = list(
        uow.session.scalars(select(CycleReminder.kind).where(CycleReminder.cycle_id == cycle.id))
    )
    if move is not None:
        _set_status(uow, cycle, move, actor=audit.SYSTEM, now=now)
        changes.append(
            TickChange(
                public_id, cycle.learner.display_name, move.from_status, move.to_status, move.reason
            )
        )
        lines = [
            move.reason[0].upper() + move.reason[1:] + ".",
            f"Counted so far: {ledger.counted_total} of {ledger.required_total} credits.",
        ]
        if move.to_status == rules.GRACE:
            # This mail is the grace period's first reminder: record it as such,
            # so the reminder below does not say the same again tomorrow.
            due = rules.reminder_due(_state(cycle), now, sent)
            if due is not None:
                _record_reminder(uow, cycle, due, now)
            lines.append(_grace_advice(ledger))
        _mail(
            ctx,
            uow,
            cycle.learner,
            f"{cycle.certification.name}: {'grace period' if move.to_status == rules.GRACE else 'lapsed'}",
            [*lines, f"Your progress: {_cycle_page(ctx)}"],
        )
        return
    due = rules.reminder_due(state, now, sent)
    # A satisfied active cycle can be renewed any day: nothing to remind of.  In
    # grace the learner is told all the same, or the cycle lapses unrenewed.
    if due is None or (ledger.satisfied and due.kind == rules.DEADLINE_REMINDER):
        return
    _record_reminder(uow, cycle, due, now)
    days = rules.days_until(due.deadline, now)
    reminders.append(TickReminder(public_id, cycle.learner.display_name, due.key, days))
    if due.kind == rules.GRACE_REMINDER:
        _mail(
            ctx,
            uow,
            cycle.learner,
            f"Grace period ends in {days} days: {cycle.certification.name}",
            [
                f"The renewal deadline has passed; your grace period ends on "
                f"{due.deadline:%d %B %Y} ({days} days from now). Then the certification lapses.",
                f"Counted so far: {ledger.counted_total} of {ledger.required_total} credits.",
                _grace_advice(ledger),
                *(f"- {r.reason}" for r in ledger.requirements if not r.met),
                "",
                f"Your progress: {_cycle_page(ctx)}",
            ],
        )
        return
    _mail(
        ctx,
        uow,
        cycle.learner,
        f"Renewal due in {days} days: {cycle.certification.name}",
        [
            f"Your renewal deadline is {due.deadline:%d %B %Y} ({days} days from now).",
            f"Counted so far: {ledger.counted_total} of {ledger.required_total} credits; "
            f"{ledger.remaining} to go.",
            *(f"- {r.reason}" for r in ledger.requirements if not r.met),
            "",
            f"See what still counts: {_cycle_page(ctx)}",
        ],
    )


def _grace_advice(ledger: Ledger) -> str:
    if ledger.satisfied:
        return "Every requirement is met: renew now from your renewal page."
    if ledger.remaining > 0:
        return f"{ledger.remaining} credits to go; renew as soon as every requirement is met."
    return "The total is reached, but not every requirement is met yet."


def _record_reminder(
    uow: UnitOfWork, cycle: CertificationCycle, due: rules.Reminder, now: datetime
) -> None:
    uow.session.add(CycleReminder(cycle_id=cycle.id, kind=due.key, sent_at=now))
    uow.session.flush()
    audit.record(
        uow,
        actor=audit.SYSTEM,
        action="cycle.reminder",
        subject_type="certification_cycle",
        subject_id=cycle.public_id,
        now=now,
        kind=due.key,
    )


# ---------------------------------------------------------------- the revocation cascade


def after_revocation(
    ctx: Context, uow: UnitOfWork, award: Award, *, actor: str, now: datetime
) -> list[str]:
    """Re-check renewed cycles that counted ``award`` (inside the revoking transaction).

    A cycle whose ledger is no longer satisfied goes to the review queue; when
    its policy says ``on_shortfall: suspend`` its renewal credential is
    suspended through the suspension status list.  Returns the cycles queued.
    """
    uow.session.flush()  # the ledger must not see the award as active any more
    queued = []
    for cycle in uow.session.scalars(
        select(CertificationCycle).where(
            CertificationCycle.learner_id == award.learner_id,
            CertificationCycle.status == rules.RENEWED,
            CertificationCycle.renewal_award_id.is_not(None),
        )
    ):
        if award.public_id not in (cycle.renewal_basis or {}).get("items", []):
            continue
        _, ledger = _ledger(uow, cycle, now)
        if ledger.satisfied:
            audit.record(
                uow,
                actor=actor,
                action="cycle.recheck",
                subject_type="certification_cycle",
                subject_id=cycle.public_id,
                now=now,
                revoked=award.public_id,
                satisfied=True,
                counted_total=str(ledger.counted_total),
            )
            continue
        unmet = "; ".join(r.reason for r in ledger.requirements if not r.met)
        reason = f"counted badge {award.public_id} ({award.achievement.name}) was revoked: {unmet}"
        credential = cycle.renewal_award
        suspend = renewal_rules(cycle.policy.document).on_shortfall == "suspend"
        if suspend and credential is not None and credential.status == "active":
            status.suspend_award(
                ctx, uow, credential, reason="renewal under review: " + unmet, actor=actor, now=now
            )
        cycle.review_state, cycle.review_reason = "pending", reason
        audit.record(
            uow,
            actor=actor,
            action="cycle.review_open",
            subject_type="certification_cycle",
            subject_id=cycle.public_id,
            now=now,
            revoked=award.public_id,
            suspended=bool(suspend and credential is not None),
            reason=reason,
        )
        queued.append(cycle.public_id)
    return queued


def review_queue(ctx: Context) -> list[ReviewItem]:
    """Renewed cycles waiting for a staff decision after a counted badge was revoked."""
    now = ctx.now()
    with ctx.uow() as uow:
        out = []
        for cycle in uow.session.scalars(
            select(CertificationCycle)
            .where(CertificationCycle.review_state == "pending")
            .order_by(CertificationCycle.id)
        ):
            _, ledger = _ledger(uow, cycle, now)
            out.append(
                ReviewItem(
                    _view(uow, cycle, now),
                    cycle.renewal_award.status if cycle.renewal_award else None,
                    ledger.counted_total,
                    ledger.required_total,
                    tuple(r.reason for r in ledger.requirements if not r.met),
                )
            )
        return out


def resolve_review(
    ctx: Context,
    cycle_public_id: str,
    *,
    decision: str,
    actor: str,
    comment: str | None = None,
) -> CycleView:
    """Reinstate (lift the suspension) or revoke the renewal credential under review."""
    if decision not in REVIEW_DECISIONS:
        raise ValidationError("decision", "reinstate or revoke")
    note = _clean(comment, "comment", required=decision == "revoke")
    now = ctx.now()
    with ctx.uow() as uow:
        cycle = _find_cycle(uow, cycle_public_id, lock=True)
        if cycle.review_state != "pending":
            raise Conflict("this cycle is not waiting for review")
        credential = cycle.renewal_award
        if credential is not None:
            if decision == "reinstate" and credential.status == "suspended":
                status.unsuspend_award(
                    ctx,
                    uow,
                    credential,
                    actor=actor,
                    now=now,
                    reason="renewal review" + (f": {note}" if note else ""),
                )
            elif decision == "revoke" and credential.status != "revoked":
                status.revoke_award(
                    ctx, uow, credential, reason=note or "renewal withdrawn", actor=actor, now=now
                )
        cycle.review_state = "reinstated" if decision == "reinstate" else "revoked"
        audit.record(
            uow,
            actor=actor,
            action="cycle.review_resolve",
            subject_type="certification_cycle",
            subject_id=cycle.public_id,
            now=now,
            decision=decision,
            comment=note,
        )
        _mail(
            ctx,
            uow,
            cycle.learner,
            f"Renewal review: {cycle.certification.name}",
            [
                "Your renewal credential was "
                + ("reinstated." if decision == "reinstate" else "revoked."),
                *([f"Comment: {note}"] if note else []),
            ],
        )
        return _view(uow, cycle, now)


def pending_count(ctx: Context) -> int:
    """How many requests wait for a decision (for the admin overview)."""
    with ctx.uow() as uow:
        return int(
            uow.session.scalar(
                select(func.count())
                .select_from(CycleRequest)
                .where(CycleRequest.status == "pending")
            )
            or 0
        )
