"""Long polling in exactly one of several `cxbot serve` processes sharing a PostgreSQL database.

Telegram lets one client poll a bot at a time (a second `getUpdates` ends the first with 409
Conflict), so the processes elect one: the one holding a PostgreSQL session-level advisory lock
(`pg_try_advisory_lock`), taken on a connection of its own that stays open while it polls. The others
try again every `RETRY` seconds. The lock is the database's, so there is nothing else to run:

- a leader that stops (SIGTERM) finishes the updates in hand, confirms them, then closes the
  connection, which releases the lock;
- a leader that dies (kill -9, a crash) loses its connection with the process, and PostgreSQL
  releases the lock at once; a leader's machine that vanishes is noticed by TCP keepalives
  (`KEEPALIVE`, about half a minute);
- a leader whose connection fails, or stops answering within `CHECK_TIMEOUT` seconds, stops polling
  (another may have the lock by then) and becomes a candidate again.

Updates are confirmed only once handled (`bot.telegram.polling`), so those a dead leader had in hand
come again to the next one, and the engine applies each once (by update id) in whichever process.
While leadership changes hands two processes may poll for a moment: Telegram ends one's request
(409, logged and retried) and nothing is lost.

On SQLite there is one process per database, so it always leads (`SoleProcess`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import asyncpg

from bot.log_privacy import described
from bot.log_setup import start_task
from bot.telegram.polling import Polling
from storage.store import normalise_url

RETRY = 1.0
"""Seconds between two tries of a process that does not hold the lock."""
CHECK = 2.0
"""Seconds between two checks by the leader that its connection (and so its lock) is alive."""
CHECK_TIMEOUT = 10.0
"""Seconds a check may take before it fails. A dead connection fails at once; this is for one that
hangs, and is generous so that a leader whose event loop is slow for a moment (a burst of traffic
on a busy machine) does not hand polling over for nothing."""
CONNECT_TIMEOUT = 5.0
KEEPALIVE = {"tcp_keepalives_idle": "10", "tcp_keepalives_interval": "5", "tcp_keepalives_count": "3"}
"""The server's side of the lock's connection notices a vanished client within about 25 seconds."""
log = logging.getLogger(__name__)


class Lock(Protocol):
    async def try_acquire(self) -> bool: ...

    async def lost(self) -> None:
        """Return once the lock may no longer be held."""
        ...

    async def release(self) -> None: ...


def lock_key(bot_id: int) -> int:
    """The advisory lock's key: one per bot, so bots sharing a database each have their leader."""
    digest = hashlib.sha256(f"cxbot telegram polling {bot_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def polling_lock(database_url: str, bot_id: int) -> Lock:
    """The lock for this bot on this database: advisory on PostgreSQL, none needed on SQLite."""
    url = normalise_url(database_url)
    if url.get_backend_name() != "postgresql":
        return SoleProcess()
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return AdvisoryLock(dsn, lock_key(bot_id))


class SoleProcess:
    """No election: the only process leads."""

    async def try_acquire(self) -> bool:
        return True

    async def lost(self) -> None:
        await asyncio.Event().wait()

    async def release(self) -> None:
        return None


class AdvisoryLock:
    """A PostgreSQL session-level advisory lock, held by a connection of its own."""

    def __init__(self, dsn: str, key: int) -> None:
        self.dsn = dsn
        self.key = key
        self._connection: Any = None

    async def try_acquire(self) -> bool:
        """Whether this process holds the lock now (it keeps its connection for the next try)."""
        if self._connection is None or self._connection.is_closed():
            self._connection = await asyncpg.connect(
                self.dsn, timeout=CONNECT_TIMEOUT, server_settings=KEEPALIVE
            )
        async with asyncio.timeout(CONNECT_TIMEOUT):
            return bool(await self._connection.fetchval("SELECT pg_try_advisory_lock($1)", self.key))

    async def lost(self) -> None:
        while True:
            await asyncio.sleep(CHECK)
            try:
                async with asyncio.timeout(CHECK_TIMEOUT):
                    await self._connection.fetchval("SELECT 1")
            except Exception as error:  # noqa: BLE001 - any failure: the lock may be gone
                log.warning("the polling lock's database connection failed: %s", described(error))
                return

    async def release(self) -> None:
        """Close the connection: the session ends and its lock with it."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                await connection.close()
        except Exception:  # noqa: BLE001 - a broken connection: the server drops its session anyway
            connection.terminate()


class Leadership:
    """Campaigns for the lock, polls while holding it, and stops polling when it may be lost."""

    def __init__(self, lock: Lock, lead: Callable[[], Awaitable[Polling]], retry: float = RETRY) -> None:
        self.lock = lock
        self.lead = lead
        """Starts polling (the leader's work)."""
        self.retry = retry
        self.polling: Polling | None = None
        self.task: asyncio.Task[None] | None = None
        self._told = ""
        """What the log last said about this process's part, so each change is said once."""

    async def start(self) -> None:
        """Try for the lock at once, so a leader polls before the app serves (a Telegram error then
        stops the start-up, as any), then go on in the background: leading, or trying again."""
        leading = await self._acquired()
        if leading:
            try:
                self.polling = await self.lead()
            except BaseException:
                await self._release()
                raise
            self._told = "leading"
        self.task = start_task(self._campaign(leading), "telegram-polling")

    async def _campaign(self, leading: bool) -> None:
        while True:
            if leading:
                await self.lock.lost()
                log.warning("Telegram polling stops: this process may no longer hold the polling lock")
                await self._step_down()
            await asyncio.sleep(self.retry)
            leading = await self._acquired() and await self._led()

    async def _acquired(self) -> bool:
        try:
            held = await self.lock.try_acquire()
        except Exception as error:  # noqa: BLE001 - the database is down or busy: try again later
            self._tell("failing", "cannot try for the Telegram polling lock (%s); trying again", error)
            await self._release()
            return False
        if not held:
            self._tell("standby", "Telegram long polling runs in another process; this one stands by")
        return held

    async def _led(self) -> bool:
        """Start polling; False (and the lock let go) if it could not start."""
        try:
            self.polling = await self.lead()
        except Exception as error:  # noqa: BLE001 - Telegram unreachable, say: try again later
            self._tell("failing", "Telegram long polling could not start (%s); trying again", error)
            await self._release()
            return False
        self._told = "leading"
        return True

    async def _step_down(self) -> None:
        polling, self.polling = self.polling, None
        if polling is not None:
            await polling.stop()
        await self._release()

    async def _release(self) -> None:
        try:
            await self.lock.release()
        except Exception as error:  # noqa: BLE001 - the connection is gone either way
            log.debug("releasing the polling lock failed: %s", described(error))

    def _tell(self, state: str, message: str, error: BaseException | None = None) -> None:
        if self._told == state:
            return
        self._told = state
        if error is None:
            log.info(message)
        else:
            log.warning(message, described(error))

    async def stop_taking(self) -> None:
        """Stop campaigning, and the leader stops fetching updates (those in hand go on)."""
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        if self.polling is not None:
            await self.polling.stop_fetching()

    async def stop(self, drain: float) -> None:
        """Finish the updates in hand (for `drain` seconds), confirm them, then let the lock go."""
        await self.stop_taking()
        polling, self.polling = self.polling, None
        if polling is not None:
            await polling.stop(drain)
        await self._release()
