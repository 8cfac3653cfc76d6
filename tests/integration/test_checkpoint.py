"""SQLite WAL checkpoints run in a background thread, not in a committing writer."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from badger.store import checkpoint
from badger.store.db import make_engine


def _threads(path: Path | None = None) -> list[threading.Thread]:
    """This test's checkpoint threads (other tests' engines may have their own)."""
    return [
        t
        for t in threading.enumerate()
        if t.name.startswith(checkpoint.THREAD_NAME)
        and (path is None or t.name == f"{checkpoint.THREAD_NAME} {path}")
    ]


def _wait_for(condition: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def fast_checkpoints(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, int, int]]:
    """Checkpoint every 20 ms and record what each checkpoint did, with its file.

    Other tests' engines may still have threads checkpointing their own files
    in this process: the file tells this test's checkpoints apart.
    """
    monkeypatch.setattr(checkpoint, "CHECKPOINT_INTERVAL", 0.02)
    results: list[tuple[str, int, int, int]] = []
    real = checkpoint.checkpoint

    def recording(conn: Any) -> tuple[int, int, int]:
        result = real(conn)
        file = conn.execute("PRAGMA database_list").fetchone()[2]
        results.append((file, *result))
        return result

    monkeypatch.setattr(checkpoint, "checkpoint", recording)
    return results


def test_writers_sync_normally_and_checkpoint_only_as_a_safety_net(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
            assert (
                conn.execute(text("PRAGMA wal_autocheckpoint")).scalar()
                == checkpoint.SAFETY_NET_PAGES
            )
    finally:
        engine.dispose()


def test_the_background_thread_copies_committed_pages_into_the_database(
    tmp_path: Path, fast_checkpoints: list[tuple[str, int, int, int]]
) -> None:
    path = tmp_path / "b.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (v TEXT)"))
            conn.execute(text("INSERT INTO t VALUES (:v)"), [{"v": "x" * 500}] * 200)
        assert _wait_for(
            lambda: any(
                file == str(path) and done > 0 and done == pages
                for file, _, pages, done in fast_checkpoints
            )
        )
        # The rows are in the database file itself, readable without the log.
        assert path.stat().st_size > 200 * 500
    finally:
        engine.dispose()
    assert _wait_for(lambda: not _threads(path))


def test_the_thread_stops_when_the_engine_is_disposed_and_restarts_on_reconnect(
    tmp_path: Path, fast_checkpoints: list[tuple[str, int, int, int]]
) -> None:
    path = tmp_path / "b.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert _wait_for(lambda: len(_threads(path)) == 1)
    engine.dispose()
    assert _wait_for(lambda: not _threads(path))
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert _wait_for(lambda: len(_threads(path)) == 1)
    engine.dispose()
    assert _wait_for(lambda: not _threads(path))


def test_an_in_memory_database_gets_no_thread() -> None:
    before = set(_threads())
    engine = make_engine("sqlite://")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        time.sleep(0.05)
        assert set(_threads()) <= before
    finally:
        engine.dispose()


def test_a_removed_database_file_ends_the_thread(
    tmp_path: Path, fast_checkpoints: list[tuple[str, int, int, int]]
) -> None:
    path = tmp_path / "b.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert _wait_for(lambda: len(_threads(path)) == 1)
    try:
        for leftover in tmp_path.iterdir():  # the engine still holds its connections
            leftover.unlink()
        assert _wait_for(lambda: not _threads(path))
    finally:
        engine.dispose()
