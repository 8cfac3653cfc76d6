"""Engine settings: pooled PostgreSQL connections are tested only after sitting idle."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from badger.store import db
from badger.store.db import make_engine

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_engine(engine, db_backend):
    if db_backend != "postgresql":
        pytest.skip("PostgreSQL pool behaviour")
    own = make_engine(engine.url.render_as_string(hide_password=False), pool_size=1)
    yield own
    own.dispose()


def _pid(conn):
    return conn.execute(text("SELECT pg_backend_pid()")).scalar()


def test_a_connection_back_from_use_is_not_pinged_again(pg_engine, monkeypatch):
    pings = []
    real = pg_engine.dialect.do_ping
    monkeypatch.setattr(pg_engine.dialect, "do_ping", lambda c: pings.append(1) or real(c))
    with pg_engine.connect() as conn:
        first = _pid(conn)
    with pg_engine.connect() as conn:
        assert _pid(conn) == first
    assert pings == []  # just opened, then checked in a moment ago: no round trip
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)  # as if it had sat idle
    with pg_engine.connect() as conn:
        assert _pid(conn) == first
    assert pings == [1]


def test_a_dead_idle_connection_is_replaced_before_use(pg_engine, engine, monkeypatch):
    with pg_engine.connect() as conn:
        first = _pid(conn)
    with engine.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)  # as if it had sat idle
    with pg_engine.connect() as conn:
        second = _pid(conn)
    assert second != first
