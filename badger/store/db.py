"""Engine, sessions and the unit of work.

Plain SQLAlchemy (not Flask-SQLAlchemy) so services run the same in the web
app, the CLI, background workers and tests.  A service owns one transaction:
``with uow:`` commits on success and rolls back on any exception, and
callbacks registered with :meth:`UnitOfWork.after_commit` (mail, webhooks,
jobs) run only once the commit has succeeded.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker


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
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


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


class UnitOfWork:
    """One transaction around one use case."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory
        self._session: Session | None = None
        self._after_commit: list[Callable[[], None]] = []

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("UnitOfWork used outside `with uow:`")
        return self._session

    def __enter__(self) -> UnitOfWork:
        if self._session is not None:
            raise RuntimeError("UnitOfWork is not re-entrant")
        self._session = self._factory()
        self._after_commit = []
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
                session.commit()
            else:
                session.rollback()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        if exc_type is None:
            for callback in callbacks:
                callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` only if and after this transaction commits."""
        self._after_commit.append(callback)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(
        bind=engine.execution_options(badger_unit_of_work=True), expire_on_commit=False
    )
