"""Everything in a database as one portable file, and back: `cxbot export` and `cxbot import`, so a
team moving from SQLite to PostgreSQL (or back) keeps its history.

The file is JSON Lines in UTF-8 (the commands gzip it when its name ends in `.gz`):

    {"format": "cxbot-export", "format_version": 1, "revision": "0004", "source": "sqlite",
     "exported_at": "2026-12-02T10:00:00+00:00", "tables": {"participants": 2, "runs": 3, ...}}
    {"table": "participants", "columns": ["id", "channel", ...]}
    [1, "telegram", ...]
    [2, "web", ...]
    {"table": "runs", "columns": [...]}
    ...

The header names the schema revision and every table with its number of rows, parents before the
tables whose rows refer to them; then each table's columns, and its rows in primary key order, one
JSON array each. Every table of the schema (`storage.tables.metadata`) is written, whatever tables
later migrations add. Values: times as ISO 8601 in UTC with the offset (`...+00:00`), JSON columns
as JSON, booleans as `true`/`false`, NULL as `null` (a JSON column's SQL NULL and JSON null are
both `null`, and come back as JSON null), binary data as base64, decimals as strings.

An import goes into an empty database at the same revision, in one transaction: it refuses a
database with any row in it, inserts every row with its own ids, moves PostgreSQL's sequences past
them (so new rows do not collide), checks each table's count against the header, and commits only
if everything matched.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, TextIO

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Table,
    Time,
    Uuid,
    func,
    literal,
    select,
)
from sqlalchemy.exc import DBAPIError

from storage import revision
from storage.tables import metadata

FORMAT = "cxbot-export"
FORMAT_VERSION = 1
BATCH = 1000
"""Rows fetched, or inserted, at a time."""

Codec = Callable[[Any], Any]


class TransferError(Exception):
    """An export or import that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Summary:
    """What was exported or imported."""

    revision: str
    rows: dict[str, int]
    """Rows per table, in the file's order."""

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def export_database(conn: Connection, out: TextIO) -> Summary:
    """Write every table to `out`, reading in `conn`'s transaction (one snapshot, see
    `storage.direct`); the database must be at the latest revision."""
    at = _revision_at_head(conn, "export it")
    tables = metadata.sorted_tables
    counts = {table.name: conn.scalar(select(func.count()).select_from(table)) or 0 for table in tables}
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "revision": at,
        "source": conn.dialect.name,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tables": counts,
    }
    out.write(_line(header))
    for table in tables:
        written = _export_table(conn, table, out)
        if written != counts[table.name]:  # only if the transaction is not one snapshot
            raise TransferError(f"{table.name} changed during the export; export again")
    return Summary(at, counts)


def _export_table(conn: Connection, table: Table, out: TextIO) -> int:
    out.write(_line({"table": table.name, "columns": [column.name for column in table.columns]}))
    encoders = [_codec(table, column)[0] for column in table.columns]
    order = list(table.primary_key.columns) or list(table.columns)
    rows = conn.execution_options(yield_per=BATCH).execute(select(table).order_by(*order))
    written = 0
    for row in rows:
        out.write(_line([encode(value) for encode, value in zip(encoders, row, strict=True)]))
        written += 1
    return written


def import_database(conn: Connection, lines: Iterable[str]) -> Summary:
    """Insert everything an export wrote into the empty database of `conn`, in its transaction
    (which the caller commits only if this returns)."""
    reader = _Lines(lines)
    header = _header(reader.next_object("the header"))
    at = _revision_at_head(conn, "import into it")
    check_revision(header)
    _refuse_rows(conn)
    counts: dict[str, int] = header["tables"]
    for name, count in counts.items():
        _import_table(conn, metadata.tables[name], count, reader)
    reader.expect_end()
    _move_sequences(conn)
    for name, count in counts.items():
        found = conn.scalar(select(func.count()).select_from(metadata.tables[name]))
        if found != count:
            raise TransferError(f"{name}: {found} rows in the database after the import, {count} in the file")
    return Summary(at, counts)


def read_header(line: str) -> dict[str, Any]:
    """The header of an export, from its first line; `TransferError` if it is not one."""
    try:
        found = json.loads(line) if line.strip() else None
    except json.JSONDecodeError:
        found = None
    if not isinstance(found, dict):
        raise TransferError("this is not a cxbot export (its first line is not a cxbot-export header)")
    return _header(found)


def check_revision(header: dict[str, Any]) -> None:
    """`TransferError` unless the export is at this cxbot's schema revision (before a database is
    touched: an export from another revision is never imported, not even in part)."""
    found, head = header["revision"], revision.head()
    if found == head:
        return
    if not revision.is_known(found):
        raise TransferError(
            f"the file is at schema revision {found}, which this cxbot (at {head}) does not know:"
            " import it with the version of cxbot that exported it, or a newer one"
        )
    raise TransferError(
        f"the file is at schema revision {found} and this cxbot's is {head}: run `cxbot db upgrade` on"
        " the database it came from, then export it again"
    )


def _header(found: dict[str, Any]) -> dict[str, Any]:
    if found.get("format") != FORMAT:
        raise TransferError("this is not a cxbot export (its first line is not a cxbot-export header)")
    if found.get("format_version") != FORMAT_VERSION:
        raise TransferError(
            f"this export's format version {found.get('format_version')} is not one this cxbot reads"
        )
    tables = found.get("tables")
    expected = [table.name for table in metadata.sorted_tables]
    if not isinstance(tables, dict) or not isinstance(found.get("revision"), str):
        raise TransferError("the export's header has no revision or no tables")
    if sorted(tables) != sorted(expected):
        missing, extra = set(expected) - set(tables), set(tables) - set(expected)
        raise TransferError(
            f"the export's tables differ from the schema's (missing {missing or '{}'}, extra {extra or '{}'})"
        )
    if any(not isinstance(count, int) or count < 0 for count in tables.values()):
        raise TransferError("the export's header has a table count that is not a number of rows")
    # parents first, whatever order the file lists them in
    found["tables"] = {name: tables[name] for name in expected}
    return found


def _import_table(conn: Connection, table: Table, count: int, reader: _Lines) -> None:
    section = reader.next_object(f"the section of table {table.name}")
    columns = section.get("columns")
    if section.get("table") != table.name or not isinstance(columns, list):
        raise TransferError(f"line {reader.number}: expected the section of table {table.name}")
    if sorted(columns) != sorted(column.name for column in table.columns):
        raise TransferError(f"line {reader.number}: the columns of {table.name} differ from the schema's")
    decoders = [_codec(table, table.columns[name])[1] for name in columns]
    batch: list[dict[str, Any]] = []
    for _ in range(count):
        values = reader.next_row(len(columns), table.name)
        try:
            batch.append(
                {name: decode(value) for name, decode, value in zip(columns, decoders, values, strict=True)}
            )
        except (TypeError, ValueError) as error:
            raise TransferError(
                f"line {reader.number}: a value of {table.name} cannot be read: {error}"
            ) from None
        if len(batch) == BATCH:
            _insert(conn, table, batch)
            batch = []
    if batch:
        _insert(conn, table, batch)


def _insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    try:
        conn.execute(table.insert(), rows)
    except DBAPIError as error:
        reason = str(error.orig).splitlines()[0] if error.orig else type(error).__name__
        raise TransferError(f"the database refused rows of {table.name}: {reason}") from error


def _revision_at_head(conn: Connection, doing: str) -> str:
    at, head = revision.current(conn), revision.head()
    if at is None:
        raise TransferError("the database has no schema yet: run `cxbot db upgrade` first")
    if at != head:
        if not revision.is_known(at):
            raise TransferError(
                f"the database is at schema revision {at}, which this cxbot does not know:"
                " use the newer cxbot that migrated it"
            )
        raise TransferError(
            f"the database is at schema revision {at}, not {head}: run `cxbot db upgrade` before you {doing}"
        )
    return at


def _refuse_rows(conn: Connection) -> None:
    filled = [
        table.name
        for table in metadata.sorted_tables
        if conn.execute(select(literal(1)).select_from(table).limit(1)).first() is not None
    ]
    if filled:
        named = ", ".join(filled[:3]) + (f" and {len(filled) - 3} more tables" if len(filled) > 3 else "")
        raise TransferError(
            f"the database is not empty ({named} have rows): import only into a new database"
            " (created, and migrated by `cxbot db upgrade` or the import itself,"
            " with nothing served from it yet)"
        )


def _move_sequences(conn: Connection) -> None:
    """PostgreSQL's sequences (serial and identity columns) do not move when rows are inserted with
    their ids: set each past the largest id, so the next new row gets the next free one. (SQLite's
    integer primary keys need nothing: a new row takes the largest rowid + 1.)"""
    if conn.dialect.name != "postgresql":
        return
    quoted = conn.dialect.identifier_preparer.format_table
    for table in metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(column.type, Integer):
                continue
            sequence = conn.scalar(select(func.pg_get_serial_sequence(quoted(table), column.name)))
            if sequence is not None:
                largest = select(func.coalesce(func.max(column), 0)).scalar_subquery()
                conn.execute(select(func.setval(sequence, largest + 1, False)))


# --- values ------------------------------------------------------------------------------------


def _codec(table: Table, column: Column[Any]) -> tuple[Codec, Codec]:
    """How the column's values are written to JSON and read back."""
    kind = column.type
    if isinstance(kind, DateTime):
        return _times(aware=bool(kind.timezone))
    for types, codec in _CODECS:
        if isinstance(kind, types):
            return codec
    raise TransferError(f"{table.name}.{column.name}: cxbot's export does not know columns of type {kind!r}")


def _times(aware: bool) -> tuple[Codec, Codec]:
    def encode(value: datetime | None) -> str | None:
        if value is None:
            return None
        if aware:  # SQLite hands back naive times; everything stored is UTC (storage.time)
            value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
        return value.isoformat()

    def decode(text: str | None) -> datetime | None:
        if text is None:
            return None
        value = datetime.fromisoformat(text)
        if aware:
            if value.tzinfo is None:
                raise ValueError(f"{text!r} has no UTC offset")
            value = value.astimezone(UTC)
        return value

    return encode, decode


def _same(value: Any) -> Any:
    return value


def _nullable(convert: Callable[[Any], Any]) -> Codec:
    return lambda value: None if value is None else convert(value)


def _boolean(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ValueError(f"{value!r} is not true or false")


def _integer(value: Any) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ValueError(f"{value!r} is not a whole number")


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"{value!r} is not text")


_CODECS: list[tuple[type | tuple[type, ...], tuple[Codec, Codec]]] = [
    (Boolean, (_nullable(bool), _boolean)),
    (JSON, (_same, _same)),
    (Date, (_nullable(date.isoformat), _nullable(date.fromisoformat))),
    (Time, (_nullable(time.isoformat), _nullable(time.fromisoformat))),
    (Float, (_same, _nullable(float))),
    (Numeric, (_nullable(str), _nullable(Decimal))),
    (Integer, (_same, _integer)),
    (Uuid, (_nullable(str), _nullable(uuid.UUID))),
    (String, (_same, _text)),
    (LargeBinary, (_nullable(lambda data: base64.b64encode(data).decode()), _nullable(base64.b64decode))),
]
"""Codecs by column type, the more specific first (Float is a Numeric; Text and Enum are Strings)."""


def _line(value: object) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"
    except ValueError as error:  # NaN or infinity in a JSON or float column: not portable JSON
        raise TransferError(f"a value cannot be written as JSON: {error}") from error


class _Lines:
    """The file's lines, parsed one at a time, with the line number for messages."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines: Iterator[str] = iter(lines)
        self.number = 0

    def _next(self, what: str) -> Any:
        for line in self._lines:
            self.number += 1
            try:
                return json.loads(line)
            except json.JSONDecodeError as error:
                raise TransferError(
                    f"line {self.number} is not JSON ({error.msg}): the file is damaged"
                ) from None
        raise TransferError(f"the file ends before {what} (line {self.number + 1}): it was cut short")

    def next_object(self, what: str) -> dict[str, Any]:
        found = self._next(what)
        if not isinstance(found, dict):
            raise TransferError(f"line {self.number}: expected {what}, found a row")
        return found

    def next_row(self, width: int, table: str) -> list[Any]:
        found = self._next(f"the end of table {table}")
        if not isinstance(found, list) or len(found) != width:
            raise TransferError(f"line {self.number}: expected a row of {table} with {width} values")
        return found

    def expect_end(self) -> None:
        for line in self._lines:
            self.number += 1
            if line.strip():
                raise TransferError(f"line {self.number}: more than the header announced")
