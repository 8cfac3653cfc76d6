"""PostgreSQL: a unit of work's queued rows go with its COMMIT, one round trip (badger.store.pg).

Round trips are counted from libpq's own protocol trace (``PQtrace``): each
ends with the server's ReadyForQuery message.  PostgreSQL only.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from psycopg import pq
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    bindparam,
    insert,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError, IntegrityError

from badger.store import migrate, pg
from badger.store.db import UnitOfWork, make_engine, make_session_factory
from badger.store.models import AuditEntry
from badger.store.prepared import Prepared
from tests.conftest import scratch_database

pytestmark = pytest.mark.postgres

PROBE = Table(
    "pg_commit_probe",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("label", String(200), unique=True),
    Column("data", JSON),
    Column("blob", LargeBinary),
    Column("moment", DateTime(timezone=True)),
    Column("amount", Numeric(10, 2)),
)
INSERT_PROBE = Prepared(insert(PROBE))
BY_LABEL = Prepared(
    select(PROBE.c.data, PROBE.c.blob, PROBE.c.moment, PROBE.c.amount).where(
        PROBE.c.label == bindparam("label")
    )
)


@pytest.fixture(scope="module")
def pg_engine(db_backend) -> Iterator[Any]:
    """A migrated database of this module's own: these tests really commit (audit rows too)."""
    if db_backend != "postgresql":
        pytest.skip("the commit query is PostgreSQL's")
    with scratch_database("badger_t_commit") as url:
        own = make_engine(url)
        try:
            migrate.upgrade(own)
            PROBE.create(own)
            yield own
        finally:
            own.dispose()


class _Trace:
    """libpq's protocol trace of one driver connection, from now until :meth:`stop`."""

    def __init__(self, dbapi_connection: Any) -> None:
        self._pgconn = dbapi_connection.pgconn
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        self._pgconn.trace(self._file.fileno())
        self._pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)

    def stop(self) -> list[list[str]]:
        """The frontend messages of each round trip (each ends with ReadyForQuery)."""
        self._pgconn.untrace()
        self._file.seek(0)
        trips: list[list[str]] = []
        sent: list[str] = []
        direction = ""
        for line in self._file.read().decode().splitlines():
            fields = line.split("\t")
            if fields[0] not in ("F", "B"):  # a statement's text goes on over lines
                if direction == "F":
                    sent[-1] += "\n" + line
                continue
            direction, message = fields[0], " ".join(f.strip() for f in fields[2:])
            if direction == "F":
                sent.append(message)
            elif message.startswith("ReadyForQuery"):
                trips.append(sent)
                sent = []
        self._file.close()
        return trips


def _count(engine: Any, label: str) -> int:
    with engine.connect() as conn:
        return len(conn.execute(select(PROBE.c.id).where(PROBE.c.label == label)).all())


def _uow(engine: Any) -> UnitOfWork:
    return UnitOfWork(make_session_factory(engine))


def test_a_unit_of_work_sends_its_queued_rows_with_the_commit(pg_engine):
    uow = _uow(pg_engine)
    with uow:
        INSERT_PROBE.run(uow.connection(), {"label": "first"})
        for n in range(3):
            uow.insert_later(
                AuditEntry,
                {
                    "at": datetime.now(UTC),
                    "actor": "test",
                    "action": "probe.queued",
                    "subject_type": "probe",
                    "subject_id": f"q{n}",
                    "details": {"n": n, "quote": "it's 100% \\ fine"},
                },
            )
        trace = _Trace(uow.connection().connection.dbapi_connection)
    trips = trace.stop()
    assert len(trips) == 1  # three inserts and COMMIT: one query
    (query,) = trips[0]
    assert query.startswith('Query "INSERT INTO audit_log')
    # The three rows as one multi-row INSERT, nothing returned.
    assert query.count("INSERT INTO audit_log") == 1
    assert query.count("'probe.queued'") == 3
    assert "RETURNING" not in query
    assert query.endswith('COMMIT"')
    with pg_engine.connect() as check:
        details = (
            check.execute(
                select(AuditEntry.details)
                .where(AuditEntry.action == "probe.queued")
                .order_by(AuditEntry.id)  # in the order queued
            )
            .scalars()
            .all()
        )
    assert details == [{"n": n, "quote": "it's 100% \\ fine"} for n in range(3)]
    assert _count(pg_engine, "first") == 1


def test_queued_rows_beyond_the_query_size_go_ahead_in_queries_of_their_own(pg_engine, monkeypatch):
    monkeypatch.setattr(pg, "MAX_QUERY_CHARS", 600)  # about two audit rows a query
    uow = _uow(pg_engine)
    with uow:
        INSERT_PROBE.run(uow.connection(), {"label": "big"})
        for n in range(7):
            uow.insert_later(AuditEntry, {**_audit(f"big{n}"), "details": {"pad": "x" * 80}})
        trace = _Trace(uow.connection().connection.dbapi_connection)
    trips = trace.stop()
    queries = [q for trip in trips for q in trip]
    assert len(queries) > 2
    assert all(len(q) < 2 * 600 for q in queries)
    assert [q.endswith('COMMIT"') for q in queries] == [False] * (len(queries) - 1) + [True]
    assert sum(q.count("'big") for q in queries) == 7
    with pg_engine.connect() as check:
        subjects = (
            check.execute(
                select(AuditEntry.subject_id)
                .where(AuditEntry.subject_id.like("big%"))
                .order_by(AuditEntry.id)
            )
            .scalars()
            .all()
        )
    assert subjects == [f"big{n}" for n in range(7)]


def test_a_failure_in_a_later_part_of_a_split_commit_leaves_nothing(pg_engine, monkeypatch):
    monkeypatch.setattr(pg, "MAX_QUERY_CHARS", 600)
    with pg_engine.begin() as conn:
        INSERT_PROBE.run(conn, {"label": "taken later"})
    uow = _uow(pg_engine)
    with pytest.raises(IntegrityError), uow:
        for n in range(5):
            uow.insert_later(AuditEntry, {**_audit(f"split{n}"), "details": {"pad": "x" * 80}})
        uow.insert_later(_ProbeModel, {"label": "taken later"})  # fails last
    with pg_engine.connect() as check:
        assert not check.execute(
            select(AuditEntry.id).where(AuditEntry.subject_id.like("split%"))
        ).all()


def test_a_queued_row_that_fails_leaves_nothing_committed(pg_engine):
    with pg_engine.begin() as conn:
        INSERT_PROBE.run(conn, {"label": "dup"})
    uow = _uow(pg_engine)
    with pytest.raises(IntegrityError), uow:
        INSERT_PROBE.run(uow.connection(), {"label": "before the failure"})
        uow.insert_later(AuditEntry, _audit("lost"))
        # A duplicate label, queued: fails inside the commit query.
        uow.insert_later(_ProbeModel, {"label": "dup"})
        uow.insert_later(AuditEntry, _audit("after"))
    assert _count(pg_engine, "before the failure") == 0
    with pg_engine.connect() as check:
        assert not check.execute(
            select(AuditEntry.id).where(AuditEntry.subject_id.in_(["lost", "after"]))
        ).all()
    # The pooled connection is usable again.
    with _uow(pg_engine) as again:
        assert again.core(BY_LABEL, {"label": "dup"}).first() is not None


class _ProbeModel:
    """Stands in for a model class: insert_later needs only ``__table__``."""

    __table__ = PROBE


def _audit(subject: str) -> dict[str, Any]:
    return {
        "at": datetime.now(UTC),
        "actor": "test",
        "action": "probe.failing",
        "subject_type": "probe",
        "subject_id": subject,
        "details": {},
    }


def test_a_unit_of_work_joined_to_an_outer_transaction_does_not_commit_it(pg_engine):
    from sqlalchemy.orm import sessionmaker

    with pg_engine.connect() as conn:
        outer = conn.begin()
        factory = sessionmaker(bind=conn, join_transaction_mode="create_savepoint")
        with UnitOfWork(factory) as uow:
            uow.insert_later(AuditEntry, _audit("joined"))
        outer.rollback()
    with pg_engine.connect() as check:
        assert not check.execute(
            select(AuditEntry.id).where(AuditEntry.subject_id == "joined")
        ).all()


def test_a_unit_of_work_with_nothing_but_queued_rows_commits_them(pg_engine):
    with _uow(pg_engine) as uow:
        uow.insert_later(AuditEntry, _audit("alone"))
    with pg_engine.connect() as check:
        assert check.execute(select(AuditEntry.id).where(AuditEntry.subject_id == "alone")).all()


_TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=10,
)


@hsettings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=_JSON,
    blob=st.binary(max_size=64),
    moment=st.datetimes(
        # hypothesis takes naive bounds and adds the zone
        min_value=datetime(1990, 1, 1),  # noqa: DTZ001
        max_value=datetime(2100, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    amount=st.decimals(min_value=-99999999, max_value=99999999, places=2, allow_nan=False),
    label=_TEXT,
)
def test_values_rendered_client_side_come_back_as_sent(
    pg_engine, data, blob, moment, amount, label
):
    """Values rendered into the commit query come back as the same values bound server-side."""
    values = {"data": data, "blob": blob, "moment": moment, "amount": amount}
    with pg_engine.connect() as conn:
        conn.execute(text("DELETE FROM pg_commit_probe"))
        conn.commit()
    with pg_engine.begin() as conn:
        # Bound server-side, as every statement but the commit query.
        INSERT_PROBE.run(conn, {"label": "first:" + label, **values})
    with _uow(pg_engine) as uow:
        uow.core(text("SELECT 1"))
        uow.insert_later(_ProbeModel, {"label": "queued:" + label, **values})
    with pg_engine.connect() as conn:
        for prefix in ("first:", "queued:"):
            got = BY_LABEL.run(conn, {"label": prefix + label}).one()
            assert got == (data, blob, moment, Decimal(amount))


def test_a_lost_connection_during_the_commit_query_is_not_pooled_again(pg_engine):
    uow = _uow(pg_engine)
    with pytest.raises(DBAPIError) as caught, uow:
        conn = uow.connection()
        INSERT_PROBE.run(conn, {"label": "lost"})
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        with pg_engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            other.commit()
        uow.insert_later(AuditEntry, _audit("lost"))
    assert caught.value.connection_invalidated
    assert _count(pg_engine, "lost") == 0
    with pg_engine.connect() as conn:  # a fresh connection
        assert conn.execute(text("SELECT 1")).scalar() == 1


def test_a_unit_of_work_on_an_autocommit_engine_inserts_its_rows_as_before(pg_engine):
    auto = make_engine(
        pg_engine.url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT"
    )
    try:
        with _uow(auto) as uow:
            uow.insert_later(AuditEntry, _audit("autocommit"))
    finally:
        auto.dispose()
    with pg_engine.connect() as check:
        assert check.execute(
            select(AuditEntry.id).where(AuditEntry.subject_id == "autocommit")
        ).all()
