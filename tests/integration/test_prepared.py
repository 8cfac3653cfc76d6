"""Prepared statements (badger.store.prepared): the same results as Connection.execute.

Each test runs on SQLite and, with BADGER_TEST_DATABASE_URL, on PostgreSQL,
inside a transaction that is rolled back afterwards.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import bindparam, event, insert, select, update
from sqlalchemy.exc import IntegrityError, MultipleResultsFound, NoResultFound

from badger.store.models import CompletionEvent, Learner
from badger.store.prepared import Prepared

LEARNERS = Learner.__table__
EVENTS = CompletionEvent.__table__
INSERT_LEARNER = Prepared(insert(LEARNERS).returning(LEARNERS.c.id, LEARNERS.c.created_at))
LEARNER_BY_ID = Prepared(
    select(LEARNERS.c.public_id, LEARNERS.c.display_name, LEARNERS.c.created_at).where(
        LEARNERS.c.id == bindparam("id")
    )
)
NAMES_IN = Prepared(
    select(LEARNERS.c.display_name)
    .where(LEARNERS.c.public_id.in_(bindparam("ids", expanding=True)))
    .order_by(LEARNERS.c.display_name)
)
INSERT_EVENT = Prepared(insert(EVENTS).returning(EVENTS.c.id, EVENTS.c.data, EVENTS.c.occurred_at))
PLAIN_INSERT_LEARNER = Prepared(insert(LEARNERS))
RENAME = Prepared(
    update(LEARNERS)
    .where(LEARNERS.c.public_id == bindparam("pid"))
    .values(display_name=bindparam("name"))
    .returning(LEARNERS.c.display_name)
)
MOMENT = datetime(2026, 3, 14, 15, 9, 26, 123456, tzinfo=UTC)


def _learner(conn, public_id: str, name: str = "Ada") -> int:
    return INSERT_LEARNER.run(conn, {"public_id": public_id, "display_name": name}).one()[0]


def test_an_insert_fills_python_side_defaults_and_returns_typed_values(connection):
    before = datetime.now(UTC)
    learner_id, created_at = INSERT_LEARNER.run(
        connection, {"public_id": "p-1", "display_name": "Ada"}
    ).one()
    # created_at has a Python-side default (utcnow): filled in as SQLAlchemy would,
    # and read back as an aware datetime on both databases.
    assert created_at.tzinfo is not None
    assert before - timedelta(seconds=5) <= created_at <= datetime.now(UTC)
    assert (
        connection.execute(
            select(LEARNERS.c.display_name).where(LEARNERS.c.id == learner_id)
        ).scalar_one()
        == "Ada"
    )


def test_a_select_gives_what_connection_execute_gives(connection):
    learner_id = _learner(connection, "p-2")
    ours = LEARNER_BY_ID.run(connection, {"id": learner_id}).one()
    theirs = connection.execute(LEARNER_BY_ID.statement, {"id": learner_id}).one()
    assert ours == tuple(theirs)
    assert LEARNER_BY_ID.run(connection, {"id": -1}).first() is None
    assert LEARNER_BY_ID.run(connection, {"id": -1}).scalar() is None


def test_expanding_in_parameters_compile_once_per_number_of_values(connection):
    for i, name in enumerate(["Cy", "Ada", "Bo"]):
        _learner(connection, f"x-{i}", name)
    assert NAMES_IN.run(connection, {"ids": ["x-0", "x-1"]}).scalars().all() == ["Ada", "Cy"]
    assert NAMES_IN.run(connection, {"ids": ["x-2"]}).scalars().all() == ["Bo"]
    assert NAMES_IN.run(connection, {"ids": ["x-0", "x-1", "x-2"]}).scalars().all() == [
        "Ada",
        "Bo",
        "Cy",
    ]
    assert NAMES_IN.run(connection, {"ids": ["x-1", "x-2"]}).scalars().all() == ["Ada", "Bo"]
    shapes = {key[-1] for key in NAMES_IN._forms if key[0] == connection.dialect.name}
    assert shapes == {(1,), (2,), (3,)}


def test_json_and_datetime_values_round_trip(connection):
    learner_id = _learner(connection, "p-3")
    data = {"score": 91, "tags": ["a", "ü"], "nested": {"ok": True, "none": None}}
    _, got, occurred = INSERT_EVENT.run(
        connection,
        {
            "public_id": "e-1",
            "learner_id": learner_id,
            "kind": "course.completed",
            "occurred_at": MOMENT,
            "data": data,
            "source": "test",
            "idempotency_key": "k-1",
            "received_at": MOMENT,
        },
    ).one()
    assert got == data
    assert occurred == MOMENT
    stored = connection.execute(select(EVENTS.c.data, EVENTS.c.occurred_at)).one()
    assert tuple(stored) == (data, MOMENT)


def test_a_list_of_rows_is_one_executemany_and_returning_gives_every_row(connection):
    PLAIN_INSERT_LEARNER.run(
        connection, [{"public_id": f"m-{i}", "display_name": f"M{i}"} for i in range(3)]
    )
    returned = INSERT_LEARNER.run(
        connection, [{"public_id": f"r-{i}", "display_name": f"R{i}"} for i in range(3)]
    )
    assert len(returned) == 3
    assert len({row[0] for row in returned}) == 3
    names = connection.execute(select(LEARNERS.c.display_name)).scalars().all()
    assert sorted(names) == ["M0", "M1", "M2", "R0", "R1", "R2"]
    assert len(INSERT_LEARNER.run(connection, [])) == 0


def test_an_update_returning_and_a_missing_row(connection):
    _learner(connection, "u-1", "Old")
    assert RENAME.run(connection, {"pid": "u-1", "name": "New"}).scalars().all() == ["New"]
    with pytest.raises(NoResultFound):
        RENAME.run(connection, {"pid": "nobody", "name": "x"}).one()


def test_more_than_one_row_where_one_was_required(connection):
    _learner(connection, "d-1", "Same")
    _learner(connection, "d-2", "Same")
    same = Prepared(select(LEARNERS.c.id).where(LEARNERS.c.display_name == bindparam("name")))
    with pytest.raises(MultipleResultsFound):
        same.run(connection, {"name": "Same"}).one()


def test_driver_errors_come_out_as_sqlalchemy_errors(connection):
    _learner(connection, "dup")
    savepoint = connection.begin_nested()
    with pytest.raises(IntegrityError) as caught:
        _learner(connection, "dup")
    savepoint.rollback()
    assert "learner" in str(caught.value).lower()
    # The transaction goes on after the savepoint rolled back.
    assert _learner(connection, "after") > 0


def test_a_missing_parameter_is_refused_before_anything_runs(connection):
    from sqlalchemy.exc import InvalidRequestError

    with pytest.raises(InvalidRequestError):
        LEARNER_BY_ID.run(connection, {})


def test_cursor_listeners_see_every_statement(connection, engine):
    seen: list[tuple[str, bool]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement.split()[0], executemany))

    event.listen(engine, "before_cursor_execute", before)
    try:
        learner_id = _learner(connection, "seen")
        LEARNER_BY_ID.run(connection, {"id": learner_id})
        PLAIN_INSERT_LEARNER.run(connection, [{"public_id": "s1", "display_name": "S"}] * 1)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert seen == [("INSERT", False), ("SELECT", False), ("INSERT", True)]


def test_orm_entities_are_refused():
    with pytest.raises(TypeError, match="not ORM entities"):
        Prepared(select(Learner))


@hsettings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        max_size=60,
    ),
    data=st.dictionaries(
        st.text(max_size=8),
        st.one_of(st.integers(-(2**53), 2**53), st.booleans(), st.none(), st.text(max_size=10)),
        max_size=4,
    ),
)
def test_any_value_reads_back_as_connection_execute_reads_it(connection, name, data):
    savepoint = connection.begin_nested()
    try:
        learner_id = _learner(connection, "h-1", name)
        INSERT_EVENT.run(
            connection,
            {
                "public_id": "h-e",
                "learner_id": learner_id,
                "kind": "k",
                "occurred_at": MOMENT,
                "data": data,
                "source": "s",
                "idempotency_key": "h-k",
                "received_at": MOMENT,
            },
        )
        ours = LEARNER_BY_ID.run(connection, {"id": learner_id}).one()
        theirs = connection.execute(LEARNER_BY_ID.statement, {"id": learner_id}).one()
        assert ours == tuple(theirs)
        assert ours[1] == name
        stored = connection.execute(select(EVENTS.c.data)).scalar_one()
        assert stored == data
    finally:
        savepoint.rollback()


def test_every_row_of_an_executemany_needs_the_first_rows_parameters(connection):
    from sqlalchemy.exc import InvalidRequestError

    rows = [{"public_id": "a", "display_name": "A"}, {"public_id": "b"}]
    with pytest.raises(InvalidRequestError, match="display_name"):
        PLAIN_INSERT_LEARNER.run(connection, rows)


def test_a_statement_literal_needs_no_parameter(connection):
    _learner(connection, "lit-1", "Lit")
    fixed = Prepared(select(LEARNERS.c.public_id).where(LEARNERS.c.display_name == "Lit"))
    assert fixed.run(connection).scalars().all() == ["lit-1"]
