"""SQLAlchemy's psycopg dialect, with fewer round trips to PostgreSQL per transaction.

With psycopg in its default (non-autocommit) mode every transaction costs
two round trips besides its statements: psycopg sends ``BEGIN`` on its own
before the first statement and waits for the answer, and the commit is one
more.  On the award path (a dozen short statements) those round trips, each
a wake-up of the server process and of this one, were a sixth of the time.
This dialect keeps SQLAlchemy's transaction semantics and saves both:

* The driver connection stays in psycopg's autocommit mode, so psycopg never
  starts a transaction itself; the autocommit setting SQLAlchemy asks for
  (``isolation_level="AUTOCOMMIT"`` or not) is kept on the connection
  (``detect_autocommit_setting`` reports it).
* When a transaction is wanted and none is open, the first statement goes out
  as one simple-protocol query ``BEGIN …; <statement>``: its parameters are
  rendered client-side by psycopg's own ``ClientCursor.mogrify`` (the quoting
  psycopg uses for client-side binding cursors), and the cursor is moved on
  to the statement's result (``nextset``).  The ``BEGIN`` carries the
  isolation level, read-only and deferrable settings SQLAlchemy set on the
  connection, as psycopg's own would.  Later statements use server-side
  binding as usual.
* :func:`commit_with` sends rows the unit of work queued (``insert_later``)
  together with ``COMMIT`` as one simple-protocol query: one round trip for
  the audit entries, the claim token, the issued documents and the commit.
  If any of them fails the server skips the rest, ``COMMIT`` included, and
  the transaction is rolled back as for any failure.

``commit()`` and ``rollback()`` on the driver connection still do what they
did: psycopg sends ``COMMIT``/``ROLLBACK`` when the server reports an open
transaction, and nothing when none is open (as after :func:`commit_with`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.engine import URL

DRIVER = "badger_psycopg"  # URLs: postgresql+badger_psycopg://…

# The wanted autocommit setting, kept on the psycopg connection object.
_WANTS_AUTOCOMMIT = "_badger_wants_autocommit"


class BadgerPsycopgDialect(PGDialect_psycopg):
    """``postgresql+psycopg`` with ``BEGIN`` sent with the first statement (see the module)."""

    supports_statement_cache = True

    def on_connect(self) -> Any:
        inherited = super().on_connect()

        def connect(dbapi_connection: Any) -> None:
            # Before SQLAlchemy's own hook, which may set AUTOCOMMIT on it.
            setattr(dbapi_connection, _WANTS_AUTOCOMMIT, bool(dbapi_connection.autocommit))
            dbapi_connection.autocommit = True
            if inherited is not None:
                inherited(dbapi_connection)

        return connect

    def _do_isolation_level(self, connection: Any, autocommit: bool, isolation_level: Any) -> None:
        setattr(connection, _WANTS_AUTOCOMMIT, autocommit)
        connection.isolation_level = isolation_level

    def _do_autocommit(self, connection: Any, value: bool) -> None:
        setattr(connection, _WANTS_AUTOCOMMIT, bool(value))

    def detect_autocommit_setting(self, dbapi_connection: Any) -> bool:
        return bool(getattr(dbapi_connection, _WANTS_AUTOCOMMIT, dbapi_connection.autocommit))

    def do_execute(self, cursor: Any, statement: str, parameters: Any, context: Any = None) -> None:
        connection = cursor.connection
        if _needs_begin(connection):
            rendered = _client_side(connection).mogrify(statement, parameters)
            _begin_with(cursor, rendered)
        else:
            cursor.execute(statement, parameters)

    def do_execute_no_params(self, cursor: Any, statement: str, context: Any = None) -> None:
        if _needs_begin(cursor.connection):
            _begin_with(cursor, statement)
        else:
            cursor.execute(statement)

    def do_executemany(
        self, cursor: Any, statement: str, parameters: Any, context: Any = None
    ) -> None:
        connection = cursor.connection
        if _needs_begin(connection):
            connection.execute(_begin_statement(connection), prepare=False)
        cursor.executemany(statement, parameters)


def _needs_begin(connection: Any) -> bool:
    """A transaction is wanted on ``connection`` and none is open."""
    return not getattr(connection, _WANTS_AUTOCOMMIT, True) and (
        connection.info.transaction_status == TransactionStatus.IDLE
    )


def _begin_with(cursor: Any, statement: str | bytes) -> None:
    """``BEGIN …; statement`` in one round trip, the cursor left on the statement's result."""
    connection = cursor.connection
    begin = _begin_statement(connection)
    if isinstance(statement, str):
        statement = statement.encode(connection.info.encoding)
    # Never a prepared statement: the server cannot prepare two statements.
    cursor.execute(begin + b"; " + statement, prepare=False)
    cursor.nextset()


def _begin_statement(connection: Any) -> bytes:
    """``BEGIN`` with the connection's isolation level, read-only and deferrable settings."""
    parts = [b"BEGIN"]
    if connection.isolation_level is not None:
        name = psycopg.IsolationLevel(connection.isolation_level).name
        parts.append(b"ISOLATION LEVEL " + name.replace("_", " ").encode())
    if connection.read_only is not None:
        parts.append(b"READ ONLY" if connection.read_only else b"READ WRITE")
    if connection.deferrable is not None:
        parts.append(b"DEFERRABLE" if connection.deferrable else b"NOT DEFERRABLE")
    return b" ".join(parts)


def commit_with(dbapi_connection: Any, statements: Sequence[tuple[str, Any]]) -> None:
    """Run ``statements`` (SQL, parameters) and ``COMMIT``, as one query: one round trip.

    The transaction must be open (a statement ran in it).  Raises the
    driver's error if any statement or the commit fails; the server then
    has run nothing after the failing statement.
    """
    renderer = _client_side(dbapi_connection)
    encoding = dbapi_connection.info.encoding
    parts = [renderer.mogrify(sql, params).encode(encoding) for sql, params in statements]
    if dbapi_connection.info.transaction_status == TransactionStatus.IDLE:
        parts.insert(0, _begin_statement(dbapi_connection))  # nothing ran in it yet
    parts.append(b"COMMIT")
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(b"; ".join(parts), prepare=False)
    finally:
        cursor.close()


def is_badger_dialect(dialect: Any) -> bool:
    return isinstance(dialect, BadgerPsycopgDialect)


def with_badger_driver(url: URL) -> URL:
    """``postgresql+psycopg`` URLs use this dialect; any other URL is returned unchanged."""
    if url.drivername == "postgresql+psycopg":
        return url.set(drivername=f"postgresql+{DRIVER}")
    return url


_RENDERER = "_badger_client_cursor"


def _client_side(connection: Any) -> Any:
    """A ``ClientCursor`` on ``connection``, kept with it, for ``mogrify``."""
    renderer = getattr(connection, _RENDERER, None)
    if renderer is None:
        renderer = psycopg.ClientCursor(connection)
        setattr(connection, _RENDERER, renderer)
    return renderer


registry.register(f"postgresql.{DRIVER}", __name__, "BadgerPsycopgDialect")
