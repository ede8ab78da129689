"""Reminders pushed to a person's private chat with the bot (Telegram private chats have the
person's user id as their chat id)."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from bot.telegram.delivery import Delivery
from dialogs.types import Reply
from storage.campaign_statements import FAILED, SENT, UNREACHABLE

PACE = 0.05
"""20 messages a second, well inside Telegram's 30 a second for a bot."""


class TelegramPusher:
    """Pushes through the running bot, with the same delivery (keyboards, charts) as replies."""

    needs_address = False
    pace = PACE

    def __init__(self, bot: Bot, delivery: Delivery) -> None:
        self.bot = bot
        self.delivery = delivery

    async def push(self, sender: str, address: str | None, replies: Sequence[Reply]) -> str:
        if not sender.isdigit():
            return FAILED
        try:
            reached = await self.delivery.deliver(self.bot, int(sender), sender, replies)
        except TelegramAPIError:
            return FAILED
        return SENT if reached else UNREACHABLE
