"""Bitstring Status Lists: allocating an award's bits, revoking, suspending.

Each issuer has a revocation list and a suspension list (W3C Bitstring Status
List v1.0; 131,072 entries each, a new list once one is full).  Every award
gets a random index in both at issue time.  Flipping a bit re-signs that list's
``BitstringStatusListCredential`` in the same transaction, so what is served
is always signed and current; the OB 2.0 RevocationList and the 410 answers for
hosted assertions follow the award's status.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, bindparam, case, func, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from badger.credentials import status_list as bsl
from badger.credentials.model import format_datetime, to_json_bytes
from badger.domain.errors import Conflict, NotFound, ValidationError
from badger.proofs.signing import add_data_integrity_proof
from badger.services import audit
from badger.services.context import Context
from badger.services.identity import IssuerIdentity, for_issuer, status_list_url
from badger.store.db import UnitOfWork, column_default
from badger.store.models import Award, Issuer, StatusAllocation, StatusList, StatusListContent
from badger.store.prepared import Prepared

PURPOSES = ("revocation", "suspension")
LIST_SIZE = bsl.DEFAULT_LENGTH
MAX_REASON = 500


@dataclass(frozen=True)
class StatusChange:
    award_public_id: str
    status: str
    reason: str | None


def sign_list(ctx: Context, status: StatusList, identity: IssuerIdentity, now: datetime) -> None:
    """(Re-)sign the list's credential from its current bits and keep it on the row."""
    url = status_list_url(ctx.settings, status.public_id)
    bits = bsl.Bitstring.from_bytes(status.content.bits)
    credential = bsl.status_list_credential(
        url,
        # A plain id: "Profile" is an OB term, undefined under the VC context alone.
        identity.issuer_id,
        status.purpose,
        bsl.encode_list(bits),
        format_datetime(now),
    )
    signed = add_data_integrity_proof(
        credential, ctx.keystore, identity.slug, identity.verification_method, now
    )
    status.content.document = to_json_bytes(signed)
    status.content.updated_at = now


def allocate(
    ctx: Context,
    uow: UnitOfWork,
    issuer: Issuer,
    identity: IssuerIdentity,
    award: Award,
    purpose: str,
    now: datetime,
) -> tuple[str, int]:
    """Give ``award`` a random free index in the issuer's open ``purpose`` list."""
    return allocate_all(ctx, uow, issuer, identity, award, (purpose,), now)[purpose]


# Built once: the award path runs it for every award, and building a
# statement costs more than SQLite takes to run it.  It takes a slot in the
# issuer's oldest open list of each purpose and returns those lists: the
# counter bump is the lock (on PostgreSQL a concurrent award waits for it,
# then re-checks ``allocated < size`` on the row it waited for, and a list
# that has just filled up returns nothing, so a new one opens).
_LISTS = StatusList.__table__
_TAKE = (
    update(_LISTS)
    .where(
        _LISTS.c.id.in_(
            select(func.min(_LISTS.c.id))
            .where(
                _LISTS.c.issuer_id == bindparam("of_issuer"),
                _LISTS.c.purpose.in_(bindparam("of_purposes", expanding=True)),
                _LISTS.c.allocated < _LISTS.c.size,
            )
            .group_by(_LISTS.c.purpose)
        ),
        _LISTS.c.allocated < _LISTS.c.size,
    )
    .values(allocated=_LISTS.c.allocated + 1, updated_at=bindparam("at"))
    .returning(_LISTS.c.id, _LISTS.c.public_id, _LISTS.c.purpose, _LISTS.c.size)
)
_TAKE_SLOTS = Prepared(_TAKE)
_ALLOCATIONS = StatusAllocation.__table__
_DRAW_RANGE = 2**62


def _index_of(taken: Any, purposes: int) -> Any:
    """``random_<n> % size`` for the list ``taken`` of ``purpose_<n>``: the index to try."""
    return case(
        *(
            (
                taken.c.purpose == bindparam(f"purpose_{n}"),
                bindparam(f"random_{n}", type_=BigInteger) % taken.c.size,
            )
            for n in range(purposes)
        )
    )


def _placed(rows: Any) -> Any:
    """A CTE that inserts ``rows`` (list id, award id, index) unless the index is taken."""
    return (
        pg_insert(_ALLOCATIONS)
        .from_select(["status_list_id", "award_id", "index"], rows)
        .on_conflict_do_nothing(index_elements=["status_list_id", "index"])
        .returning(_ALLOCATIONS.c.status_list_id, _ALLOCATIONS.c.index)
        .cte("placed")
    )


@functools.cache
def _take_and_place(purposes: int) -> Prepared:
    """PostgreSQL: :data:`_TAKE_SLOTS` and the index inserts as one statement (one round trip).

    A data-modifying CTE takes the slots; the insert that follows puts the
    award at index ``random % size`` of each list it got (``random`` drawn
    by ``secrets`` for each purpose, named ``purpose_<n>`` and
    ``random_<n>``), skipping an index already taken.  Each row returned is
    a list taken, with the index placed in it or ``None`` (a collision: the
    caller draws again).  A purpose with no open list returns no row.
    """
    taken = _TAKE.cte("taken")
    placed = _placed(
        select(taken.c.id, bindparam("award", type_=Integer), _index_of(taken, purposes))
    )
    return Prepared(
        select(
            taken.c.id, taken.c.public_id, taken.c.purpose, taken.c.size, placed.c.index
        ).select_from(taken.outerjoin(placed, placed.c.status_list_id == taken.c.id))
    )


_AWARDS = Award.__table__
_AWARD_KEY = ("learner_id", "achievement_id", "cycle_key")


# Every column but the id, each value a parameter named award_<column>: a
# name no table's column has, so that compiling the statement for its
# parameters (Prepared) adds no SET clause to the status list's UPDATE.
_AWARD_COLUMNS = tuple(c for c in _AWARDS.c if not c.primary_key)


@functools.cache
def _insert_take_and_place(purposes: int) -> Prepared:
    """PostgreSQL: the award's insert, then :func:`_take_and_place`, as one statement.

    ``INSERT INTO award … ON CONFLICT (learner, achievement, cycle) DO
    NOTHING`` in a data-modifying CTE; the slots are taken only when it
    inserted the row, and the indexes placed for the id it got.  Each row
    returned is the award's id, then a list taken as :func:`_take_and_place`
    returns it (``None`` there: no open list).  No row: the learner holds
    the achievement already, and nothing was written.  Only the id comes
    back: the caller knows the other columns (the JSON ones, parsed again,
    cost more than the rest of the row).
    """
    award = (
        pg_insert(_AWARDS)
        .values({c.key: bindparam(f"award_{c.key}", type_=c.type) for c in _AWARD_COLUMNS})
        .on_conflict_do_nothing(index_elements=list(_AWARD_KEY))
        .returning(_AWARDS.c.id)
        .cte("new_award")
    )
    taken = _TAKE.where(select(award.c.id).exists()).cte("taken")
    placed = _placed(
        select(taken.c.id, award.c.id, _index_of(taken, purposes)).select_from(
            taken.join(award, true())
        )
    )
    return Prepared(
        select(
            award.c.id, taken.c.id, taken.c.public_id, taken.c.purpose, taken.c.size, placed.c.index
        ).select_from(
            award.outerjoin(taken, true()).outerjoin(placed, placed.c.status_list_id == taken.c.id)
        )
    )


_LOCK_ISSUER = Prepared(
    select(Issuer.__table__.c.id)
    .where(Issuer.__table__.c.id == bindparam("of_issuer"))
    # FOR NO KEY UPDATE: it must not wait for the key-share locks that every
    # award's foreign key to its issuer takes (FOR UPDATE would deadlock
    # two awards that each hold one), only for another list opener.
    .with_for_update(key_share=True)
)


@dataclass(frozen=True)
class _OpenList:
    id: int
    public_id: str
    size: int


def _take_slots(
    uow: UnitOfWork,
    issuer: Issuer,
    purposes: tuple[str, ...],
    now: datetime,
    into: dict[str, _OpenList | StatusList],
) -> None:
    """A slot in the issuer's open list of each purpose that has one, put in ``into``."""
    for list_id, public_id, purpose, size in uow.core(
        _TAKE_SLOTS, {"of_issuer": issuer.id, "of_purposes": list(purposes), "at": now}
    ):
        into[purpose] = _OpenList(list_id, public_id, size)


def _draws(issuer: Issuer, purposes: tuple[str, ...], now: datetime) -> dict[str, Any]:
    """The parameters of :func:`_take_and_place`: the issuer, the purposes, a draw for each."""
    values: dict[str, Any] = {"of_issuer": issuer.id, "of_purposes": list(purposes), "at": now}
    for n, purpose in enumerate(purposes):
        # The list's size is known only inside the statement: a draw below
        # 2**62 (bsl.choose_index, secrets) reduced modulo the size there is
        # uniform to within size / 2**62.
        values[f"purpose_{n}"] = purpose
        values[f"random_{n}"] = bsl.choose_index((), _DRAW_RANGE)
    return values


def _got(rows: Any) -> tuple[dict[str, _OpenList | StatusList], dict[str, int]]:
    """The lists taken and the indexes placed, from rows as :func:`_take_and_place` returns them."""
    lists: dict[str, _OpenList | StatusList] = {}
    chosen: dict[str, int] = {}
    for list_id, public_id, purpose, size, index in rows:
        if list_id is None:  # no open list at all (an award inserted without one)
            continue
        lists[purpose] = _OpenList(list_id, public_id, size)
        if index is not None:
            chosen[purpose] = index
    return lists, chosen


def insert_and_allocate(
    ctx: Context,
    uow: UnitOfWork,
    issuer: Issuer,
    identity: IssuerIdentity,
    values: dict[str, Any],
    purposes: tuple[str, ...],
    now: datetime,
) -> tuple[Award, dict[str, tuple[str, int]]] | None:
    """PostgreSQL: insert the award (``values``) and give it its status entries, as one statement.

    The award is inserted unless the learner holds the achievement in that
    cycle already (then ``None``, and nothing was written: a concurrent
    award of the same makes this wait for its outcome, as
    ``UnitOfWork.insert_loaded_unless`` does); otherwise the new award,
    loaded as that would return it, and :func:`allocate_all`'s entries.  An
    award's insert and its first status draws cost one round trip, not two.
    """
    if not uow.on_postgresql:
        raise RuntimeError("insert_and_allocate: PostgreSQL only (data-modifying CTEs)")
    params = _draws(issuer, purposes, now)
    for column in _AWARD_COLUMNS:
        params[f"award_{column.key}"] = (
            values[column.key] if column.key in values else column_default(column)
        )
    rows = uow.core(_insert_take_and_place(len(purposes)), params).all()
    if not rows:
        return None
    award = uow.adopt_inserted(
        Award,
        tuple(
            rows[0][0] if column.primary_key else params[f"award_{column.key}"]
            for column in _AWARDS.c
        ),
    )
    lists, chosen = _got(row[1:] for row in rows)
    return award, _complete(ctx, uow, issuer, identity, award, purposes, now, lists, chosen)


def allocate_all(
    ctx: Context,
    uow: UnitOfWork,
    issuer: Issuer,
    identity: IssuerIdentity,
    award: Award,
    purposes: tuple[str, ...],
    now: datetime,
) -> dict[str, tuple[str, int]]:
    """:func:`allocate` for several purposes at once: list URL and index per purpose.

    One statement takes a slot in each purpose's open list (counter bumped,
    list locked), one inserts the random indexes: an award needs a
    revocation and a suspension entry, in two round trips rather than
    allocating them one by one; on PostgreSQL both are one statement
    (:func:`_take_and_place`).  Core statements throughout: nothing here
    needs the list rows as objects unless a list has to be opened.
    """
    if uow.on_postgresql:  # slots and a first draw of each index, one statement
        values = _draws(issuer, purposes, now)
        values["award"] = award.id
        lists, chosen = _got(uow.core(_take_and_place(len(purposes)), values))
    else:
        lists, chosen = {}, {}
        _take_slots(uow, issuer, purposes, now, lists)
    return _complete(ctx, uow, issuer, identity, award, purposes, now, lists, chosen)


def _complete(
    ctx: Context,
    uow: UnitOfWork,
    issuer: Issuer,
    identity: IssuerIdentity,
    award: Award,
    purposes: tuple[str, ...],
    now: datetime,
    lists: dict[str, _OpenList | StatusList],
    chosen: dict[str, int],
) -> dict[str, tuple[str, int]]:
    """The rest of :func:`allocate_all` once the first statement took ``lists`` and placed ``chosen``.

    Opens a list for each purpose that had none open, and draws again for
    each list without an index placed yet.
    """
    session = uow.session
    missing = tuple(p for p in purposes if p not in lists)
    if missing:
        # None open (the first award, or a list just filled up).  Opening one
        # is serialised per issuer: a concurrent award that found none either
        # waits here, then takes a slot in the list this one opened, instead
        # of every such award opening lists of its own.
        uow.core(_LOCK_ISSUER, {"of_issuer": issuer.id})
        _take_slots(uow, issuer, missing, now, lists)
    for purpose in purposes:
        if purpose not in lists:  # none yet, or all full: open one, this slot taken
            status = StatusList(
                issuer_id=issuer.id,
                purpose=purpose,
                size=LIST_SIZE,
                allocated=1,
                content=StatusListContent(bits=bytes(LIST_SIZE // 8), updated_at=now),
            )
            session.add(status)
            session.flush()
            sign_list(ctx, status, identity, now)
            lists[purpose] = status
    # A random free index per list: the insert skips an index already taken
    # (ON CONFLICT DO NOTHING) and returns the lists it got one in; a
    # collision, rare in a list with room, draws again for that list only.
    for _ in range(16):
        if len(chosen) == len(purposes):
            break
        trial = {
            purpose: bsl.choose_index((), lists[purpose].size)
            for purpose in purposes
            if purpose not in chosen
        }
        got = {
            list_id
            for (list_id,) in uow.insert_skipping(
                StatusAllocation.__table__,
                ("status_list_id", "index"),
                ("status_list_id",),
                [
                    {"status_list_id": lists[p].id, "award_id": award.id, "index": index}
                    for p, index in trial.items()
                ],
            )
        }
        chosen.update((p, index) for p, index in trial.items() if lists[p].id in got)
    if len(chosen) != len(purposes):  # pragma: no cover - 16 collisions in a list with room
        raise Conflict("could not find a free status index; try again")
    return {p: (status_list_url(ctx.settings, lists[p].public_id), chosen[p]) for p in purposes}


def _allocation(uow: UnitOfWork, award: Award, purpose: str) -> tuple[StatusList, int]:
    row = uow.session.execute(
        select(StatusList, StatusAllocation.index)
        .join(StatusAllocation, StatusAllocation.status_list_id == StatusList.id)
        .where(StatusAllocation.award_id == award.id, StatusList.purpose == purpose)
        .with_for_update(of=StatusList)
    ).first()
    if row is None:
        raise NotFound(f"award {award.public_id} has no {purpose} status entry")
    return row[0], row[1]


def _flip(
    ctx: Context, uow: UnitOfWork, award: Award, purpose: str, value: bool, now: datetime
) -> None:
    status, index = _allocation(uow, award, purpose)
    bits = bsl.Bitstring.from_bytes(status.content.bits)
    bits.set(index, value)
    status.content.bits = bits.to_bytes()
    sign_list(ctx, status, for_issuer(ctx, award.issuer), now)


def _find_award(uow: UnitOfWork, award_id: str) -> Award:
    award = uow.session.scalar(select(Award).where(Award.public_id == award_id))
    if award is None:
        raise NotFound(f"no award {award_id}")
    return award


def _clean_reason(reason: str | None, required: bool) -> str | None:
    text = (reason or "").strip()
    if required and not text:
        raise ValidationError("reason", "say why (it is published with the revocation)")
    if len(text) > MAX_REASON:
        raise ValidationError("reason", f"at most {MAX_REASON} characters")
    return text or None


def revoke(ctx: Context, award_id: str, *, reason: str, actor: str) -> StatusChange:
    """Revoke for good: revocation bit set, OB 2.0 list and hosted 410 follow."""
    text = _clean_reason(reason, required=True)
    now = ctx.now()
    with ctx.uow() as uow:
        return revoke_award(ctx, uow, _find_award(uow, award_id), reason=text, actor=actor, now=now)


def revoke_award(
    ctx: Context, uow: UnitOfWork, award: Award, *, reason: str | None, actor: str, now: datetime
) -> StatusChange:
    """:func:`revoke` inside the caller's transaction (the reason already checked).

    Renewed certification cycles that counted the award are re-checked in the
    same transaction (the revocation cascade, :mod:`badger.services.cycles`).
    """
    if award.status == "revoked":
        raise Conflict(f"award {award.public_id} is already revoked")
    _flip(ctx, uow, award, "revocation", True, now)
    # A renewal credential carries only its suspension entry (the OB schema allows
    # one credentialStatus; badger.services.renewal): revoking it sets that bit
    # for good instead of clearing it, or its OB 3.0 renderings would read valid.
    suspension_only = (award.basis or {}).get("status_purpose") == "suspension"
    if suspension_only and award.status != "suspended":
        _flip(ctx, uow, award, "suspension", True, now)
    elif award.status == "suspended" and not suspension_only:
        _flip(ctx, uow, award, "suspension", False, now)
    award.status, award.status_reason, award.status_changed_at = "revoked", reason, now
    audit.record(
        uow,
        actor=actor,
        action="award.revoke",
        subject_type="award",
        subject_id=award.public_id,
        now=now,
        reason=reason,
    )
    # Imported here: cycles builds on this module (suspension of renewal credentials).
    from badger.services import cycles

    cycles.after_revocation(ctx, uow, award, actor=actor, now=now)
    return StatusChange(award.public_id, award.status, reason)


def suspend(ctx: Context, award_id: str, *, reason: str | None, actor: str) -> StatusChange:
    text = _clean_reason(reason, required=False)
    now = ctx.now()
    with ctx.uow() as uow:
        return suspend_award(
            ctx, uow, _find_award(uow, award_id), reason=text, actor=actor, now=now
        )


def suspend_award(
    ctx: Context, uow: UnitOfWork, award: Award, *, reason: str | None, actor: str, now: datetime
) -> StatusChange:
    """:func:`suspend` inside the caller's transaction."""
    if award.status != "active":
        raise Conflict(
            f"award {award.public_id} is {award.status}; only an active award can be suspended"
        )
    _flip(ctx, uow, award, "suspension", True, now)
    award.status, award.status_reason, award.status_changed_at = "suspended", reason, now
    audit.record(
        uow,
        actor=actor,
        action="award.suspend",
        subject_type="award",
        subject_id=award.public_id,
        now=now,
        reason=reason,
    )
    return StatusChange(award.public_id, award.status, reason)


def unsuspend(
    ctx: Context, award_id: str, *, actor: str, reason: str | None = None
) -> StatusChange:
    """Lift a suspension; ``reason`` (optional) says why and is kept with the award."""
    text = _clean_reason(reason, required=False)
    now = ctx.now()
    with ctx.uow() as uow:
        return unsuspend_award(
            ctx, uow, _find_award(uow, award_id), actor=actor, now=now, reason=text
        )


def unsuspend_award(
    ctx: Context,
    uow: UnitOfWork,
    award: Award,
    *,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> StatusChange:
    """:func:`unsuspend` inside the caller's transaction (the reason already checked).

    The suspension's reason no longer describes the award: ``status_reason``
    becomes "reinstated: <reason>", or nothing without a reason.  The audit
    entry keeps both.
    """
    if award.status != "suspended":
        raise Conflict(f"award {award.public_id} is {award.status}, not suspended")
    _flip(ctx, uow, award, "suspension", False, now)
    suspended_for = award.status_reason
    status_reason = f"reinstated: {reason}" if reason else None
    award.status, award.status_reason, award.status_changed_at = "active", status_reason, now
    audit.record(
        uow,
        actor=actor,
        action="award.unsuspend",
        subject_type="award",
        subject_id=award.public_id,
        now=now,
        reason=reason,
        suspended_for=suspended_for,
    )
    return StatusChange(award.public_id, award.status, reason)


def status_list_document(ctx: Context, list_public_id: str) -> tuple[bytes, datetime]:
    """The signed list credential as stored, and when it last changed (for caching)."""
    with ctx.uow() as uow:
        row = uow.session.scalar(
            select(StatusListContent).join(StatusList).where(StatusList.public_id == list_public_id)
        )
        if row is None or row.document is None:
            raise NotFound(f"no status list {list_public_id}")
        return row.document, row.updated_at
