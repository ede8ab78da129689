"""One pace for everything the bot sends, so a crowd arriving at once is served at Telegram's limit
instead of being refused.

A request middleware on the bot's session, shared by every chat:

- Messages (sends and edits) leave one at a time, at most `rate` a second, first come first served.
  A person's messages keep their order: their updates are handled one at a time (the gate) and
  each reply is sent after the one before.
- A 429 from Telegram (`retry_after`) pauses every message, not just the refused one: the refused
  call waits at the front and goes again when the pause ends. Nothing is dropped after a number of
  attempts; a call only fails for a reason other than flood control.
- Other calls (answering a button press, polling, the command menu) are not paced, but a 429 on one
  is waited out the same way.

Repeated 429s are logged once per pause, with how many calls it held back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import (
    EditMessageCaption,
    EditMessageReplyMarkup,
    EditMessageText,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.methods.base import Response, TelegramType

from bot.metrics import FLOOD_WAITS

if TYPE_CHECKING:
    from aiogram import Bot

RATE = 25.0
"""Messages a second: under Telegram's "about 30 a second" for a bot, leaving room for its own
rounding and for edits that arrive together."""
PACED = (SendMessage, SendPhoto, SendDocument, EditMessageText, EditMessageCaption, EditMessageReplyMarkup)
log = logging.getLogger(__name__)


class SendPacer(BaseRequestMiddleware):
    """Paces messages and waits out flood control for every call (see the module docstring)."""

    def __init__(
        self,
        rate: float = RATE,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = 1.0 / rate
        self.clock = clock
        self.sleep = sleep
        self._turn = asyncio.Lock()
        """Held while a message waits for its slot: waiters get slots in the order they came."""
        self._next = 0.0
        """When the next message may go (the clock's time)."""
        self._paused_until = 0.0
        self.held_back = 0
        """Calls that hit flood control since the last pause was logged."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        paced = isinstance(method, PACED)
        while True:
            await (self._slot() if paced else self._pause())
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                self._flooded(error.retry_after)

    async def _slot(self) -> None:
        """Wait for this message's turn: after any pause, and `interval` after the one before."""
        async with self._turn:
            start = max(self.clock(), self._next, self._paused_until)
            wait = start - self.clock()
            if wait > 0:
                await self.sleep(wait)
            self._next = start + self.interval

    async def _pause(self) -> None:
        wait = self._paused_until - self.clock()
        if wait > 0:
            await self.sleep(wait)

    def _flooded(self, retry_after: float) -> None:
        FLOOD_WAITS.inc()
        until = self.clock() + retry_after
        self.held_back += 1
        if until > self._paused_until:
            log.warning(
                "Telegram flood control: pausing every message for %s s (%d call(s) held back so far)",
                retry_after,
                self.held_back,
            )
            self.held_back = 0
            self._paused_until = until
