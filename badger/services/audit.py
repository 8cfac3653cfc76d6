"""The append-only audit log: who did what to which thing, and why."""

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
    uow.session.add(
        AuditEntry(
            at=now,
            actor=actor,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            details=details,
        )
    )


def recent(uow: UnitOfWork, limit: int = 50) -> list[AuditEntry]:
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    return list(uow.session.scalars(stmt))
