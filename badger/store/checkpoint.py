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
the database file is gone.  A fork waits until no checkpoint is running (a
child forked while another thread is inside SQLite would hang), and the
connections close at exit so SQLite can remove the log.  SQLite's own rules keep the file safe either way:
a checkpoint is an optimisation of where committed pages live, never a
condition of a commit.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import sqlite3
import threading
import time
import weakref
from typing import Any

from sqlalchemy import Engine, event

log = logging.getLogger(__name__)

CHECKPOINT_INTERVAL = 0.5  # seconds between looks at the log
SAFETY_NET_PAGES = 20_000  # the writers' own checkpoint (about 80 MB of log)

THREAD_NAME = "badger-sqlite-checkpoint"  # followed by the database path

_started: dict[tuple[int, int], threading.Thread] = {}
_lock = threading.Lock()  # guards _started
# Held while a checkpoint thread is inside SQLite.  A fork (gunicorn starting
# its workers) waits for it: a child forked while another thread holds one of
# SQLite's internal mutexes would hang at its first query.
_in_sqlite = threading.Lock()
_open: set[sqlite3.Connection] = set()


def _before_fork() -> None:
    _lock.acquire()
    _in_sqlite.acquire()


def _after_fork() -> None:
    _in_sqlite.release()
    _lock.release()


def _after_fork_in_child() -> None:
    _open.clear()  # the parent's threads' connections: never used here
    _after_fork()


os.register_at_fork(
    before=_before_fork, after_in_parent=_after_fork, after_in_child=_after_fork_in_child
)


class _Stop:
    """Set when the engine is disposed (a plain flag: no lock to inherit at fork)."""

    def __init__(self) -> None:
        self.set = False


def attach(engine: Engine, path: str) -> None:
    """Checkpoint ``path`` (the engine's database file) from a background thread.

    The thread starts with the engine's first connection in each process (a
    forked web worker starts its own), so an engine that never connects costs
    nothing.
    """
    ref = weakref.ref(engine)
    stop = _Stop()
    event.listen(engine, "connect", lambda *_: _ensure_thread(ref, path, stop))
    event.listen(engine, "engine_disposed", lambda *_: setattr(stop, "set", True))


def _ensure_thread(ref: weakref.ref[Engine], path: str, stop: _Stop) -> None:
    key = (os.getpid(), id(stop))
    with _lock:
        if key in _started:
            return
        stop.set = False  # connecting again after dispose(): start afresh
        thread = threading.Thread(
            target=_run,
            args=(ref, path, stop),
            name=f"{THREAD_NAME} {path}",
            daemon=True,
        )
        _started[key] = thread
    thread.start()


def _run(ref: weakref.ref[Engine], path: str, stop: _Stop) -> None:
    key = (os.getpid(), id(stop))
    if hasattr(signal, "pthread_sigmask"):
        # Signals are the main thread's: a SIGTERM the kernel handed to this
        # thread would not wake a gunicorn worker waiting in select().
        signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    conn: sqlite3.Connection | None = None
    try:
        while True:
            time.sleep(CHECKPOINT_INTERVAL)
            if stop.set or ref() is None or not os.path.exists(path):
                return
            with _in_sqlite:
                try:
                    if conn is None:
                        conn = sqlite3.connect(
                            path, timeout=0, isolation_level=None, check_same_thread=False
                        )
                        _open.add(conn)
                    checkpoint(conn)
                except sqlite3.Error as exc:  # busy, locked, file replaced: later
                    log.debug("checkpoint of %s skipped: %s", path, exc)
                    conn = _close(conn)
    finally:
        with _in_sqlite:
            _close(conn)
        with _lock:
            _started.pop(key, None)


def _close(conn: sqlite3.Connection | None) -> None:
    if conn is not None:
        _open.discard(conn)
        conn.close()


@atexit.register
def _close_all() -> None:
    """Close the checkpoint connections at exit, so SQLite tidies the log away.

    (The last connection to close checkpoints the log and deletes it; a
    daemon thread's connection left open would leave the log behind.)
    """
    with _in_sqlite:
        for conn in list(_open):
            _close(conn)


def checkpoint(conn: Any) -> tuple[int, int, int]:
    """One passive checkpoint: SQLite's (busy, log pages, pages checkpointed).

    Cheap when there is nothing new to copy; a database not in WAL mode
    answers ``(0, -1, -1)`` and is left alone.
    """
    busy, pages, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return busy, pages, done
