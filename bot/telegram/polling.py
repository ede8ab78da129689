"""Long polling that confirms an update only once it has been handled.

Telegram forgets an update when `getUpdates` is called with an `offset` above its id, and keeps
sending it until then. aiogram's own polling moves the offset past each update as soon as it has
started a task for it, so updates still waiting (on a slow database, say) were lost when the
process died. Here the offset stays at the oldest update not yet handled: its answer committed and
its replies sent (or failed for good). After a crash Telegram sends the unfinished updates again
(and the engine applies each once, by update id; ones finished but not yet confirmed get their
stored replies again).

Updates are handled as tasks, started in the order Telegram sent them, so the gate
(`bot.telegram.gate`) keeps each person's updates in order while people do not wait for each other.
Telegram sends the updates not yet confirmed with every answer; those already in hand are skipped.
While some are in hand, each `getUpdates` returns at once (with them), so the next one waits until
they are done or `BUSY_POLL` has passed. Telegram hands out the 100 oldest unconfirmed updates at a
time, so an update that takes long (a database locked for minutes) holds back at most 100 more.

Errors fetching updates (network, Telegram's 5xx, a conflict with another poller) are logged and
retried with aiogram's backoff; an update whose handling raised is logged and counts as handled.
At stop: no more fetching; updates in hand get `drain` seconds to finish, the rest are cancelled
(Telegram sends them again at the next start), and what was finished is confirmed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiogram.utils.backoff import Backoff, BackoffConfig

from bot.log_setup import start_task
from bot.telegram.logs import described

POLLING_TIMEOUT = 25
"""Seconds each `getUpdates` long poll waits for news."""
BUSY_POLL = 0.25
"""Seconds between two `getUpdates` while updates are being handled (each then returns at once)."""
DRAIN_TIMEOUT = 15.0
"""Seconds shutdown waits for updates being handled."""
CONFIRM_TIMEOUT = 5.0
"""Seconds the last `getUpdates` at stop (which only confirms) may take."""
BACKOFF = BackoffConfig(min_delay=1.0, max_delay=5.0, factor=1.3, jitter=0.1)
log = logging.getLogger(__name__)


class Offsets:
    """Which updates are in hand, and the offset that confirms everything before the oldest of them."""

    def __init__(self) -> None:
        self.offset = 0
        """What `getUpdates` is asked with: every update below it is handled (0: none confirmed yet)."""
        self.in_hand: set[int] = set()
        self.finished: set[int] = set()
        """Handled, but not below the offset yet (an older update is still in hand)."""
        self.highest = -1

    def take(self, updates: Iterable[Update]) -> list[Update]:
        """The updates not seen before, in order, now in hand; repeats and confirmed ones are left out."""
        fresh = []
        for update in updates:
            number = update.update_id
            if number < self.offset or number in self.in_hand or number in self.finished:
                continue
            self.in_hand.add(number)
            self.highest = max(self.highest, number)
            fresh.append(update)
        return fresh

    def finish(self, number: int) -> None:
        """An update was handled: move the offset up to the oldest one still in hand."""
        self.in_hand.discard(number)
        self.finished.add(number)
        oldest = min(self.in_hand) if self.in_hand else self.highest + 1
        self.offset = max(self.offset, oldest)
        self.finished = {done for done in self.finished if done >= self.offset}


class Polling:
    """The polling loop and the tasks handling its updates, started and stopped with the app."""

    def __init__(self, dispatcher: Dispatcher, bot: Bot) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
        self.allowed = dispatcher.resolve_used_update_types()
        self.offsets = Offsets()
        self.handling: set[asyncio.Task[None]] = set()
        self.idle = asyncio.Event()
        self.idle.set()
        self.confirmed = 0
        """The offset Telegram was last given."""
        self.task: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, dispatcher: Dispatcher, bot: Bot) -> Polling:
        """Start polling in a task of its own (no signal handlers: `cxbot serve` owns them)."""
        polling = cls(dispatcher, bot)
        polling.task = start_task(polling.run(), "telegram-polling")
        return polling

    async def run(self) -> None:
        """Fetch updates and start handling them, until cancelled."""
        backoff = Backoff(BACKOFF)
        while True:
            try:
                updates = await self._fetch()
            except Exception as error:  # noqa: BLE001 - network, 5xx, 409: keep polling
                log.warning(
                    "Telegram getUpdates failed (%s); trying again in %.1f s", error, backoff.next_delay
                )
                await backoff.asleep()
                continue
            if backoff.counter:
                log.info("Telegram getUpdates works again after %d failed attempt(s)", backoff.counter)
                backoff.reset()
            for update in self.offsets.take(updates):
                self._handle(update)
            if self.handling:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(BUSY_POLL):
                        await self.idle.wait()

    async def _fetch(self) -> list[Update]:
        offset = self.offsets.offset
        wait = 0 if self.handling else POLLING_TIMEOUT
        timeout = int(self.bot.session.timeout + wait)  # the request outlives the long poll
        updates = await self.bot.get_updates(
            offset=offset or None, timeout=wait, allowed_updates=self.allowed, request_timeout=timeout
        )
        self.confirmed = offset
        return updates

    def _handle(self, update: Update) -> None:
        """Start handling an update (tasks start in this order, so they reach the gate in it)."""
        task = asyncio.create_task(self._feed(update))
        self.handling.add(task)
        self.idle.clear()
        task.add_done_callback(self._done)

    async def _feed(self, update: Update) -> None:
        try:
            await self.dispatcher.feed_update(self.bot, update)
        except Exception as error:  # noqa: BLE001 - logged; a failed update is not tried again
            log.error("a Telegram update failed: %s", described(error))
            log.debug("update %s failed", update.update_id, exc_info=True)
        # not reached when cancelled: an update cut short is not confirmed
        self.offsets.finish(update.update_id)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.handling.discard(task)
        if not self.handling:
            self.idle.set()

    async def stop_fetching(self) -> None:
        """Take no more updates (those in hand go on)."""
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)

    async def stop(self, drain: float | None = None) -> None:
        """Stop fetching, let updates in hand finish (for `drain` seconds, by default `DRAIN_TIMEOUT`),
        and confirm what finished."""
        drain = DRAIN_TIMEOUT if drain is None else drain
        await self.stop_fetching()
        if self.handling:
            _, late = await asyncio.wait(set(self.handling), timeout=drain)
            for task in late:
                task.cancel()
            if late:
                log.warning(
                    "%d Telegram update(s) still being handled after %s s; left to Telegram", len(late), drain
                )
                await asyncio.gather(*late, return_exceptions=True)
        await self._confirm()

    async def _confirm(self) -> None:
        """Tell Telegram what was handled since the last `getUpdates` (the update it returns is not
        confirmed by being returned, so it comes again at the next start)."""
        if self.offsets.offset <= self.confirmed:
            return
        try:
            await self.bot.get_updates(
                offset=self.offsets.offset, limit=1, timeout=0, request_timeout=int(CONFIRM_TIMEOUT)
            )
        except Exception as error:  # noqa: BLE001 - those updates come again and are applied once
            log.warning("could not confirm the last Telegram updates at stop (%s)", error)
