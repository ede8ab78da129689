"""Callback mode: a sender's replies POSTed to an integration's URL, in order, with retries.

The webhook handles the message (so it is applied and stored) and acknowledges at once; the replies
then go out from a background task per sender, so one sender's deliveries keep their order and a
slow receiver holds up nobody else. A delivery is retried on connection errors, timeouts, 408, 425,
429 and 5xx answers, with exponential backoff (0.5 s doubling up to 8 s, five attempts); any
other answer, or a refused address, ends it. Every failure is logged with the receiver's origin
(scheme, host and port: a bridge's path or query may name a contact or carry a token) and the
reason; the sender and the path only at DEBUG. All deliveries share the app's one `ClientSession`,
whose resolver is the SSRF guard (`bot.web.url_guard`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver
from yarl import URL

from bot.log_privacy import log_failure
from bot.log_setup import LOG_ID
from bot.settings import Settings
from bot.web.auth import signed_headers
from bot.web.url_guard import CallbackRefused, GuardedResolver, check_callback_url

log = logging.getLogger(__name__)

ATTEMPTS = 5
FIRST_DELAY = 0.5
MAX_DELAY = 8.0
REQUEST_TIMEOUT = 10.0
DRAIN_TIMEOUT = 10.0
"""On shutdown, how long deliveries still under way may take before they are abandoned (and logged)."""
RETRY_STATUSES = frozenset({408, 425, 429})


@dataclass(frozen=True, slots=True)
class Delivery:
    """One POST of a JSON list of messages to a callback URL."""

    sender: str
    url: str
    messages: list[dict[str, Any]]
    log_id: str | None = field(default_factory=LOG_ID.get)
    """The id of the request it answers (`bot.log_setup`): its lines carry it, sent whenever."""


class CallbackSender:
    """Delivers `Delivery` values in the background, per sender in the order submitted."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        resolver: AbstractResolver,
        allow_private: bool,
        secret: str | None = None,
        first_delay: float = FIRST_DELAY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.session = session
        self.resolver = resolver
        self.allow_private = allow_private
        self.secret = secret
        self.first_delay = first_delay
        self.clock = clock
        self._queues: dict[str, deque[Delivery]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}

    async def check(self, url: str) -> None:
        """Raise `CallbackRefused` (with the reason) if replies may not be sent to this URL."""
        try:
            await check_callback_url(url, self.allow_private, self.resolver)
        except CallbackRefused as error:
            log.debug("refused callback URL %s: %s", _shown(url), error.detail)
            raise

    def submit(self, delivery: Delivery) -> None:
        """Queue a delivery behind the sender's earlier ones; returns at once."""
        self._queues.setdefault(delivery.sender, deque()).append(delivery)
        if delivery.sender not in self._workers:
            worker = asyncio.create_task(self._work(delivery.sender), name=f"callbacks:{delivery.sender}")
            self._workers[delivery.sender] = worker

    async def _work(self, sender: str) -> None:
        queue = self._queues[sender]
        try:
            while queue:
                delivery = queue[0]
                LOG_ID.set(delivery.log_id)  # this worker's own task: nobody else's lines change
                try:
                    await self.deliver(delivery)
                except Exception as error:  # a bug must not stop the sender's later deliveries
                    log_failure(log, f"a callback to {_shown(delivery.url)} failed", error)
                queue.popleft()
        finally:
            del self._workers[sender]
            if not queue:
                del self._queues[sender]

    async def deliver(self, delivery: Delivery) -> bool:
        """POST one delivery, retrying with backoff; True once the receiver accepted it."""
        body = json.dumps(delivery.messages).encode()
        for attempt in range(1, ATTEMPTS + 1):
            outcome, retry_after = await self._attempt(delivery, body)
            if outcome is None:
                return True
            final = retry_after is None or attempt == ATTEMPTS
            log.warning(
                "a callback to %s failed (attempt %d of %d): %s%s",
                _shown(delivery.url),
                attempt,
                ATTEMPTS,
                outcome,
                "" if final else "; retrying",
            )
            log.debug("the failed callback was for sender %r at %s", delivery.sender, _path(delivery.url))
            if final:
                break
            backoff = min(self.first_delay * 2 ** (attempt - 1), MAX_DELAY)
            await asyncio.sleep(max(retry_after or 0.0, backoff))
        log.error("gave up delivering %d message(s) to %s", len(delivery.messages), _shown(delivery.url))
        log.debug("the callback given up was for sender %r at %s", delivery.sender, _path(delivery.url))
        return False

    async def _attempt(self, delivery: Delivery, body: bytes) -> tuple[str | None, float | None]:
        """(None, None) on success; else the problem and the retry delay (None: do not retry)."""
        headers = {"Content-Type": "application/json"}
        if self.secret:
            headers.update(signed_headers(self.secret, body, self.clock()))
        try:
            await self.check(delivery.url)  # an IP literal never reaches the guarded resolver
            async with self.session.post(
                delivery.url, data=body, headers=headers, allow_redirects=False
            ) as response:
                await response.read()
        except CallbackRefused as error:
            return error.detail, None
        except aiohttp.ClientConnectorError as error:
            if isinstance(error.os_error, CallbackRefused):
                return error.os_error.detail, None
            return f"cannot connect ({error.os_error})", 0.0
        except (aiohttp.ClientError, TimeoutError) as error:
            return _problem(error), 0.0
        if response.status < 300:
            return None, None
        problem = f"the receiver answered {response.status} {response.reason or ''}".rstrip()
        if response.status in RETRY_STATUSES or response.status >= 500:
            return problem, _retry_after(response.headers.get("Retry-After"))
        return problem, None

    async def close(self, grace: float = DRAIN_TIMEOUT) -> None:
        """Let deliveries under way finish for up to `grace` seconds, then abandon (and log) the rest."""
        workers = list(self._workers.values())
        if not workers:
            return
        _, pending = await asyncio.wait(workers, timeout=grace)
        abandoned = sum(len(queue) for queue in self._queues.values())
        if abandoned:
            log.error("shutting down: %d callback(s) abandoned unsent", abandoned)
        for worker in pending:
            worker.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


def _retry_after(value: str | None) -> float:
    """Seconds a 429/503 asks to wait (capped), or 0 to use the backoff."""
    if value and value.isascii() and value.isdigit():
        return min(float(value), MAX_DELAY)
    return 0.0


def _problem(error: Exception) -> str:
    """What went wrong, in words that never quote the URL (a response error's text names it whole)."""
    if isinstance(error, aiohttp.ClientResponseError):  # e.g. a malformed answer from the receiver
        return f"{type(error).__name__}: {error.status}, {error.message}"
    if isinstance(error, aiohttp.InvalidURL):
        return f"{type(error).__name__}: not a valid URL"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _shown(url: str) -> str:
    """The URL for logs at INFO and above: its origin (scheme, host and port) alone, since a path or
    query may name a contact or carry a token."""
    try:
        return str(URL(url).origin())
    except ValueError:
        return "<invalid URL>"


def _path(url: str) -> str:
    """The URL's path, for DEBUG lines only (never its query, which may carry a token)."""
    try:
        return URL(url).path
    except ValueError:
        return "<invalid URL>"


@asynccontextmanager
async def callback_sender(
    settings: Settings, resolver: AbstractResolver, grace: Callable[[], float] = lambda: DRAIN_TIMEOUT
) -> AsyncIterator[CallbackSender]:
    """A `CallbackSender` on a new session whose resolver is `resolver` behind the SSRF guard;
    deliveries under way are drained for `grace()` seconds (asked at the end: what is left of the
    shutdown deadline), and the session closed, at the end."""
    connector = aiohttp.TCPConnector(resolver=GuardedResolver(settings.callback_allow_private, resolver))
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        sender = CallbackSender(session, resolver, settings.callback_allow_private, secret)
        try:
            yield sender
        finally:
            await sender.close(grace())
