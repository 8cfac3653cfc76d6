"""Small test doubles and helpers shared by several test modules."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from badger.verify.fetch import MemoryFetcher
from badger.verify.ports import FetchedDocument


def json_fetcher(documents: Mapping[str, object] | None = None) -> MemoryFetcher:
    """badger's :class:`MemoryFetcher` serving plain JSON values by URL.

    A value that is already a :class:`FetchedDocument` is served as it stands
    (status, content type and body), so a test can answer 404 or plain text.
    Every other URL fails to connect.
    """
    fetcher = MemoryFetcher()
    for url, document in (documents or {}).items():
        if isinstance(document, FetchedDocument):
            fetcher.add(
                url, document.body, status=document.status, content_type=document.content_type
            )
        else:
            fetcher.add(url, document, content_type="application/json")  # type: ignore[arg-type]
    return fetcher


def race(
    threads: int, work: Callable[[int], Any], *, timeout: float = 60
) -> tuple[list[Any], list[BaseException]]:
    """Run ``work(n)`` in ``threads`` threads released at once; what they returned and raised.

    Each thread waits at a barrier until all have started, so their
    transactions really overlap.  A thread still running after ``timeout``
    seconds is left behind (its result is missing from both lists).
    """
    barrier = threading.Barrier(threads)
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(n: int) -> None:
        barrier.wait()
        try:
            results.append(work(n))
        except Exception as exc:
            errors.append(exc)

    started = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(timeout)
    return results, errors


@contextmanager
def statements_sent(engine: Any) -> Iterator[list[str]]:
    """The SQL statements ``engine`` sends inside the block, whitespace collapsed."""
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)
