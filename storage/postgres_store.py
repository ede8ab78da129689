"""PostgreSQL through asyncpg (see `storage.store`).

Two ways in, on two pools:

- `step(job)`, the per-message path: a connection from asyncpg's own pool, a transaction, and the
  job run in a greenlet with an `AsyncpgExecutor`, so each statement costs what asyncpg costs (a
  prepared statement, one round trip) and nothing of SQLAlchemy's per-execution machinery;
- `run(job)` and `read(job)`, everything else (migrations, reports, the scheduler, the command
  line): SQLAlchemy's async engine, `run_sync` with a `Connection`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy.engine import URL
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import greenlet_spawn

from storage.executor import AsyncpgExecutor
from storage.migrate import upgrade
from storage.store import STEP_WAIT, Job, StepJob, StoreBusy, T

UNAVAILABLE = (
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    DisconnectionError,
    OperationalError,
    InterfaceError,
)
"""What asyncpg (or SQLAlchemy over it) raises while the server is down, starting, shutting down or
unreachable."""
STEP_POOL = 16
"""Connections for messages: enough to keep a core busy while some wait for row locks."""


async def _json_codec(connection: Any) -> None:
    """JSON as SQLAlchemy's asyncpg dialect sets it up: its bind processors hand over JSON text, and
    values come back decoded (so both ways in read and write the same columns alike)."""
    await connection.set_type_codec(
        "json", encoder=str.encode, decoder=_decoded, schema="pg_catalog", format="binary"
    )


async def _nothing_to_reset(connection: Any) -> None:
    """These connections take no session state (advisory locks, LISTEN, SET): no reset query, and so
    no extra round trip, when one goes back to the pool."""


def _decoded(value: bytes) -> Any:
    return json.loads(value.decode())


class PostgresStore:
    backend = "postgresql"

    def __init__(self, url: URL, pool_size: int = 10) -> None:
        self._engine: AsyncEngine = create_async_engine(url, pool_size=pool_size, pool_pre_ping=True)
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._steps: asyncpg.Pool | None = None
        self._waiting = 0
        self.observe_commit: Callable[[float], None] | None = None
        """Told the seconds each message's transaction took, for metrics."""

    def queue_depth(self) -> int:
        """Messages waiting for a connection of the pool."""
        return self._waiting

    async def start(self) -> None:
        """Migrate the schema to the latest revision, then open the pool for messages."""
        async with self._engine.begin() as conn:
            await conn.run_sync(upgrade)
        self._steps = await asyncpg.create_pool(
            self._dsn, min_size=2, max_size=STEP_POOL, init=_json_codec, reset=_nothing_to_reset
        )

    async def step(self, job: StepJob[T]) -> T:
        """A message's job in one transaction; `StoreBusy` if no connection is to be had within
        `STEP_WAIT` seconds or the server goes away (it restarts, the network breaks): the
        transaction did not commit, and the pool reconnects by itself when the server is back."""
        if self._steps is None:
            raise RuntimeError("the store is not open")
        connection: Any
        waiting = True
        self._waiting += 1
        try:
            async with self._steps.acquire(timeout=STEP_WAIT) as connection:
                self._waiting, waiting = self._waiting - 1, False
                started = time.perf_counter()
                async with connection.transaction():
                    result: T = await greenlet_spawn(job, AsyncpgExecutor(connection))
                if self.observe_commit is not None:
                    self.observe_commit(time.perf_counter() - started)
                return result
        except (TimeoutError, OSError, *UNAVAILABLE) as error:
            raise StoreBusy(f"the database is unavailable: {type(error).__name__}") from error
        finally:
            if waiting:  # never got a connection
                self._waiting -= 1

    async def run(self, job: Job[T]) -> T:
        try:
            async with self._engine.begin() as conn:
                return await conn.run_sync(job)
        except (OSError, *UNAVAILABLE) as error:
            raise StoreBusy(f"the database is unavailable: {type(error).__name__}") from error

    async def read(self, job: Job[T]) -> T:
        """A read-only transaction on a pooled connection (row locks of writers do not block it)."""
        try:
            async with self._engine.connect() as conn:
                conn = await conn.execution_options(postgresql_readonly=True)
                async with conn.begin():
                    return await conn.run_sync(job)
        except (OSError, *UNAVAILABLE) as error:
            raise StoreBusy(f"the database is unavailable: {type(error).__name__}") from error

    async def scrub(self) -> None:
        """Nothing on the spot: PostgreSQL reclaims erased rows' space with (auto)vacuum, and its
        write-ahead log is recycled after checkpoints (see docs/operations.md)."""

    async def close(self) -> None:
        steps, self._steps = self._steps, None
        if steps is not None:
            await steps.close()
        await self._engine.dispose()
