"""Flood control: a Bot API call answered 429 is retried after the `retry_after` Telegram asks for.

A request middleware on the bot's session (aiogram raises `TelegramRetryAfter` and leaves the
waiting to the application). Bounded: a few attempts, and a wait longer than `max_wait` is not
sat out (the error propagates, so a webhook update is redelivered later instead of holding the
person's other messages for minutes).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType

if TYPE_CHECKING:
    from aiogram import Bot

ATTEMPTS = 3
MAX_WAIT = 300.0
"""Flood waits are seconds to a minute; waiting (the person's later updates queue behind) beats
losing a reply, which polling mode cannot get back."""
log = logging.getLogger(__name__)


class RetryAfter(BaseRequestMiddleware):
    """Sleep `retry_after` seconds and call again, up to `attempts` calls in all."""

    def __init__(
        self,
        attempts: int = ATTEMPTS,
        max_wait: float = MAX_WAIT,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.attempts = attempts
        self.max_wait = max_wait
        self.sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        attempt = 1
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                if attempt >= self.attempts or error.retry_after > self.max_wait:
                    raise
                log.warning(
                    "%s hit flood control; retrying in %s s (attempt %d of %d)",
                    type(method).__name__,
                    error.retry_after,
                    attempt + 1,
                    self.attempts,
                )
                await self.sleep(error.retry_after)
                attempt += 1
