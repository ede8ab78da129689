"""The gate every Telegram update passes: one at a time per person, each update once.

An outer middleware on the dispatcher's `update` observer. Polling (`bot.telegram.polling`) starts
one task per update, in order; each reaches this gate without suspending first, so the per-person
lock (FIFO) is taken in the order Telegram sent the updates, and a person's updates are applied in
that order, never concurrently. People do not wait for each other.

Locks are made on first use and dropped when nobody holds or waits for them (aiogram's
`SimpleEventIsolation` keeps one per person forever). Update ids handled to the end are
remembered (bounded), so the same update delivered again in this process is skipped; after a
restart the engine's own deduplication (the update id as `Inbound.message_id`) still applies it
once. The gate also counts updates in flight, so shutdown can wait for them.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.middlewares.user_context import EVENT_CONTEXT_KEY, EventContext
from aiogram.types import TelegramObject, Update

REMEMBERED_UPDATES = 10_000
log = logging.getLogger(__name__)


class KeyedLocks:
    """One asyncio lock per key, alive only while someone holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        """Hold the key's lock; waiters get it in the order they asked."""
        lock, users = self._locks[key] if key in self._locks else (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


class RecentIds:
    """The last `size` ids seen (a bounded set)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._ids: OrderedDict[Hashable, None] = OrderedDict()

    def add(self, item: Hashable) -> None:
        """Remember an id, forgetting the oldest beyond `size`."""
        self._ids[item] = None
        self._ids.move_to_end(item)
        while len(self._ids) > self.size:
            self._ids.popitem(last=False)

    def __contains__(self, item: Hashable) -> bool:
        return item in self._ids


class UpdateGate(BaseMiddleware):
    """Serialises each person's updates, skips repeats, and counts what is in flight."""

    def __init__(self, remembered: int = REMEMBERED_UPDATES) -> None:
        self.locks = KeyedLocks()
        self.handled = RecentIds(remembered)
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):  # registered on the update observer only
            return await handler(event, data)
        self._started()
        try:
            async with self.locks.hold(_person(data.get(EVENT_CONTEXT_KEY))):
                if event.update_id in self.handled:
                    log.info("update %s delivered again; already handled, skipped", event.update_id)
                    return None
                result = await handler(event, data)
                self.handled.add(event.update_id)  # only once handled to the end: a failure may retry
                return result
        finally:
            self._finished()

    async def drain(self) -> None:
        """Wait until no update is in flight (callers bound the wait with `asyncio.timeout`)."""
        await self._idle.wait()

    def _started(self) -> None:
        self._in_flight += 1
        self._idle.clear()

    def _finished(self) -> None:
        self._in_flight -= 1
        if self._in_flight == 0:
            self._idle.set()


def _person(context: EventContext | None) -> Hashable:
    """Whose updates must not overlap: the sender, else the chat (for posts with no sender)."""
    if context is not None and context.user is not None:
        return ("user", context.user.id)
    if context is not None and context.chat is not None:
        return ("chat", context.chat.id)
    return ("nobody", None)
