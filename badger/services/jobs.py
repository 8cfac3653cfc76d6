"""Background jobs: a port with an in-process and a Redis (RQ) implementation.

The embedded default runs a job in a thread of the same process; with
``BADGER_REDIS_URL`` jobs go to an RQ queue on Redis and run in ``badger
worker`` processes.  Jobs are idempotent and resumable (bulk issue records every
row's outcome), so a worker that dies mid-job loses nothing: run it again.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Protocol

from badger.config import Settings

if TYPE_CHECKING:
    from badger.services.context import Context

log = logging.getLogger(__name__)
QUEUE_NAME = "badger"


class JobQueue(Protocol):
    def enqueue_bulk(self, job_public_id: str) -> str:
        """Start the bulk job; returns a short description of where it runs."""
        ...


class InProcessQueue:
    """Runs jobs in a daemon thread of this process (embedded default)."""

    def __init__(self) -> None:
        self.context: Context | None = None

    def enqueue_bulk(self, job_public_id: str) -> str:
        from badger.services import bulk

        ctx = self.context
        if ctx is None:  # pragma: no cover - build_context always binds it
            raise RuntimeError("in-process queue has no context")

        def run() -> None:
            try:
                bulk.run_job(ctx, job_public_id)
            except Exception:  # the row outcomes already explain what failed
                log.exception(
                    "bulk job %s stopped; `badger jobs resume` continues it", job_public_id
                )

        threading.Thread(target=run, name=f"bulk-{job_public_id}", daemon=True).start()
        return "in this process"


class RedisQueue:
    """RQ on Redis: ``badger worker`` processes pick the jobs up."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _queue(self):  # type: ignore[no-untyped-def]
        from redis import Redis
        from rq import Queue

        return Queue(QUEUE_NAME, connection=Redis.from_url(self.url))

    def enqueue_bulk(self, job_public_id: str) -> str:
        job = self._queue().enqueue(
            "badger.worker.run_bulk_job",
            job_public_id,
            job_timeout=6 * 3600,
            result_ttl=86400,
            job_id=f"bulk-{job_public_id}",
        )
        return f"queued as RQ job {job.id}"


def make_queue(settings: Settings) -> JobQueue:
    return RedisQueue(settings.redis_url) if settings.redis_url else InProcessQueue()
