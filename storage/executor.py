"""Running statements at the driver's cost.

The statements are defined once with SQLAlchemy Core (`storage.statements` and its neighbours),
which knows each dialect's SQL and each column type's conversions. Running them through a SQLAlchemy
`Connection` costs far more Python per execution than the database's own work (building parameters,
execution contexts, result metadata), so each statement is compiled once per dialect, with its bind
and result conversions looked up once, and then run straight on the driver:

- `SqliteExecutor`: on the sqlite3 connection of the store's writer (or a reader), in its transaction;
- `AsyncpgExecutor`: on an asyncpg connection, from synchronous code running in a greenlet (the
  bridge SQLAlchemy's own asyncio support uses), so the same repository code serves both back ends;
- `AlchemyExecutor`: through a SQLAlchemy connection, for anything else.

    db = executor_for(conn)
    rows = db.rows(STATEMENT, {"channel": ..., "sender": ...})

Rows support attribute access by column name, like SQLAlchemy's. A parameter of an `IN` over a
list given per execution ("expanding") is spelled out for sqlite3 (`IN (?, ?, ?)`) and sent as one
array to PostgreSQL (`= ANY($n)`).
"""

from __future__ import annotations

import re
import sqlite3
from collections import namedtuple
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar, cast

from sqlalchemy import Connection, DateTime
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import await_only

Processor = Callable[[Any], Any] | None
P = ParamSpec("P")
R = TypeVar("R")


class Executor(Protocol):
    """Runs statements in the caller's transaction."""

    @property
    def dialect(self) -> str: ...

    def rows(self, statement: Any, params: dict[str, Any]) -> list[Any]: ...

    def first(self, statement: Any, params: dict[str, Any]) -> Any | None: ...

    def scalar(self, statement: Any, params: dict[str, Any]) -> Any:
        """The one value of the one row (an error if there is not exactly one row)."""
        ...

    def scalar_or_none(self, statement: Any, params: dict[str, Any]) -> Any:
        """The first value of the first row, or None when there is no row."""
        ...

    def run(self, statement: Any, params: dict[str, Any]) -> int:
        """Execute; the number of rows it changed."""
        ...

    def many(self, statement: Any, params: Sequence[dict[str, Any]]) -> None: ...


class AlchemyExecutor:
    """Through a SQLAlchemy connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name

    def rows(self, statement: Any, params: dict[str, Any]) -> list[Any]:
        return list(self.conn.execute(statement, params).all())

    def first(self, statement: Any, params: dict[str, Any]) -> Any | None:
        return self.conn.execute(statement, params).first()

    def scalar(self, statement: Any, params: dict[str, Any]) -> Any:
        return self.conn.execute(statement, params).scalar_one()

    def scalar_or_none(self, statement: Any, params: dict[str, Any]) -> Any:
        return self.conn.execute(statement, params).scalar()

    def run(self, statement: Any, params: dict[str, Any]) -> int:
        return int(self.conn.execute(statement, params).rowcount)

    def many(self, statement: Any, params: Sequence[dict[str, Any]]) -> None:
        if params:
            self.conn.execute(statement, list(params))


@dataclass(frozen=True, slots=True)
class Prepared:
    """A statement as the driver runs it: its SQL, and how to fill and read it."""

    sql: str
    order: tuple[str, ...]
    """Every parameter, in the order it appears in the SQL."""
    expanding: frozenset[str]
    """Parameters that are lists (an IN over values given per execution)."""
    defaults: dict[str, Any]
    """Values the statement carries itself (literals such as status="open")."""
    binds: dict[str, Processor]
    row: Callable[..., Any] | None
    """Makes a row from the converted column values (None for statements without results)."""
    results: tuple[Processor, ...]
    fill: tuple[tuple[str, Processor, Any], ...] = ()
    """Per placeholder of a statement without lists: (parameter, its processor, or None and the
    statement's own value already converted), so filling it in is one pass over this."""
    converting: tuple[int, ...] = ()
    """The result columns that have a conversion."""

    def value(self, name: str, params: dict[str, Any]) -> Any:
        value = params[name] if name in params else self.defaults[name]
        process = self.binds.get(name)
        return process(value) if process is not None and value is not None else value

    def values(self, params: dict[str, Any]) -> list[Any]:
        """The values of a statement without list parameters, in order, converted for the driver."""
        values = []
        for name, process, own in self.fill:
            if name:
                value = params[name]
                values.append(process(value) if process is not None and value is not None else value)
            else:
                values.append(own)
        return values

    def read(self, raw: Iterable[Sequence[Any]]) -> list[Any]:
        make, results, converting = self.row, self.results, self.converting
        assert make is not None
        if not converting:  # nothing to convert (ids, texts, numbers): rows as they come
            return [make(values) for values in raw]
        rows = []
        for values in raw:
            row = list(values)
            for index in converting:
                if row[index] is not None:
                    row[index] = results[index](row[index])  # type: ignore[misc]
            rows.append(make(row))
        return rows


SQLITE = sqlite.dialect(paramstyle="qmark")
POSTGRESQL = postgresql.asyncpg.dialect()
_prepared: dict[tuple[int, str], tuple[ClauseElement, Prepared]] = {}
"""Keyed by the statement object's id and the dialect (statements are module-level and live as long as
the process); the statement is kept beside its compiled form so the id cannot be reused."""
_EXPANDING = re.compile(r" (NOT )?IN \(__\[POSTCOMPILE_(\w+)\]\)")


def prepared(statement: ClauseElement, dialect: Dialect) -> Prepared:
    """The statement compiled for a dialect, once per process."""
    key = (id(statement), dialect.name)
    found = _prepared.get(key)
    if found is not None and found[0] is statement:
        return found[1]
    made = _prepare(statement, dialect)
    _prepared[key] = (statement, made)
    return made


def _prepare(statement: ClauseElement, dialect: Dialect) -> Prepared:
    form = cast(SQLCompiler, statement.compile(dialect=dialect))
    order = tuple(form.positiontup or ())
    binds = {name: form.binds[name] for name in order}
    expanding = frozenset(name for name, bind in binds.items() if bind.expanding)
    defaults = {name: bind.effective_value for name, bind in binds.items() if not bind.required}
    processors = {
        name: _bind_processor(bind, dialect) for name, bind in binds.items() if name not in expanding
    }
    columns = list(getattr(statement, "exported_columns", ()) or ())
    row = cast(Any, namedtuple("Row", [c.key for c in columns], rename=True))._make if columns else None
    results = tuple(_result_processor(column.type, dialect) for column in columns)
    fill = tuple(_filler(name, processors.get(name), defaults) for name in order if name not in expanding)
    converting = tuple(index for index, process in enumerate(results) if process is not None)
    return Prepared(form.string, order, expanding, defaults, processors, row, results, fill, converting)


def _filler(name: str, process: Processor, defaults: dict[str, Any]) -> tuple[str, Processor, Any]:
    """How to fill one placeholder: from the parameter `name`, or ("", None, value) for the
    statement's own value, converted once here."""
    if name not in defaults:
        return (name, process, None)
    own = defaults[name]
    return ("", None, process(own) if process is not None and own is not None else own)


def _bind_processor(bind: Any, dialect: Dialect) -> Processor:
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
    """SQLAlchemy's conversion of a column's values; for times on SQLite `datetime.fromisoformat`
    (in C): SQLite stores them as "2026-12-01 09:30:00.000000", which SQLAlchemy parses with a
    regular expression in Python, the slowest part of reading a row."""
    if isinstance(kind, DateTime) and dialect.name == "sqlite":
        return datetime.fromisoformat
    return kind.dialect_impl(dialect).result_processor(dialect, None)


class _DriverExecutor:
    """What the sqlite3 and asyncpg executors share: statements prepared for their dialect."""

    dialect_object: Dialect
    dialect: str

    def rows(self, statement: Any, params: dict[str, Any]) -> list[Any]:
        form = prepared(statement, self.dialect_object)
        return form.read(self._fetch(form, params))

    def first(self, statement: Any, params: dict[str, Any]) -> Any | None:
        found = self.rows(statement, params)
        return found[0] if found else None

    def scalar(self, statement: Any, params: dict[str, Any]) -> Any:
        found = self.rows(statement, params)
        if len(found) != 1:
            raise LookupError(f"expected one row, got {len(found)}")
        return found[0][0]

    def scalar_or_none(self, statement: Any, params: dict[str, Any]) -> Any:
        found = self.rows(statement, params)
        return found[0][0] if found else None

    def _fetch(self, form: Prepared, params: dict[str, Any]) -> Iterable[Sequence[Any]]:
        raise NotImplementedError


class SqliteExecutor(_DriverExecutor):
    """Straight on a sqlite3 connection under a SQLAlchemy `Connection` (same transaction)."""

    dialect_object = SQLITE
    dialect = "sqlite"

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.cursor = raw.cursor()

    def _execute(self, form: Prepared, params: dict[str, Any]) -> sqlite3.Cursor:
        if not form.expanding:
            return self.cursor.execute(form.sql, form.values(params))
        return self.cursor.execute(*_spelled_out(form, params))

    def _fetch(self, form: Prepared, params: dict[str, Any]) -> Iterable[Sequence[Any]]:
        return self._execute(form, params).fetchall()

    def run(self, statement: Any, params: dict[str, Any]) -> int:
        return int(self._execute(prepared(statement, SQLITE), params).rowcount)

    def many(self, statement: Any, params: Sequence[dict[str, Any]]) -> None:
        form = prepared(statement, SQLITE)
        if params:
            self.cursor.executemany(form.sql, [form.values(item) for item in params])


def _spelled_out(form: Prepared, params: dict[str, Any]) -> tuple[str, list[Any]]:
    """SQL and values with each list parameter written out as `?, ?, ?` (an empty list matches
    nothing, as SQLAlchemy's own rendering does)."""
    sql, values = form.sql, []
    for name in form.order:  # the order the placeholders appear in
        if name not in form.expanding:
            values.append(form.value(name, params))
            continue
        items = list(params[name] if name in params else form.defaults[name])
        values += items
        marks = ", ".join("?" for _ in items) if items else "SELECT NULL WHERE 0"
        sql = sql.replace(f"__[POSTCOMPILE_{name}]", marks)
    return sql, values


class AsyncpgExecutor(_DriverExecutor):
    """On an asyncpg connection, called from synchronous code inside `greenlet_spawn`."""

    dialect_object = POSTGRESQL
    dialect = "postgresql"

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        """An `asyncpg.Connection` inside a transaction."""

    def _sql_and_values(self, form: Prepared, params: dict[str, Any]) -> tuple[str, list[Any]]:
        if not form.expanding:
            return form.sql, form.values(params)
        # the numbered ($1...) parameters come first; each list becomes one more, an array
        values = [form.value(name, params) for name in form.order if name not in form.expanding]

        def as_array(match: re.Match[str]) -> str:
            name = match.group(2)
            values.append(list(params[name] if name in params else form.defaults[name]))
            return f" {'!= ALL' if match.group(1) else '= ANY'}(${len(values)})"

        return _EXPANDING.sub(as_array, form.sql), values

    def _fetch(self, form: Prepared, params: dict[str, Any]) -> Iterable[Sequence[Any]]:
        sql, values = self._sql_and_values(form, params)
        return cast(list[Sequence[Any]], await_only(self.raw.fetch(sql, *values)))

    def run(self, statement: Any, params: dict[str, Any]) -> int:
        sql, values = self._sql_and_values(prepared(statement, POSTGRESQL), params)
        status: str = await_only(self.raw.execute(sql, *values))
        last = status.rsplit(" ", 1)[-1]  # "UPDATE 3", "INSERT 0 1", "DELETE 0"
        return int(last) if last.isdigit() else 0

    def many(self, statement: Any, params: Sequence[dict[str, Any]]) -> None:
        form = prepared(statement, POSTGRESQL)
        if params:
            await_only(self.raw.executemany(form.sql, [form.values(item) for item in params]))


def executor_for(conn: Connection) -> Executor:
    """The fastest executor for a SQLAlchemy connection, in its transaction."""
    if conn.dialect.name == "sqlite":
        raw = conn.connection.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        return SqliteExecutor(raw)
    return AlchemyExecutor(conn)


def as_executor(conn: Connection | Executor) -> Executor:
    """An executor for either a SQLAlchemy connection or an executor already made."""
    return executor_for(conn) if isinstance(conn, Connection) else conn


def on_executor(
    function: Callable[Concatenate[Executor, P], R],
) -> Callable[Concatenate[Connection | Executor, P], R]:
    """Lets a function written for an executor take a SQLAlchemy connection too (a store job gets
    one), so storage functions serve the per-message step and other jobs alike."""

    @wraps(function)
    def taking_either(db: Connection | Executor, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return function(as_executor(db), *args, **kwargs)

    return taking_either
