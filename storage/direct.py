"""One connection to the database beside the store, for commands that must not go through it.

The store migrates the schema when it opens and serves short jobs; `cxbot db current` must read the
revision without migrating, an export must read every table in one consistent snapshot without
holding up a server writing to the same database, and an import writes everything in one long
transaction. `run_direct(url, job)` runs a synchronous job on a SQLAlchemy `Connection`:

- reading: SQLite in a deferred transaction on a read-only connection (in WAL mode, one snapshot that
  does not block the writer); PostgreSQL in a `REPEATABLE READ READ ONLY` transaction (one snapshot);
- writing: SQLite in `BEGIN IMMEDIATE` (the write lock for the whole job); PostgreSQL in a transaction.

The job's transaction is committed when it returns, rolled back when it raises.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import Connection
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from storage.sqlite_store import _make_engine
from storage.store import Job, StoreUnavailable, T, normalise_url


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL or an in-memory SQLite database)."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


async def run_direct(url: str, job: Job[T], *, write: bool = False, synchronous: str = "NORMAL") -> T:
    """Run `job` in one transaction on a connection of its own (see the module docstring);
    `StoreUnavailable` if the database cannot be opened."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        return await asyncio.to_thread(_on_sqlite, parsed, job, write, synchronous)
    return await _on_postgres(parsed, job, write)


def _on_sqlite(url: URL, job: Job[T], write: bool, synchronous: str) -> T:
    path = None if url.database in (None, "", ":memory:") else Path(url.database)
    if not write and path is not None and not path.exists():  # sqlite3 would make an empty one
        raise StoreUnavailable(f"there is no database at {path}")
    engine = _make_engine(url, synchronous, reader=not write)
    try:
        try:
            conn = engine.connect()
        except DBAPIError as error:
            raise _unavailable(url, error) from error
        with conn, conn.begin():
            return job(conn)
    finally:
        engine.dispose()


async def _on_postgres(url: URL, job: Job[T], write: bool) -> T:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        try:
            conn = await engine.connect()
        except (OSError, DBAPIError) as error:
            raise _unavailable(url, error) from error
        try:
            if not write:
                conn = await conn.execution_options(
                    isolation_level="REPEATABLE READ", postgresql_readonly=True
                )
            async with conn.begin():
                return await conn.run_sync(_run, job)
        finally:
            await conn.close()
    finally:
        await engine.dispose()


def _run(conn: Connection, job: Job[T]) -> T:
    return job(conn)


def _unavailable(url: URL, error: Exception) -> StoreUnavailable:
    reason = str(getattr(error, "orig", None) or error).splitlines()[0]
    where = url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)
    return StoreUnavailable(f"cannot open the database {where}: {reason}")
