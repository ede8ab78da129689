"""Per-sender and per-address rate limits (`CXBOT_RATE_PER_SENDER`, `CXBOT_RATE_PER_ADDRESS`).

A request over a limit is refused with 429 and `Retry-After` before anything is stored, so a flood
of made-up senders cannot grow the database. The counts live in this process's memory (the `limits`
library's sliding windows): each worker counts its own requests.
"""

from __future__ import annotations

import math
import time

import limits
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter


class RateLimits:
    """The limits of one app; made while its event loop runs (the storage expires keys in a task)."""

    def __init__(self, per_sender: str, per_address: str) -> None:
        self.limiter = SlidingWindowCounterRateLimiter(MemoryStorage())
        self.per_sender = limits.parse_many(per_sender) if per_sender else []
        self.per_address = limits.parse_many(per_address) if per_address else []

    async def sender_wait(self, namespace: str, sender: str) -> int | None:
        """Seconds the sender must wait before this message is taken, or None to take it now."""
        return await self._wait(self.per_sender, "sender", namespace, sender)

    async def address_wait(self, address: str) -> int | None:
        """Seconds the address must wait, or None."""
        return await self._wait(self.per_address, "address", address)

    async def _wait(self, items: list[limits.RateLimitItem], *key: str) -> int | None:
        for item in items:
            if not await self.limiter.hit(item, *key):
                stats = await self.limiter.get_window_stats(item, *key)
                return max(1, math.ceil(stats.reset_time - time.time()))
        return None
