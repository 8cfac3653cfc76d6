"""Statements compiled once by SQLAlchemy and run straight on the driver's cursor.

On the award path SQLAlchemy's execution layer (an execution context, a
result object and its row processors, event dispatch, per statement) cost
several times what SQLite takes to run the statement, and on PostgreSQL about
as much as psycopg's own work: most of an award's time went there.  A
:class:`Prepared` statement keeps SQLAlchemy for what it does well, building
and compiling the SQL for each database, and then runs the compiled string
with the DBAPI cursor of the unit of work's connection:

* parameters go through ``Compiled.construct_params`` and the types' bind
  processors (``TypeEngine.bind_processor``), as ``Connection.execute`` does;
  expanding ``IN`` parameters through ``construct_expanded_state``, compiled
  once per number of values;
* columns an ``INSERT`` leaves out get their Python-side ``default`` (and an
  ``UPDATE`` its ``onupdate``), as SQLAlchemy's prefetch does;
* result values go through the types' result processors
  (``TypeEngine.result_processor``);
* driver errors come out as SQLAlchemy's (``DBAPIError.instance``: an
  ``IntegrityError`` is still an ``IntegrityError``), and a lost connection
  is invalidated so the pool does not hand it out again;
* ``before_cursor_execute`` / ``after_cursor_execute`` listeners still see
  every statement (statement counters, tracing).

Rows come back as plain tuples in a :class:`Rows` (``scalar``, ``first``,
``one``, ``all``, ``scalars``, iteration): no ``Row`` objects, no attribute
access by column name.  Not for ORM statements, nor for SQL-side defaults
that SQLAlchemy would have to run before the statement (sequences executed
separately): both are refused when the statement is first compiled.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, InvalidRequestError, MultipleResultsFound, NoResultFound
from sqlalchemy.sql.elements import ClauseElement

from badger.store import pg

Processor = Callable[[Any], Any]
_CURSOR = "badger.prepared.cursor"


class Rows:
    """What a prepared statement returned: tuples, fetched at once."""

    __slots__ = ("_rows",)

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self._rows = rows

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def all(self) -> list[tuple[Any, ...]]:
        return list(self._rows)

    def first(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def scalar(self) -> Any:
        """The first column of the first row, or ``None`` when there is none."""
        return self._rows[0][0] if self._rows else None

    def one(self) -> tuple[Any, ...]:
        if len(self._rows) != 1:
            if not self._rows:
                raise NoResultFound("No row was found when one was required")
            raise MultipleResultsFound("Multiple rows were found when exactly one was required")
        return self._rows[0]

    def scalars(self) -> Rows:
        """The first column of every row (``.all()`` then gives the values)."""
        return _Scalars([row[0] for row in self._rows])


class _Scalars(Rows):
    __slots__ = ()

    def all(self) -> list[Any]:  # type: ignore[override]
        return list(self._rows)

    def first(self) -> Any:
        return self._rows[0] if self._rows else None


class Prepared:
    """A Core statement compiled once per database and shape of parameters.

    Build it once (at import time, or in a cached builder); run it with
    ``UnitOfWork.core``, which hands it the transaction's connection.
    """

    def __init__(self, statement: ClauseElement) -> None:
        for description in getattr(statement, "column_descriptions", ()):
            if isinstance(description.get("type"), type):  # an entity, not a column
                raise TypeError("Prepared takes statements of columns, not ORM entities")
        self.statement = statement
        self._forms: dict[tuple[Any, ...], _Form] = {}
        self._expanding: tuple[str, ...] | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Prepared({str(self.statement).splitlines()[0]!r}…)"

    def run(self, conn: Connection, parameters: Any = None) -> Rows:
        """Run on ``conn`` (in its transaction): one row's values, or a list for executemany."""
        many = isinstance(parameters, Sequence) and not isinstance(parameters, Mapping)
        rows_in: Sequence[Mapping[str, Any]] = (
            parameters if many else [parameters or {}]  # type: ignore[list-item]
        )
        if many and not rows_in:
            return Rows([])
        dialect = conn.dialect
        form = self._form(dialect, rows_in[0])
        bound = [form.bind(row) for row in rows_in]
        pooled = conn.connection
        dbapi_connection = pooled.dbapi_connection
        if dbapi_connection is None:  # pragma: no cover - a session's connection is live
            raise RuntimeError("the connection is closed")
        # One cursor per driver connection, kept with it in the pool: making
        # and closing one per statement was a tenth of the statement's cost.
        kept = pooled.info.get(_CURSOR)
        if kept is not None and kept[0] is dbapi_connection:
            cursor = kept[1]
        else:
            cursor = dbapi_connection.cursor()
            pooled.info[_CURSOR] = (dbapi_connection, cursor)
        dispatch = conn.dispatch
        observed = bool(dispatch.before_cursor_execute or dispatch.after_cursor_execute)
        sql = form.sql
        try:
            if observed:
                dispatch.before_cursor_execute(
                    conn, cursor, sql, bound if many else bound[0], None, many
                )
            fetched: list[tuple[Any, ...]] = []
            if many and not form.returns:
                cursor.executemany(sql, bound)
            else:
                # A driver's executemany cannot return rows (SQLite's cannot
                # run RETURNING at all): one execute per row, as cheap here.
                for values in bound:
                    cursor.execute(sql, values)
                    if form.returns:
                        fetched.extend(cursor.fetchall())
            if observed:
                dispatch.after_cursor_execute(
                    conn, cursor, sql, bound if many else bound[0], None, many
                )
            if fetched:
                fetched = form.process(dialect, cursor, fetched)
        except dialect.loaded_dbapi.Error as exc:
            pooled.info.pop(_CURSOR, None)  # a fresh cursor next time
            raise _wrapped(conn, exc, cursor, sql, bound if many else bound[0], many) from exc
        return Rows(fetched)

    def _form(self, dialect: Any, values: Mapping[str, Any]) -> _Form:
        keys = tuple(values)  # in the caller's order: one form per call site
        compiled = None
        expanding = self._expanding
        if expanding is None:  # first use: which parameters are expanding IN lists
            compiled = self.statement.compile(dialect=dialect, column_keys=list(keys))
            expanding = self._expanding = tuple(
                compiled.bind_names[bind] for bind in compiled.post_compile_params
            )
        shape = tuple(len(values[name]) for name in expanding if name in values)
        key = (dialect.name, dialect.driver, keys, shape)
        form = self._forms.get(key)
        if form is None:
            with self._lock:
                form = self._forms.get(key)
                if form is None:
                    if compiled is None:
                        compiled = self.statement.compile(dialect=dialect, column_keys=list(keys))
                    form = self._forms[key] = _Form(self.statement, dialect, compiled, values)
        return form


class _Form:
    """One compilation: the SQL string, the parameter order and the processors."""

    def __init__(
        self, statement: ClauseElement, dialect: Any, compiled: Any, sample: Mapping[str, Any]
    ) -> None:
        keys = tuple(sample)
        self.compiled = compiled
        self.returns = bool(statement.exported_columns)  # type: ignore[attr-defined]
        self._columns = list(statement.exported_columns)  # type: ignore[attr-defined]
        self._result: list[Processor | None] | None = None
        processors: dict[str, Processor] = {}
        for bind, name in compiled.bind_names.items():
            proc = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if proc is not None:
                processors[name] = proc
        # Columns left out of an INSERT (an UPDATE) get their Python-side
        # default (onupdate) here, as SQLAlchemy's execution context would.
        self._defaults: list[tuple[str, Any]] = []
        for column, attr in (
            *((c, "default") for c in compiled.insert_prefetch),
            *((c, "onupdate") for c in compiled.update_prefetch),
        ):
            default = getattr(column, attr)
            if not (default.is_scalar or default.is_callable):
                raise TypeError(f"{column}: only Python-side defaults can be prepared")
            self._defaults.append((column.key, default))
        self._expansion: dict[str, list[str]] = {}
        if compiled.post_compile_params:
            state = compiled.construct_expanded_state(compiled.construct_params(sample))
            self.sql = state.statement
            self._order = state.positiontup
            self._expansion = dict(state.parameter_expansion)
            for name, expanded in self._expansion.items():
                proc = processors.pop(name, None)
                if proc is not None:
                    processors.update(dict.fromkeys(expanded, proc))
        else:
            self.sql = compiled.string
            self._order = compiled.positiontup if dialect.positional else None
        self._processors = processors
        # Where each parameter's value comes from, fixed for this form (its
        # parameter names are part of its key): the caller's values, the
        # statement's own literals, or a callable (then construct_params).
        self._given: list[str] = []
        self._fixed: dict[str, Any] = {}
        self._missing: list[str] = []
        self._computed = False
        for bind, name in compiled.bind_names.items():
            if name in keys:
                if name not in self._given:
                    self._given.append(name)
            elif bind.callable is not None:
                self._computed = True
            elif bind.required:
                self._missing.append(name)
            else:
                self._fixed[name] = bind.value

    def bind(self, given: Mapping[str, Any]) -> Any:
        if self._missing:
            raise InvalidRequestError(
                f"A value is required for bind parameter {self._missing[0]!r}"
            )
        if self._computed:
            values = self.compiled.construct_params(given)
        else:
            try:
                values = {name: given[name] for name in self._given}
            except KeyError as missing:  # a later row of an executemany without it
                raise InvalidRequestError(
                    f"A value is required for bind parameter {missing.args[0]!r}"
                ) from None
            values.update(self._fixed)
        for name, default in self._defaults:
            values[name] = default.arg(None) if default.is_callable else default.arg
        for name, expanded in self._expansion.items():
            values.update(zip(expanded, values.pop(name), strict=True))
        for name, proc in self._processors.items():
            values[name] = proc(values[name])
        if self._order is not None:
            return tuple(values[name] for name in self._order)
        return values

    def process(
        self, dialect: Any, cursor: Any, rows: list[tuple[Any, ...]]
    ) -> list[tuple[Any, ...]]:
        procs = self._result
        if procs is None:
            # The description only the first time: psycopg builds it afresh
            # (an object per column) each time it is asked.
            procs = self._result = [
                column.type.dialect_impl(dialect).result_processor(dialect, desc[1])
                for column, desc in zip(self._columns, cursor.description, strict=True)
            ]
        if not any(procs):
            return rows if not rows or type(rows[0]) is tuple else [tuple(r) for r in rows]
        return [
            tuple(v if p is None else p(v) for p, v in zip(procs, row, strict=True)) for row in rows
        ]


def commit_with(conn: Connection, rows: Sequence[tuple[Prepared, Mapping[str, Any]]]) -> None:
    """Run each (statement, one row's values) and commit, in one round trip to PostgreSQL.

    For PostgreSQL through psycopg (``badger.store.pg.commit_with``): what
    the statements would return (an insert's implicit ``RETURNING id``) is
    dropped.  ``conn``'s transaction is committed on the server; its owner's
    commit then finds nothing left to do.  Errors come out as SQLAlchemy's,
    as from :meth:`Prepared.run`; the server has then committed nothing.
    """
    dialect = conn.dialect
    statements = []
    for prepared, values in rows:
        form = prepared._form(dialect, values)
        statements.append((form.sql, form.bind(values)))

    def described() -> tuple[str, list[Any]]:  # for listeners and errors only
        return "; ".join([*(s for s, _ in statements), "COMMIT"]), [p for _, p in statements]

    dispatch = conn.dispatch
    observed = bool(dispatch.before_cursor_execute or dispatch.after_cursor_execute)
    try:
        if observed:
            dispatch.before_cursor_execute(conn, None, *described(), None, True)
        pg.commit_with(conn.connection.dbapi_connection, statements)
        if observed:
            dispatch.after_cursor_execute(conn, None, *described(), None, True)
    except dialect.loaded_dbapi.Error as exc:
        raise _wrapped(conn, exc, None, *described(), True) from exc


def _wrapped(
    conn: Connection, exc: Exception, cursor: Any, sql: str, parameters: Any, many: bool
) -> DBAPIError:
    """The driver's error as SQLAlchemy's; a lost connection is invalidated (not pooled again)."""
    dialect = conn.dialect
    invalidated = dialect.is_disconnect(exc, conn.connection.dbapi_connection, cursor)
    if invalidated:
        conn.invalidate(exc)
    return DBAPIError.instance(
        sql,
        parameters,
        exc,
        dialect.loaded_dbapi.Error,
        connection_invalidated=invalidated,
        dialect=dialect,
        ismulti=many,
    )
