"""SQLite on one writer thread with group commit (see `storage.store`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import QueuePool, StaticPool

from storage.executor import executor_for
from storage.migrate import upgrade
from storage.store import STEP_WAIT, Job, StepJob, StoreBusy, T

MAX_GROUP = 64
"""Jobs per commit at most: enough to share an fsync widely, few enough that one group holds the
GIL only a few milliseconds (measured: p99 45 ms with 256 at 64 connections, 24 ms with 32)."""
BUSY_WAIT_MS = 2000
"""How long SQLite waits for a lock another process holds before saying "database is locked"."""
READERS = 2
"""Connections for reports: in WAL mode they read a snapshot while the writer goes on."""
log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Pending:
    job: Job[Any]
    future: asyncio.Future[Any]
    deadline: float | None = None
    """The monotonic time after which the job is refused unstarted (None: it waits its turn)."""
    bare: bool = False
    """Run outside any transaction, after the rest of its group has committed (a WAL checkpoint
    cannot run inside one)."""


_STOP = object()


class SqliteStore:
    backend = "sqlite"

    def __init__(self, url: URL, synchronous: str = "NORMAL") -> None:
        self._url = url
        self._synchronous = synchronous
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._engine: Engine | None = None
        self._readers: Engine | None = None
        self._open = False
        """Accepting jobs. Checked and queued without an await in between, so every job accepted
        is queued before the stop marker that close() queues, and is run."""
        self.observe_commit: Callable[[float], None] | None = None
        """Told the seconds each group's transaction took (on the writer thread), for metrics."""

    def queue_depth(self) -> int:
        """Jobs waiting for the writer (approximate: read without a lock)."""
        return self._queue.qsize()

    async def start(self) -> None:
        """Open the database, migrate it, and start the writer thread."""
        self._loop = asyncio.get_running_loop()
        self._engine = _make_engine(self._url, self._synchronous)
        ready: asyncio.Future[None] = self._loop.create_future()
        self._thread = threading.Thread(target=self._serve, args=(ready,), name="cxbot-sqlite", daemon=True)
        self._thread.start()
        try:
            await ready
        except BaseException:
            await self._stop_thread()
            raise
        self._open = True

    async def run(self, job: Job[T], within: float | None = None) -> T:
        """Run the job in the next group; with `within`, refuse it (`StoreBusy`) if it has not
        started by then."""
        if not self._open or self._loop is None:
            raise RuntimeError("the store is not open")
        future: asyncio.Future[T] = self._loop.create_future()
        deadline = time.monotonic() + within if within is not None else None
        self._queue.put(_Pending(job, future, deadline))
        return await future

    async def step(self, job: StepJob[T]) -> T:
        """A per-message job: on the writer thread, through an executor on its sqlite3 connection;
        refused as busy if the database keeps it from starting for `STEP_WAIT` seconds."""
        return await self.run(lambda conn: job(executor_for(conn)), within=STEP_WAIT)

    async def read(self, job: Job[T]) -> T:
        """Run a read-only job on a reader connection in a worker thread (the writer thread's queue
        is not held up); an in-memory database has no readers, so its writer runs the job."""
        if not self._open:
            raise RuntimeError("the store is not open")
        if self._url.database in (None, "", ":memory:"):
            return await self.run(job)
        if self._readers is None:
            self._readers = _make_engine(self._url, self._synchronous, reader=True)
        readers = self._readers
        return await asyncio.to_thread(_read, readers, job)

    async def scrub(self) -> None:
        """Copy the WAL into the database file and truncate it, on the writer thread between groups.

        With `secure_delete` an erasure overwrites the erased rows with zeros, but only in the pages it
        writes to the WAL: earlier versions of those pages, with the erased text, stay in the WAL (and
        so can be read back from the files) until a checkpoint copies the cleared pages over and the
        WAL is emptied."""
        if not self._open or self._loop is None:
            raise RuntimeError("the store is not open")
        future: asyncio.Future[bool] = self._loop.create_future()
        self._queue.put(_Pending(_checkpoint, future, bare=True))
        if not await future:
            log.warning("the WAL checkpoint after an erasure could not finish (readers were busy)")

    async def close(self) -> None:
        """Run every job already accepted, then stop."""
        self._open = False
        await self._stop_thread()
        if self._readers is not None:
            self._readers.dispose()
            self._readers = None

    async def _stop_thread(self) -> None:
        if self._thread is None:
            return
        self._queue.put(_STOP)
        await asyncio.to_thread(self._thread.join)
        self._thread = None
        if self._engine is not None:
            self._engine.dispose()

    def _serve(self, ready: asyncio.Future[None]) -> None:
        assert self._engine is not None
        conn: Connection | None = None
        try:
            conn = self._engine.connect()
            upgrade(conn)
            conn.commit()
        except BaseException as error:  # noqa: BLE001 - handed to the awaiting start()
            if conn is not None:
                conn.close()
            self._settle([(ready, False, error)])
            return
        self._settle([(ready, True, None)])
        with conn:
            while (group := self._next_group()) is not None:
                self._settle(self._run_group(conn, group))

    def _next_group(self) -> list[_Pending] | None:
        first = self._queue.get()
        if first is _STOP:
            return None
        group = [first]
        while len(group) < MAX_GROUP:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                self._queue.put(_STOP)  # finish this group, then stop
                break
            group.append(item)
        return group

    def _run_group(self, conn: Connection, group: list[_Pending]) -> list[tuple[Any, bool, Any]]:
        bare = [pending for pending in group if pending.bare]
        if bare:  # rare (after an erasure): the others first, in their transaction
            rest = [pending for pending in group if not pending.bare]
            return self._run_group(conn, rest) + [self._run_bare(conn, pending) for pending in bare]
        now = time.monotonic()
        late = [p for p in group if p.deadline is not None and p.deadline < now]
        group = [p for p in group if p not in late]
        outcomes = [(p.future, False, StoreBusy("the database was busy for too long")) for p in late]
        if not group:
            return outcomes
        try:
            transaction = conn.begin()
        except OperationalError as error:  # locked by another process past the wait: refuse them all
            return outcomes + [(p.future, False, _busy_or(error)) for p in group]
        started = time.perf_counter()
        try:
            with transaction:
                values = [pending.job(conn) for pending in group]
        except Exception as error:
            _end_transaction(conn)
            if len(group) == 1:
                return [*outcomes, (group[0].future, False, _busy_or(error))]
            return outcomes + [self._run_alone(conn, pending) for pending in group]
        if self.observe_commit is not None:
            self.observe_commit(time.perf_counter() - started)
        return outcomes + [
            (pending.future, True, value) for pending, value in zip(group, values, strict=True)
        ]

    def _run_alone(self, conn: Connection, pending: _Pending) -> tuple[Any, bool, Any]:
        try:
            with conn.begin():
                return (pending.future, True, pending.job(conn))
        except Exception as error:
            _end_transaction(conn)
            return (pending.future, False, _busy_or(error))

    def _run_bare(self, conn: Connection, pending: _Pending) -> tuple[Any, bool, Any]:
        try:
            return (pending.future, True, pending.job(conn))
        except Exception as error:
            return (pending.future, False, _busy_or(error))

    def _settle(self, outcomes: list[tuple[Any, bool, Any]]) -> None:
        """Hand a whole group's outcomes to the event loop in one wake-up."""
        assert self._loop is not None
        # RuntimeError: the loop closed while the job ran, so nobody awaits its outcome
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(_resolve, outcomes)


def _end_transaction(conn: Connection) -> None:
    """Roll back what a failed COMMIT may have left open. SQLAlchemy counts a transaction as over once
    its COMMIT was tried, but SQLite keeps it open when the COMMIT fails on a deferred constraint, and
    may keep it after a full disk or an I/O error; the writer's one connection would then refuse every
    later BEGIN ("cannot start a transaction within a transaction") until the process restarts."""
    if conn.invalidated:
        return
    raw = conn.connection.driver_connection
    if isinstance(raw, sqlite3.Connection) and raw.in_transaction:
        # a failure here leaves the next BEGIN to fail and say why; the writer thread must go on
        with contextlib.suppress(sqlite3.Error):
            raw.rollback()


def _busy_or(error: Exception) -> Exception:
    """`StoreBusy` for SQLite's "database is locked" (another process held the lock past our wait),
    the error itself otherwise."""
    original = getattr(error, "orig", error)
    code = getattr(original, "sqlite_errorcode", None)
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        busy = StoreBusy("the database is locked by another process")
        busy.__cause__ = error
        return busy
    return error


def _resolve(outcomes: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, value in outcomes:
        if future.cancelled():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


def _checkpoint(conn: Connection) -> bool:
    """Checkpoint the WAL and truncate it to nothing, on the driver connection outside a transaction
    (SQLAlchemy would begin one); whether it completed (it waits for readers up to the busy wait)."""
    raw = conn.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    busy, _, _ = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return not busy


def _read(readers: Engine, job: Job[T]) -> T:
    with readers.connect() as conn, conn.begin():
        return job(conn)


def _make_engine(url: URL, synchronous: str, reader: bool = False) -> Engine:
    # a connection is used by one thread at a time, but not always the same thread
    threads = {"check_same_thread": False}
    if reader:
        engine = create_engine(
            url, poolclass=QueuePool, pool_size=READERS, max_overflow=0, connect_args=threads
        )
    else:
        engine = create_engine(url, poolclass=StaticPool, connect_args=threads)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # sqlite3's own implicit transactions start late; we issue BEGIN IMMEDIATE ourselves so
        # a job's reads and writes form one transaction (SQLAlchemy's documented pysqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        # deleted rows are overwritten with zeros, so erased answers and names do not stay readable
        # in free space of the file (see `SqliteStore.scrub` for the WAL)
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_WAIT_MS}")
        if reader:
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # a reader's deferred BEGIN still reads one snapshot for the whole job
        conn.exec_driver_sql("BEGIN" if reader else "BEGIN IMMEDIATE")

    return engine
