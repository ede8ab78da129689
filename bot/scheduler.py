"""Work that runs by itself in `cxbot serve`: due campaign jobs (closing dates, scheduled reminders
and rounds), then reminders pushed through the channels that can push; and, every hour, forgetting
the replies kept for deduplication once retries can no longer come.

Every few seconds it claims what is due in the database (`storage.campaign_jobs`), so the work
survives restarts and runs once across processes; the timer is only a prompt to look. At shutdown it
claims nothing more and finishes the batch in hand within the shutdown deadline (`bot.shutdown`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from functools import partial

from aiohttp import web
from sqlalchemy import Connection

from bot.app_keys import ENGINE, SETTINGS
from bot.log_privacy import log_failure
from bot.log_setup import start_task
from bot.push import PUSHERS, Pusher
from bot.shutdown import finish, time_left
from dialogs.campaign_view import nudge_reply
from dialogs.engine import Engine
from storage.campaign_jobs import Push, claim_pushes, run_due_jobs, settle_push
from storage.campaign_statements import FAILED, UNREACHABLE
from storage.repository import REMEMBER_REPLIES_FOR, forget_replies_before

PUSH_BATCH = 50
log = logging.getLogger(__name__)


def install(app: web.Application) -> None:
    """Run the scheduler with the app; it stops claiming work as soon as the app shuts down."""
    app.cleanup_ctx.append(_lifespan)
    app.on_shutdown.append(_stop_claiming)


async def _lifespan(app: web.Application) -> AsyncIterator[None]:
    scheduler = Scheduler(app[ENGINE], app[PUSHERS], app[SETTINGS].scheduler_seconds)
    app[SCHEDULER] = scheduler
    task = start_task(scheduler.run_forever(), "cxbot-scheduler", log_name="scheduler")
    yield
    scheduler.stop()
    if await finish([task], time_left(app)()):
        log.warning("the scheduler's work in hand was cut short at the shutdown deadline")


async def _stop_claiming(app: web.Application) -> None:
    if (scheduler := app.get(SCHEDULER)) is not None:
        scheduler.stop()


class Scheduler:
    """Looks for due work every `interval` seconds (at once again after a full batch)."""

    housekeeping_every = 3600.0
    """Seconds between two clean-ups of remembered replies (the first comes at start)."""

    def __init__(
        self,
        engine: Engine,
        pushers: dict[str, Pusher],
        interval: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.pushers = pushers
        self.interval = interval
        self.clock = clock
        """The time due work is measured against (tests move it on by days)."""
        self.next_housekeeping = time.monotonic()
        self.stopping = asyncio.Event()

    def stop(self) -> None:
        """Claim nothing more: `run_forever` ends after the batch in hand."""
        self.stopping.set()

    async def run_forever(self) -> None:
        while not self.stopping.is_set():
            try:
                busy = await self.tick()
            except Exception as error:  # a database hiccup must not end scheduling: log it, try again later
                log_failure(log, f"scheduled campaign work failed; trying again in {self.interval} s", error)
                busy = False
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), self.interval)

    async def tick(self) -> bool:
        """Run due jobs, then push one batch of reminders; True if there may be more to push."""
        frameworks = self.engine.context.frameworks

        def version(framework_id: str) -> str | None:
            framework = frameworks.get(framework_id)
            return framework.version if framework else None

        now = self.clock()
        if time.monotonic() >= self.next_housekeeping:
            await self.housekeeping(now)
        await self.engine.store.run(partial(run_due_jobs, now=now, versions=version))
        pushes = await self.engine.store.run(partial(self._claim, now=now))
        unreachable: set[tuple[str, str]] = set()
        for push in pushes:
            await self._push(push, unreachable)
        return len(pushes) == PUSH_BATCH

    async def housekeeping(self, now: datetime) -> None:
        """Forget remembered replies that no retry can ask for any more."""
        self.next_housekeeping = time.monotonic() + self.housekeeping_every
        forgotten = await self.engine.store.run(
            partial(forget_replies_before, before=now - REMEMBER_REPLIES_FOR)
        )
        if forgotten:
            log.info("forgot %d remembered replies older than %s", forgotten, REMEMBER_REPLIES_FOR)

    def _claim(self, conn: Connection, now: datetime) -> list[Push]:
        direct = [name for name, pusher in self.pushers.items() if not pusher.needs_address]
        addressed = [name for name, pusher in self.pushers.items() if pusher.needs_address]
        return claim_pushes(conn, direct, addressed, now, PUSH_BATCH)

    async def _push(self, push: Push, unreachable: set[tuple[str, str]]) -> None:
        """Send one reminder; someone found unreachable earlier in the batch (they blocked the bot)
        is not tried again: the claim saw them reachable, and nothing may go to them now."""
        pusher = self.pushers.get(push.channel)
        person = (push.channel, push.sender)
        outcome = FAILED
        if person in unreachable:
            outcome = UNREACHABLE
        elif pusher is not None:
            try:
                replies = [nudge_reply(self.engine.catalogue_for(push.locale), push.nudge)]
                outcome = await pusher.push(push.sender, push.callback_url, replies)
            except Exception as error:  # the reminder is shown when they next write instead
                log_failure(log, f"a reminder through {push.channel} could not be sent", error)
            await asyncio.sleep(pusher.pace)
            if outcome == UNREACHABLE:
                unreachable.add(person)
        settle = partial(settle_push, nudge=push.nudge.id, outcome=outcome, now=self.clock())
        await self.engine.store.run(settle)


SCHEDULER = web.AppKey("scheduler", Scheduler)
