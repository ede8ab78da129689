"""The async face of storage: `await store.run(job)` runs a synchronous job in one transaction.

A job is a function of a SQLAlchemy `Connection` (normally building a `Repository`), so the
same code runs on both back ends:

- SQLite: one writer thread owns the connection and commits jobs in groups. A group shares one
  `BEGIN IMMEDIATE ... COMMIT`; if any job in it fails, the group is rolled back and each job is
  run again in a transaction of its own, so one bad message never undoes another's answer.
  Every job is committed before its caller resumes, so a reply is sent only after its answer
  is durable.
- PostgreSQL: asyncpg through SQLAlchemy's async engine; `run_sync` runs the job inside the
  transaction, and the repository's row lock serialises one person's messages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

from sqlalchemy import Connection
from sqlalchemy.engine import URL, make_url

if TYPE_CHECKING:
    from storage.executor import Executor

T = TypeVar("T")
Job = Callable[[Connection], T]
StepJob = Callable[["Executor"], T]
"""A per-message job: it reads and writes only through its executor (`storage.executor`)."""


class Store(Protocol):
    """Runs jobs in transactions; see the module docstring."""

    @property
    def backend(self) -> str: ...

    async def start(self) -> None: ...

    async def run(self, job: Job[T]) -> T: ...

    async def step(self, job: StepJob[T]) -> T:
        """Run a per-message job in one transaction, at the driver's speed."""
        ...

    async def read(self, job: Job[T]) -> T:
        """Run a job that only reads (a report), without holding up the writers."""
        ...

    async def scrub(self) -> None:
        """After an erasure (committed), clear what the database files still hold of the erased rows
        where the back end can do it on the spot."""
        ...

    async def close(self) -> None: ...


class DatabaseURLError(ValueError):
    """The database URL is not one cxbot can use."""


class StoreUnavailable(RuntimeError):
    """The database could not be opened or migrated; the message says where and why."""


class StoreBusy(RuntimeError):
    """The database could not take a message's work in time (locked, restarting, unreachable): nothing
    was applied, and the same message can be sent again (with its id, it is then applied once)."""


STEP_WAIT = 3.0
"""Seconds a message's work may wait to start before it is refused as busy (with the database's own
lock wait after it, a message is answered within about five seconds either way)."""


def normalise_url(url: str) -> URL:
    """Pick cxbot's driver for a URL: sqlite3 on a writer thread, or asyncpg."""
    try:
        parsed = make_url(url)
    except Exception as error:
        raise DatabaseURLError(f"CXBOT_DATABASE_URL {url!r} is not a database URL") from error
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+pysqlite")
    if backend in {"postgresql", "postgres"}:
        return parsed.set(drivername="postgresql+asyncpg")
    raise DatabaseURLError(f"CXBOT_DATABASE_URL {url!r}: use sqlite:///path.db or postgresql://user@host/db")


async def open_store(url: str, synchronous: str = "NORMAL") -> Store:
    """Open the store for the URL, with the schema migrated to the latest revision.

    `synchronous` is SQLite's durability setting: NORMAL (WAL: survives a crash of the process)
    or FULL (also survives power loss).
    """
    parsed = normalise_url(url)
    store: Store
    if parsed.get_backend_name() == "sqlite":
        from storage.sqlite_store import SqliteStore

        store = SqliteStore(parsed, synchronous)
    else:
        from storage.postgres_store import PostgresStore

        store = PostgresStore(parsed)
    try:
        await store.start()
    except Exception as error:
        await store.close()
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        where = parsed.render_as_string(hide_password=True)
        raise StoreUnavailable(f"cannot open the database {where}: {reason}") from error
    return store
