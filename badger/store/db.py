"""Engine, sessions and the unit of work.

Plain SQLAlchemy (not Flask-SQLAlchemy) so services run the same in the web
app, the CLI, background workers and tests.  A service owns one transaction:
``with uow:`` commits on success and rolls back on any exception, and
callbacks registered with :meth:`UnitOfWork.after_commit` (mail, webhooks,
jobs) run only once the commit has succeeded.

Rows that nothing reads back inside the transaction (audit entries, issued
documents, claim tokens) can be queued with :meth:`UnitOfWork.insert_later`:
they go in with one executemany per table just before the commit instead of
one ORM insert each; on PostgreSQL they go to the server in the same query as
the ``COMMIT`` (``badger.store.pg``).
"""

from __future__ import annotations

import functools
import time
import weakref
from collections.abc import Callable, Mapping
from copy import deepcopy
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    create_engine,
    delete,
    event,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.orm import (
    Session,
    SessionTransaction,
    configure_mappers,
    make_transient_to_detached,
    sessionmaker,
)
from sqlalchemy.orm.attributes import instance_dict, set_committed_value
from sqlalchemy.orm.util import identity_key

from badger.domain.errors import NotFound
from badger.store import checkpoint, pg
from badger.store.prepared import Prepared, commit_with


class DatabaseError(Exception):
    """The database could not be reached or refused an operation."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine with badger's per-backend settings."""
    if url.startswith("sqlite"):
        connect_args = kwargs.pop("connect_args", {})
        # The web server and the CLI share one file; wait rather than fail.
        connect_args.setdefault("timeout", 30)
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        if engine.url.database and engine.url.database != ":memory:":
            checkpoint.attach(engine, engine.url.database)
        return engine
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine)
    return engine


# A pooled connection unused for longer than this is tested before it is
# handed out (the server may have restarted or dropped it meanwhile).
IDLE_PING_SECONDS = 1.0
_LAST_CHECKIN = "badger.last_checkin"


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's ``pool_pre_ping``, but only for connections that sat idle.

    pre-ping tests every checkout: one more round trip for each unit of
    work, a fourteenth of an award's.  A connection back in the pool less
    than IDLE_PING_SECONDS ago was working then; one idle for longer is
    pinged, and a dead one is replaced before anyone uses it (raising
    ``DisconnectionError`` in ``checkout`` makes the pool retry with a new
    connection).  A server restart inside that second still fails the units
    of work that were using the connections; SQLAlchemy then invalidates the
    pool, and their callers retry (events carry idempotency keys).
    """
    dialect = engine.dialect

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _fresh(dbapi_connection: Any, record: Any) -> None:
        # Just opened, or just back from working: no need to ask.
        record.info[_LAST_CHECKIN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        last = record.info.get(_LAST_CHECKIN)
        if last is not None and time.monotonic() - last < IDLE_PING_SECONDS:
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("the idle connection did not answer") from exc
        if not alive:
            raise DisconnectionError("the idle connection did not answer")


def _sqlite_on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT
    # and transactional DDL; let SQLAlchemy emit BEGIN itself (see SQLAlchemy's
    # "Serializable isolation / Savepoints / Transactional DDL" for pysqlite).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # SQLite ignores foreign keys unless asked, per connection.
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets readers (pages, health checks) run while a writer commits.
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL syncs at checkpoints, not at every commit: a commit is
    # still atomic and survives a crash of badger; only a power cut or an OS
    # crash can lose the last commits (never corrupt the file).  FULL costs an
    # fsync per transaction, which was a tenth of an award's time.  SQLite is
    # the embedded default; production runs on PostgreSQL.
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Checkpoints run in a background thread (badger.store.checkpoint); a
    # writer checkpoints itself only if that thread falls far behind.
    cursor.execute(f"PRAGMA wal_autocheckpoint={checkpoint.SAFETY_NET_PAGES}")
    cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    # Units of work take the write lock up front (IMMEDIATE): two deferred
    # transactions that both read and then write fail with "database is
    # locked" at once instead of waiting their turn, because SQLite cannot
    # upgrade a shared lock safely.  Plain reads (health checks) stay deferred.
    if connection.get_execution_options().get("badger_unit_of_work"):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")


def check_database(engine: Engine) -> str | None:
    """``None`` when the database answers; otherwise a short reason."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return type(exc.orig or exc).__name__
    return None


M = TypeVar("M")


class UnitOfWork:
    """One transaction around one use case."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory
        self._session: Session | None = None
        self._after_commit: list[Callable[[], None]] = []
        # Rows for insert_later, in order; objects insert_loaded made inside a
        # SAVEPOINT; and where in both lists each open SAVEPOINT began.
        self._later: list[tuple[type[Any], dict[str, Any]]] = []
        self._loaded: list[Any] = []
        self._marks: dict[SessionTransaction, tuple[int, int]] = {}
        self._created: weakref.WeakSet[Any] = weakref.WeakSet()
        self._connection: Connection | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("UnitOfWork used outside `with uow:`")
        return self._session

    def core(self, statement: Any, parameters: Any = None) -> Any:
        """Run a Core statement (columns, not ORM entities) on this transaction.

        The same as ``session.execute`` for such statements, pending ORM
        changes flushed first as autoflush would, without the ORM execution
        layer around it: on the award path that layer costs about as much
        as SQLite takes to run the statement.  A :class:`Prepared` statement
        also skips SQLAlchemy's execution layer (``badger.store.prepared``)
        and returns :class:`~badger.store.prepared.Rows` of tuples.
        """
        self.session.flush()  # returns at once when nothing is pending
        if isinstance(statement, Prepared):
            return statement.run(self.connection(), parameters)
        return self.connection().execute(statement, parameters)

    def connection(self) -> Connection:
        """The connection this transaction runs on (``session.connection()``, kept).

        The session hands out the same connection until its transaction ends;
        asking it each time walks its transaction state machine, which cost
        about a twentieth of an award.  Forgotten when the transaction ends.
        """
        conn = self._connection
        if conn is None:
            conn = self._connection = self.session.connection()
        return conn

    def insert_loaded(self, model: type[M], values: dict[str, Any]) -> M:
        """Insert one ``model`` row now and return it as a loaded, persistent object.

        One ``INSERT … RETURNING`` (column defaults applied by the database
        layer as for any insert) instead of an ORM flush, which costs several
        times the statement on the award path.  The object comes back as if
        read by a query: its many-to-one relationships resolve from the
        identity map, and collections load on first access (or are set with
        ``sqlalchemy.orm.attributes.set_committed_value``).
        """
        stmt, keys = _insert_returning(model)
        return self._loaded_object(model, keys, self.core(stmt, values).one())

    def insert_loaded_unless(
        self, model: type[M], values: dict[str, Any], unique: tuple[str, ...]
    ) -> M | None:
        """:meth:`insert_loaded`, or ``None`` when a row with the same ``unique`` columns exists.

        ``INSERT … ON CONFLICT (unique) DO NOTHING``: on PostgreSQL a
        concurrent transaction inserting the same row makes this one wait for
        its outcome, so exactly one of them gets the row, and the loser's
        transaction stays usable without a SAVEPOINT.
        """
        _, keys = _insert_returning(model)
        table = model.__table__  # type: ignore[attr-defined]
        row = self.insert_skipping(table, unique, tuple(table.c.keys()), values).first()
        return None if row is None else self._loaded_object(model, keys, row)

    def insert_skipping(
        self, table: Any, unique: tuple[str, ...], returning: tuple[str, ...], parameters: Any
    ) -> Any:
        """``INSERT … ON CONFLICT (unique) DO NOTHING RETURNING returning``: the rows it inserted.

        ``parameters`` is one row's values or a list of rows; a row whose
        ``unique`` columns already exist is skipped and returns nothing.  On
        PostgreSQL a concurrent transaction inserting the same key makes this
        one wait for its outcome, and the transaction stays usable either way
        (no SAVEPOINT needed).  The statement is built once per table,
        columns and database.  Several rows (with the same columns) go in as one
        multi-row ``INSERT``: one round trip, not one per row.
        """
        if isinstance(parameters, list) and len(parameters) > 1:
            keys = tuple(parameters[0])
            if any(tuple(row) != keys for row in parameters):
                raise ValueError("insert_skipping: every row needs the same columns, in order")
            stmt = _insert_skipping_rows(
                table, unique, returning, self._dialect, keys, len(parameters)
            )
            flat = {f"{key}_{i}": row[key] for i, row in enumerate(parameters) for key in keys}
            return self.core(stmt, flat)
        return self.core(_insert_skipping(table, unique, returning, self._dialect), parameters)

    def increment(self, table: Any, key_column: str, key: Any, column: str) -> None:
        """Add one to ``column`` in the row whose ``key_column`` is ``key`` (made at 1 if absent).

        ``INSERT … ON CONFLICT DO UPDATE``: on PostgreSQL concurrent callers
        queue on the row's lock, and none is lost.
        """
        self.core(_increment(table, key_column, column, self._dialect), {"key": key})

    def delete_loaded(self, obj: Any) -> None:
        """Delete a row :meth:`insert_loaded` made in this transaction, and forget its object.

        For an insert that turned out not to be needed (a concurrent
        transaction won the race for a related row): one ``DELETE`` by
        primary key, no ORM flush.
        """
        table = type(obj).__table__
        (pk,) = table.primary_key.columns
        self.core(_delete_by_key(table), {"key": getattr(obj, pk.key)})
        self.session.expunge(obj)
        self._created.discard(obj)
        if obj in self._loaded:
            self._loaded.remove(obj)

    def created_here(self, obj: Any) -> bool:
        """Whether :meth:`insert_loaded` (or ``_unless``) made ``obj``'s row in this transaction.

        A learner first seen in this transaction, say, has no history in the
        database yet: code may skip the queries that would find none.
        """
        return obj in self._created

    def _loaded_object(self, model: type[M], keys: tuple[str, ...], row: Any) -> M:
        obj = _as_loaded(model, zip(keys, row, strict=True))
        self.session.add(obj)
        self._created.add(obj)
        if self.session.in_nested_transaction():
            self._loaded.append(obj)  # forgotten if the savepoint rolls back
        return obj

    def adopt_inserted(self, model: type[M], row: Any) -> M:
        """The object for a ``model`` row (all its columns, in table order) this transaction inserted.

        For rows a Core statement of the caller's own inserted (several rows
        in one statement, say): the object is as :meth:`insert_loaded` would
        have returned it, :meth:`created_here` included.
        """
        _, keys = _insert_returning(model)
        return self._loaded_object(model, keys, row)

    @property
    def on_postgresql(self) -> bool:
        """Whether this transaction runs on PostgreSQL (data-modifying CTEs, for one)."""
        return self._dialect == "postgresql"

    def attach_loaded(self, model: type[M], row: Any) -> M:
        """The ``model`` object for ``row`` (all its columns, in table order) read by a Core query.

        As if an ORM query had loaded it, without the ORM execution layer: a
        new persistent object whose relationships load on first access (or
        are set with ``set_committed_value``), or the object already in this
        session for that primary key, which wins as it would for a query.
        """
        _, keys = _insert_returning(model)
        present = self.session.identity_map.get(identity_key(model, row[_key_position(model)]))
        if present is not None:
            return present  # type: ignore[no-any-return]
        obj = _as_loaded(model, zip(keys, row, strict=True))
        self.session.add(obj)
        return obj

    def holds(self, model: type[Any], key: Any) -> bool:
        """Whether this session already has the ``model`` object with primary key ``key``."""
        return identity_key(model, key) in self.session.identity_map

    def by_public_id(self, model: type[M], public_id: str, what: str, *, lock: bool = False) -> M:
        """The ``model`` row with this opaque id (``FOR UPDATE`` with ``lock``).

        Raises ``NotFound("no <what> '<id>'")``, which the web layer answers with 404.
        """
        stmt = select(model).where(model.public_id == public_id)  # type: ignore[attr-defined]
        if lock:
            stmt = stmt.with_for_update()
        row = self.session.scalar(stmt)
        if row is None:
            raise NotFound(f"no {what} {public_id!r}")
        return row

    def __enter__(self) -> UnitOfWork:
        if self._session is not None:
            raise RuntimeError("UnitOfWork is not re-entrant")
        self._session = self._factory()
        self._session.info[_UOW] = self
        self._after_commit = []
        self._later, self._marks, self._loaded = [], {}, []
        self._created = weakref.WeakSet()
        self._connection = None
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session = self._session, None
        if session is None:  # pragma: no cover - __enter__ always sets it
            raise RuntimeError("UnitOfWork exited without entering")
        callbacks, self._after_commit = self._after_commit, []
        try:
            if exc_type is None:
                self._commit(session)
            else:
                session.rollback()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.info.pop(_UOW, None)
            self._later, self._marks, self._loaded = [], {}, []
            self._connection = None
            session.close()
        if exc_type is None:
            for callback in callbacks:
                callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` only if and after this transaction commits."""
        self._after_commit.append(callback)

    @property
    def concurrent_writers(self) -> bool:
        """Whether another transaction can write while this one runs.

        Not on SQLite: a unit of work takes the write lock at BEGIN IMMEDIATE
        and holds it to the end, so a row this transaction checked for cannot
        appear before it commits.  Code that guards an insert against a
        concurrent duplicate with a SAVEPOINT (caught IntegrityError, rolled
        back, carried on) needs the savepoint only when this is true; without
        one, any failure fails the whole unit of work, which is still correct.
        """
        return self._dialect != "sqlite"

    @property
    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def insert_later(self, model: type[Any], values: dict[str, Any]) -> None:
        """Insert a ``model`` row (column values) just before the commit.

        For rows nothing reads back inside the transaction: queued rows go in
        with one executemany per table, in the order they were queued, and
        vanish with a rollback like everything else.  Call
        :meth:`insert_queued` before a query that must see them.
        """
        self._later.append((model, values))

    def insert_queued(self) -> None:
        """Insert the rows queued with :meth:`insert_later` now."""
        self._insert_queued(self.session)

    def _commit(self, session: Session) -> None:
        """Insert the queued rows and commit.

        On PostgreSQL (psycopg), for a session that owns its connection (not
        one joined to an outer transaction, as tests do), the queued rows and
        ``COMMIT`` go to the server as one query: one round trip instead of
        one per table and one for the commit.  The session's own commit then
        finds the transaction committed and only ends its bookkeeping.
        """
        conn = self._commit_query_connection(session) if self._later else None
        if conn is not None:
            session.flush()
            later, self._later = self._later, []
            commit_with(
                conn,
                [
                    (_insert_plain(model.__table__), values)
                    for model, rows in _by_model(later).items()
                    for values in rows
                ],
            )
        else:
            self._insert_queued(session)
        session.commit()

    def _commit_query_connection(self, session: Session) -> Connection | None:
        """The connection to send the queued rows with ``COMMIT`` on, if this transaction can."""
        if not isinstance(session.bind, Engine) or session.in_nested_transaction():
            return None
        conn = self._connection or session.connection()
        dialect = conn.dialect
        if not pg.merges_commit(dialect) or dialect.detect_autocommit_setting(
            conn.connection.dbapi_connection
        ):
            return None
        return conn

    def _insert_queued(self, session: Session) -> None:
        later, self._later = self._later, []
        self._marks = {t: (0, loaded) for t, (_later, loaded) in self._marks.items()}
        by_model = _by_model(later)
        if not by_model:
            return
        conn = self._connection or session.connection()
        for model, rows in by_model.items():
            # Core, not ORM bulk insert: nothing to track, a fraction of the cost.
            _insert_plain(model.__table__).run(conn, rows)


def _by_model(
    later: list[tuple[type[Any], dict[str, Any]]],
) -> dict[type[Any], list[dict[str, Any]]]:
    """Queued rows table by table, tables in the order first queued, rows in queue order."""
    by_model: dict[type[Any], list[dict[str, Any]]] = {}
    for model, values in later:
        by_model.setdefault(model, []).append(values)
    return by_model


_UOW = "badger.unit_of_work"


def _as_loaded(model: type[M], values: Any) -> M:
    """A detached ``model`` object holding ``values`` (column attribute, value) as loaded.

    Made as the ORM makes the objects a query loads: no constructor, no
    attribute events (the declarative constructor sets each column through
    its instrumented attribute, which cost several times the rest of
    making the object).  Columns not in ``values`` load on first access.
    """
    obj = _class_manager(model).new_instance()
    instance_dict(obj).update(values)
    make_transient_to_detached(obj)
    return obj


@functools.cache
def _class_manager(model: type[Any]) -> Any:
    # inspect() per object made was ~1% of an award (py-spy).
    return inspect(model).class_manager


def detached_row(model: type[M], values: Mapping[str, Any]) -> M:
    """A ``model`` object for column ``values`` as read, belonging to no session.

    To keep between transactions, as :func:`detached_copy` makes; it must
    not be modified or added to a session.  A column left out of ``values``
    cannot be read from it (``DetachedInstanceError``).
    """
    return _as_loaded(model, values.items())


def detached_loaded(model: type[M], row: Any) -> M:
    """:func:`detached_row` for ``row`` (all the columns, in table order) read by a Core query."""
    _, keys = _insert_returning(model)
    return _as_loaded(model, zip(keys, row, strict=True))


def detached_copy(obj: M, *, related: tuple[str, ...] = ()) -> M:
    """A copy of a loaded row that belongs to no session: to keep between transactions.

    Column values are copied (JSON ones deeply), and each many-to-one
    relationship in ``related`` is copied the same way.  Unlike the row
    itself, the copy is untouched when its session rolls back (which expires
    every object in it) or closes, so it can be cached and read by any
    thread; it must not be modified or added to a session.
    """
    values = {attr.key: getattr(obj, attr.key) for attr in inspect(type(obj)).column_attrs}
    copy = _as_loaded(
        type(obj),
        {k: deepcopy(v) if isinstance(v, dict | list) else v for k, v in values.items()},
    )
    for name in related:
        set_committed_value(copy, name, detached_copy(getattr(obj, name)))
    return copy


@functools.cache
def _insert_returning(model: type[Any]) -> tuple[Any, tuple[str, ...]]:
    """``INSERT INTO model RETURNING *`` built once, with each column's attribute name.

    The values go in as parameters: a statement built per call with
    ``.values()`` costs more than the ORM flush it replaces.
    """
    table = model.__table__
    # Objects are made without a query (_as_loaded), which would otherwise
    # have configured the mappers first: without that, the first one made in
    # a process has no attribute implementations to build its identity from.
    configure_mappers()
    mapper = inspect(model)
    keys = tuple(mapper.get_property_by_column(column).key for column in table.c)
    return Prepared(insert(table).returning(*table.c)), keys


def column_default(column: Any) -> Any:
    """The value an insert that leaves ``column`` out gives it (its Python-side default, or None).

    For statements that must name every column, such as an insert in a
    data-modifying CTE compiled for its parameters.
    """
    default = column.default
    if default is None:
        return None
    if default.is_callable:
        return default.arg(None)
    if default.is_scalar:
        return default.arg
    raise TypeError(f"{column}: only Python-side defaults can be given here")


def _upsert_insert(dialect: str) -> Any:
    """The database's ``insert`` with ``ON CONFLICT`` clauses (SQLite or PostgreSQL)."""
    return sqlite_insert if dialect == "sqlite" else pg_insert


@functools.cache
def _key_position(model: type[Any]) -> int:
    """Where the primary key is among the table's columns."""
    table = model.__table__
    (pk,) = table.primary_key.columns
    return list(table.c).index(pk)


@functools.cache
def _insert_plain(table: Any) -> Prepared:
    return Prepared(insert(table))


@functools.cache
def _increment(table: Any, key_column: str, column: str, dialect: str) -> Any:
    stmt = _upsert_insert(dialect)(table).values({key_column: bindparam("key"), column: 1})
    return Prepared(
        stmt.on_conflict_do_update(index_elements=[key_column], set_={column: table.c[column] + 1})
    )


@functools.cache
def _delete_by_key(table: Any) -> Any:
    (pk,) = table.primary_key.columns
    return Prepared(delete(table).where(pk == bindparam("key")))


@functools.cache
def _insert_skipping(
    table: Any, unique: tuple[str, ...], returning: tuple[str, ...], dialect: str
) -> Any:
    stmt = _upsert_insert(dialect)(table).on_conflict_do_nothing(index_elements=list(unique))
    return Prepared(stmt.returning(*(table.c[name] for name in returning)))


@functools.cache
def _insert_skipping_rows(
    table: Any,
    unique: tuple[str, ...],
    returning: tuple[str, ...],
    dialect: str,
    keys: tuple[str, ...],
    rows: int,
) -> Any:
    values = [{key: bindparam(f"{key}_{i}") for key in keys} for i in range(rows)]
    stmt = _upsert_insert(dialect)(table).values(values)
    stmt = stmt.on_conflict_do_nothing(index_elements=list(unique))
    return Prepared(stmt.returning(*(table.c[name] for name in returning)))


# A SAVEPOINT rolled back takes the rows queued inside it with it, as it does
# the rows it inserted: an award that lost a race must leave no audit entry.
@event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction: SessionTransaction) -> None:
    uow = session.info.get(_UOW)
    if uow is not None and transaction.nested:
        uow._marks[transaction] = (len(uow._later), len(uow._loaded))


@event.listens_for(Session, "after_transaction_end")
def _forget_connection(session: Session, transaction: SessionTransaction) -> None:
    # The root transaction ended (commit or rollback): its connection went back.
    uow = session.info.get(_UOW)
    if uow is not None and transaction.parent is None:
        uow._connection = None


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    uow = session.info.get(_UOW)
    if uow is None:
        return
    if previous_transaction.nested:
        mark = uow._marks.pop(previous_transaction, None)
        if mark is not None:
            later, loaded = mark
            del uow._later[later:]
            # Rows inserted by insert_loaded inside the savepoint are gone: so
            # must their objects be, or a later row that reuses the id (SQLite
            # hands out max + 1 again) could not enter the identity map.
            for obj in uow._loaded[loaded:]:
                uow._created.discard(obj)
                if obj in session:
                    session.expunge(obj)
            del uow._loaded[loaded:]
    else:
        uow._later.clear()
        uow._loaded.clear()
        uow._created.clear()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(
        bind=engine.execution_options(badger_unit_of_work=True), expire_on_commit=False
    )
