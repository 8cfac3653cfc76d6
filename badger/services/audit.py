"""The append-only audit log: who did what to which thing, and why.

Entries are queued on the unit of work and written with one executemany just
before it commits (:meth:`UnitOfWork.insert_later`): an award writes three or
four of them, and one ORM insert each was a measurable share of its latency.
A rolled-back transaction or SAVEPOINT drops its queued entries with it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from badger.store.db import UnitOfWork
from badger.store.models import AuditEntry

SYSTEM = "system"


def record(
    uow: UnitOfWork,
    *,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    now: datetime,
    **details: Any,
) -> None:
    uow.insert_later(
        AuditEntry,
        {
            "at": now,
            "actor": actor,
            "action": action,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "details": details,
        },
    )


def recent(uow: UnitOfWork, limit: int = 50) -> list[AuditEntry]:
    uow.insert_queued()
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    return list(uow.session.scalars(stmt))
