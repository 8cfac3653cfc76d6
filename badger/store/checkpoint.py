"""SQLite WAL checkpoints off the request path.

In WAL mode SQLite copies the log back into the database file (a
*checkpoint*) whenever a commit leaves the log over ``wal_autocheckpoint``
pages.  That commit then pays for copying and syncing every page: on the
award path, one event in about eighty took three times as long as the rest.
So each process that opens a badger SQLite file runs the checkpoints from a
daemon thread of its own instead, with ``PRAGMA wal_checkpoint(PASSIVE)``
(it never blocks readers or writers), every :data:`CHECKPOINT_INTERVAL`
seconds.

The writers' own automatic checkpoint stays as a safety net, set high
(:data:`SAFETY_NET_PAGES`): it fires only if this thread falls far behind.
The thread stops when its engine is disposed or garbage-collected, or when
the database file is gone.  SQLite's own rules keep the file safe either way:
a checkpoint is an optimisation of where committed pages live, never a
condition of a commit.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import weakref
from typing import Any

from sqlalchemy import Engine, event

log = logging.getLogger(__name__)

CHECKPOINT_INTERVAL = 0.5  # seconds between looks at the log
SAFETY_NET_PAGES = 20_000  # the writers' own checkpoint (about 80 MB of log)

THREAD_NAME = "badger-sqlite-checkpoint"  # followed by the database path

_started: dict[tuple[int, int], threading.Thread] = {}
_lock = threading.Lock()


def attach(engine: Engine, path: str) -> None:
    """Checkpoint ``path`` (the engine's database file) from a background thread.

    The thread starts with the engine's first connection in each process (a
    forked web worker starts its own), so an engine that never connects costs
    nothing.
    """
    ref = weakref.ref(engine)
    stop = threading.Event()
    event.listen(engine, "connect", lambda *_: _ensure_thread(ref, path, stop))
    event.listen(engine, "engine_disposed", lambda *_: stop.set())


def _ensure_thread(ref: weakref.ref[Engine], path: str, stop: threading.Event) -> None:
    key = (os.getpid(), id(stop))
    with _lock:
        if key in _started:
            return
        if stop.is_set():  # connecting again after dispose(): start afresh
            stop.clear()
        thread = threading.Thread(
            target=_run,
            args=(ref, path, stop),
            name=f"{THREAD_NAME} {path}",
            daemon=True,
        )
        _started[key] = thread
    thread.start()


def _run(ref: weakref.ref[Engine], path: str, stop: threading.Event) -> None:
    key = (os.getpid(), id(stop))
    conn: sqlite3.Connection | None = None
    try:
        while not stop.wait(CHECKPOINT_INTERVAL):
            if ref() is None or not os.path.exists(path):
                return
            try:
                if conn is None:
                    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
                checkpoint(conn)
            except sqlite3.Error as exc:  # busy, locked, file replaced: try again later
                log.debug("checkpoint of %s skipped: %s", path, exc)
                if conn is not None:
                    conn.close()
                    conn = None
    finally:
        if conn is not None:
            conn.close()
        with _lock:
            _started.pop(key, None)


def checkpoint(conn: Any) -> tuple[int, int, int]:
    """One passive checkpoint: SQLite's (busy, log pages, pages checkpointed).

    Cheap when there is nothing new to copy; a database not in WAL mode
    answers ``(0, -1, -1)`` and is left alone.
    """
    busy, pages, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return busy, pages, done
