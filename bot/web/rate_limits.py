"""Per-sender and per-address rate limits (`CXBOT_RATE_PER_SENDER`, `CXBOT_RATE_PER_ADDRESS`).

A request over a limit is refused with 429 and `Retry-After` before anything is stored, so a flood
of made-up senders cannot grow the database. The counts live in this process's memory: each worker
counts its own requests.

The limits are written in the `limits` library's notation (`60/minute`, `10 per 2 seconds`,
`600/minute;10000/day`) and parsed by it. They are counted here, with the generic cell rate
algorithm (one number per key: when the key's allowance is next fully used): the library's own
in-memory storage scans every key after each hit, which with thousands of senders halved the
webhook's throughput (`python bench/webhook.py`), while this costs O(1) per hit and one sweep of
idle keys a minute.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import limits

SWEEP_EVERY = 60.0
EPSILON = 1e-9
"""Ten steps of 0.1 s add up to a little over 1 s: not over a rate of 10 a second."""


@dataclass(frozen=True, slots=True)
class Rate:
    """`count` requests per `period` seconds, the whole count allowed at once."""

    count: int
    period: float

    @property
    def interval(self) -> float:
        return self.period / self.count


def parse_rates(text: str) -> list[Rate]:
    """The rates of a setting (empty: none)."""
    if not text.strip():
        return []
    return [Rate(item.amount, float(item.get_expiry())) for item in limits.parse_many(text)]


class Limiter:
    """Keyed limits: for each key and rate, the time by which its allowance is used up."""

    def __init__(self, rates: list[Rate], clock: Callable[[], float] = time.monotonic) -> None:
        self.rates = rates
        self.clock = clock
        self.busy_until: dict[tuple[str, ...], list[float]] = {}
        self.next_sweep = clock() + SWEEP_EVERY

    def wait(self, *key: str) -> int | None:
        """Take one request for `key`: None if it is within every rate, else the whole seconds to
        wait (and then the request is not counted)."""
        if not self.rates:
            return None
        now = self.clock()
        if now >= self.next_sweep:
            self._sweep(now)
        current = self.busy_until.get(key)
        after = []
        over = 0.0
        for index, rate in enumerate(self.rates):
            until = max(current[index], now) if current else now
            after.append(until + rate.interval)
            over = max(over, until + rate.interval - now - rate.period)
        if over > EPSILON:
            return max(1, math.ceil(over))
        self.busy_until[key] = after
        return None

    def _sweep(self, now: float) -> None:
        """Forget keys whose allowance has fully come back (as if never seen)."""
        self.next_sweep = now + SWEEP_EVERY
        idle = [key for key, until in self.busy_until.items() if max(until) <= now]
        for key in idle:
            del self.busy_until[key]


class RateLimits:
    """The two limits of one app."""

    def __init__(self, per_sender: str, per_address: str) -> None:
        self.per_sender = Limiter(parse_rates(per_sender))
        self.per_address = Limiter(parse_rates(per_address))

    def sender_wait(self, namespace: str, sender: str) -> int | None:
        """Seconds the sender must wait before this message is taken, or None to take it now."""
        return self.per_sender.wait(namespace, sender)

    def address_wait(self, address: str) -> int | None:
        """Seconds the address must wait, or None."""
        return self.per_address.wait(address)
