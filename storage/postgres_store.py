"""PostgreSQL through asyncpg (see `storage.store`)."""

from __future__ import annotations

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage.migrate import upgrade
from storage.store import Job, T


class PostgresStore:
    backend = "postgresql"

    def __init__(self, url: URL, pool_size: int = 10) -> None:
        self._engine: AsyncEngine = create_async_engine(url, pool_size=pool_size, pool_pre_ping=True)

    async def start(self) -> None:
        """Migrate the schema to the latest revision."""
        async with self._engine.begin() as conn:
            await conn.run_sync(upgrade)

    async def run(self, job: Job[T]) -> T:
        async with self._engine.begin() as conn:
            return await conn.run_sync(job)

    async def read(self, job: Job[T]) -> T:
        """A read-only transaction on a pooled connection (row locks of writers do not block it)."""
        async with self._engine.connect() as conn:
            conn = await conn.execution_options(postgresql_readonly=True)
            async with conn.begin():
                return await conn.run_sync(job)

    async def close(self) -> None:
        await self._engine.dispose()
