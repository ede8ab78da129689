"""Running the per-message statements at the driver's cost.

The statements are defined once with SQLAlchemy Core (`storage.statements`), which knows each
dialect's SQL and each column type's conversions. Running them through a SQLAlchemy `Connection`
costs far more Python per execution than the database's own work (building parameters, execution
contexts, result metadata), so on SQLite each statement is compiled once, with the dialect's bind and
result conversions looked up once, and then run straight on the sqlite3 cursor:

    executor = executor_for(conn)       # a SQLAlchemy Connection inside the store's transaction
    rows = executor.rows(STATEMENT, {"channel": ..., "sender": ...})

Other dialects run through the connection unchanged (`AlchemyExecutor`), so callers are the same on
both back ends. Rows support attribute access by column name, like SQLAlchemy's.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import Connection, DateTime
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any] | None


class Executor(Protocol):
    """Runs statements in the caller's transaction."""

    def rows(self, statement: Any, params: dict[str, Any]) -> list[Any]: ...

    def first(self, statement: Any, params: dict[str, Any]) -> Any | None: ...

    def scalar(self, statement: Any, params: dict[str, Any]) -> Any: ...

    def run(self, statement: Any, params: dict[str, Any]) -> int:
        """Execute; the number of rows it changed."""
        ...

    def many(self, statement: Any, params: Sequence[dict[str, Any]]) -> None: ...


class AlchemyExecutor:
    """Through the SQLAlchemy connection (PostgreSQL, and anything not compiled ahead)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def rows(self, statement: Any, params: dict[str, Any]) -> list[Any]:
        return list(self.conn.execute(statement, params).all())

    def first(self, statement: Any, params: dict[str, Any]) -> Any | None:
        return self.conn.execute(statement, params).first()

    def scalar(self, statement: Any, params: dict[str, Any]) -> Any:
        return self.conn.execute(statement, params).scalar_one()

    def run(self, statement: Any, params: dict[str, Any]) -> int:
        return int(self.conn.execute(statement, params).rowcount)

    def many(self, statement: Any, params: Sequence[dict[str, Any]]) -> None:
        self.conn.execute(statement, list(params))


@dataclass(frozen=True, slots=True)
class Prepared:
    """A statement as sqlite3 runs it: SQL with `?` markers, and how to fill and read them."""

    sql: str
    names: tuple[str, ...]
    """The parameter behind each `?`, in order."""
    defaults: dict[str, Any]
    """Values the statement carries itself (literals such as status="open")."""
    binds: tuple[Processor, ...]
    row: Callable[..., Any] | None
    """Makes a row from the converted column values (None for statements without results)."""
    results: tuple[Processor, ...]


SQLITE = sqlite.dialect(paramstyle="qmark")
_prepared: dict[int, tuple[ClauseElement, Prepared]] = {}
"""Keyed by the statement object's id (statements are module-level and live as long as the process);
the statement is kept beside its compiled form so the id cannot be reused."""


def prepared(statement: ClauseElement) -> Prepared:
    """The statement compiled for sqlite3, once per process."""
    found = _prepared.get(id(statement))
    if found is not None and found[0] is statement:
        return found[1]
    made = _prepare(statement, SQLITE)
    _prepared[id(statement)] = (statement, made)
    return made


def _prepare(statement: ClauseElement, dialect: Dialect) -> Prepared:
    form = cast(SQLCompiler, statement.compile(dialect=dialect))
    if form.post_compile_params:  # an IN over a list given per execution: not compiled ahead
        raise ValueError(f"{statement} has expanding parameters: run it through the SQLAlchemy connection")
    names = tuple(form.positiontup or ())
    required = {name for name, bind in form.binds.items() if bind.required}
    values = form.construct_params({name: None for name in required}) or {}
    defaults = {name: value for name, value in values.items() if name not in required}
    binds = tuple(_bind_processor(form.binds.get(name), dialect) for name in names)
    columns = list(getattr(statement, "exported_columns", ()) or ())
    if not columns:
        return Prepared(form.string, names, defaults, binds, None, ())
    fields = [column.key for column in columns]
    row = cast(Any, namedtuple("Row", fields, rename=True))._make
    results = tuple(_result_processor(column.type, dialect) for column in columns)
    return Prepared(form.string, names, defaults, binds, row, results)


def _bind_processor(bind: Any, dialect: Dialect) -> Processor:
    if bind is None:
        return None
    process = bind.type.dialect_impl(dialect).bind_processor(dialect)
    if process is None or not isinstance(bind.type, DateTime):
        return process
    return _last_one(process)


def _last_one(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The processor, remembering its last value: a message binds its one `now` several times."""
    last: tuple[Any, Any] = (None, None)

    def remembered(value: Any) -> Any:
        nonlocal last
        seen, result = last  # one tuple, replaced whole: two writer threads never mix its halves
        if value is not seen:
            result = process(value)
            last = (value, result)
        return result

    return remembered


def _result_processor(kind: Any, dialect: Dialect) -> Processor:
    """SQLAlchemy's conversion of a column's values, but `datetime.fromisoformat` (in C) for times:
    SQLite stores them as "2026-12-01 09:30:00.000000", and SQLAlchemy parses that with a regular
    expression in Python, the slowest part of reading a row."""
    if isinstance(kind, DateTime):
        return datetime.fromisoformat
    return kind.dialect_impl(dialect).result_processor(dialect, None)


class SqliteExecutor:
    """Straight on the sqlite3 connection under a SQLAlchemy `Connection` (same transaction)."""

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.cursor = raw.cursor()

    def _params(self, form: Prepared, params: dict[str, Any]) -> list[Any]:
        values = []
        for name, process in zip(form.names, form.binds, strict=True):
            value = params[name] if name in params else form.defaults[name]
            values.append(process(value) if process is not None and value is not None else value)
        return values

    def _read(self, form: Prepared, raw: Iterable[tuple[Any, ...]]) -> list[Any]:
        make, results = form.row, form.results
        assert make is not None
        if not any(results):  # nothing to convert (ids, texts, numbers): rows as they come
            return list(map(make, raw))
        out = []
        for values in raw:
            converted = [
                p(v) if p is not None and v is not None else v for p, v in zip(results, values, strict=True)
            ]
            out.append(make(converted))
        return out

    def rows(self, statement: Any, params: dict[str, Any]) -> list[Any]:
        form = prepared(statement)
        return self._read(form, self.cursor.execute(form.sql, self._params(form, params)).fetchall())

    def first(self, statement: Any, params: dict[str, Any]) -> Any | None:
        found = self.rows(statement, params)
        return found[0] if found else None

    def scalar(self, statement: Any, params: dict[str, Any]) -> Any:
        found = self.rows(statement, params)
        if len(found) != 1:
            raise LookupError(f"expected one row, got {len(found)}")
        return found[0][0]

    def run(self, statement: Any, params: dict[str, Any]) -> int:
        form = prepared(statement)
        return int(self.cursor.execute(form.sql, self._params(form, params)).rowcount)

    def many(self, statement: Any, params: Sequence[dict[str, Any]]) -> None:
        form = prepared(statement)
        self.cursor.executemany(form.sql, [self._params(form, item) for item in params])


def executor_for(conn: Connection) -> Executor:
    """The fastest executor for the connection's dialect, in its transaction."""
    if conn.dialect.name == "sqlite":
        raw = conn.connection.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        return SqliteExecutor(raw)
    return AlchemyExecutor(conn)
