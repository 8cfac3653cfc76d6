"""Entry points for RQ workers (``badger worker``).

Each job builds its own context from the BADGER_* environment, like a web
worker does, and runs one idempotent use case.
"""

from __future__ import annotations

from badger.config import load_settings
from badger.services import bulk
from badger.services.context import build_context


def run_bulk_job(job_public_id: str) -> dict[str, object]:
    ctx = build_context(load_settings())
    try:
        return bulk.run_job(ctx, job_public_id).as_json()
    finally:
        ctx.engine.dispose()
