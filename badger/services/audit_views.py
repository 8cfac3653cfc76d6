"""Read models of the audit log for the admin console and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from badger.services import audit
from badger.services.context import Context


@dataclass(frozen=True)
class AuditLine:
    at: datetime
    actor: str
    action: str
    subject: str
    details: dict[str, Any]


def recent_entries(ctx: Context, limit: int = 50) -> list[AuditLine]:
    with ctx.uow() as uow:
        return [
            AuditLine(e.at, e.actor, e.action, f"{e.subject_type}:{e.subject_id}", dict(e.details))
            for e in audit.recent(uow, limit)
        ]
