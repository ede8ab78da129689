"""Messages the bot starts (campaign reminders), through channels that can reach a person unasked.

A channel that can push registers a `Pusher` under its name in the app's `PUSHERS` while it runs
(Telegram: to the person's private chat; the webhook: to the bridge's callback URL). People on
other channels (the terminal, or a bridge without a callback URL) see their reminders when they
next write; nothing here assumes any one channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from aiohttp import web

from dialogs.types import Reply
from storage.campaign_statements import FAILED, SENT, UNREACHABLE

OUTCOMES = (SENT, UNREACHABLE, FAILED)


class Pusher(Protocol):
    """Delivers replies to one person of its channel, unasked."""

    needs_address: bool
    """Whether it can reach only people whose bridge gave an address (a callback URL)."""
    pace: float
    """Seconds between two pushes, to stay inside the channel's rate limits."""

    async def push(self, sender: str, address: str | None, replies: Sequence[Reply]) -> str:
        """Send; one of `OUTCOMES` (a failure is shown to the person when they next write)."""
        ...


PUSHERS = web.AppKey("pushers", dict[str, Pusher])
