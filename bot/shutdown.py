"""A graceful stop of `cxbot serve` within one deadline.

On SIGTERM (or SIGINT) `cxbot serve`:

1. stops taking new work: it closes its listening socket, answers 503 (`Retry-After`, connection
   closed) to any request that reaches it afterwards, health checks included, so a load balancer
   sends elsewhere; Telegram polling fetches no more updates; the scheduler claims no more jobs
   (`app.on_shutdown`, which aiohttp runs first);
2. finishes what it took: requests being answered, Telegram updates in hand and their sends, the
   scheduler's claimed batch, then the callbacks queued by the requests (`app.cleanup_ctx`, each
   waiting at most what is left of the deadline);
3. closes the database (SQLite commits every job it accepted) and exits 0.

`CXBOT_SHUTDOWN_TIMEOUT` seconds after the signal, whatever has not finished is abandoned and logged
with a count: an unconfirmed Telegram update comes again (to this or another process), an unsent
callback is lost to its receiver (its answer is stored all the same).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiohttp import web

from bot.http_errors import json_error
from bot.metrics import SHUTTING_DOWN

RETRY_AFTER = "2"


class Shutdown:
    """Whether the process is stopping, and how much of its deadline is left."""

    def __init__(self, timeout: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout = timeout
        self.clock = clock
        self.deadline: float | None = None

    @property
    def stopping(self) -> bool:
        return self.deadline is not None

    def begin(self) -> None:
        """The signal came: the deadline starts now (a second signal does not move it)."""
        if self.deadline is None:
            self.deadline = self.clock() + self.timeout
            SHUTTING_DOWN.set(1)

    def remaining(self) -> float:
        """Seconds left for work in flight (the whole timeout before the signal: an app stopped
        without one, as in tests, gets as long as `serve` would)."""
        if self.deadline is None:
            return self.timeout
        return max(0.0, self.deadline - self.clock())

    def refusal(self) -> web.Response:
        """The 503 to every request that arrives once stopping, on a connection closed after it."""
        headers = {"Retry-After": RETRY_AFTER}
        response = json_error(503, "the server is shutting down; try again", headers=headers)
        response.force_close()
        return response


SHUTDOWN = web.AppKey("shutdown", Shutdown)


def time_left(app: web.Application) -> Callable[[], float]:
    """What is left of the app's shutdown deadline, as a function to call when it is needed."""
    return app[SHUTDOWN].remaining


async def finish(tasks: set[asyncio.Task[None]] | list[asyncio.Task[None]], within: float) -> int:
    """Wait up to `within` seconds for the tasks, then cancel the rest; how many were cancelled."""
    if not tasks:
        return 0
    _, late = await asyncio.wait(set(tasks), timeout=within)
    for task in late:
        task.cancel()
    await asyncio.gather(*late, return_exceptions=True)
    return len(late)
