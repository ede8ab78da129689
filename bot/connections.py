"""Connections to `cxbot serve`: a deadline for each request to arrive, and caps on how many are open.

aiohttp has no timeout for a request's headers, nor for its body: a client sending a byte every few
seconds holds a connection, and a file descriptor, as long as it likes, and a few thousand such
clients leave none for anyone else. So `ConnectionGuard.protocol_factory` wraps aiohttp's protocol
in `GuardedConnection`, which passes everything on and:

- gives each request `request_timeout` seconds to arrive whole, headers and body, counted from the
  connection's opening or the request's first byte; a connection that misses it is closed. Answering
  a request that arrived in time is not limited (a slow database is not the client's fault), and an
  idle connection between requests is aiohttp's keep-alive timeout;
- counts open connections: beyond the hard cap a new connection is closed at once, before aiohttp
  sees it; beyond the soft cap the middleware serves only health checks and answers 503 with
  `Retry-After` to everything else, so a load balancer's checks still get through while load is shed.

The default caps come from the descriptor limit (`default_caps`), which `raise_descriptor_limit`
lifts to its hard limit at start.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import cast

from aiohttp import web

from bot.http_errors import json_error
from bot.settings import Settings
from bot.startup import CannotStart

try:
    import resource
except ImportError:  # Windows: no descriptor limit to raise
    resource = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

MOST_CONNECTIONS = 10_000
"""The default hard cap at most, whatever the descriptor limit: each connection also costs memory."""
UNLIMITED_DESCRIPTORS = 1024 * 1024
"""What to assume where the descriptor limit is unknown or infinite."""
BUSY_RETRY_AFTER = "5"
SWEEPS_PER_TIMEOUT = 4


@dataclass(frozen=True, slots=True)
class Caps:
    """Open connections: beyond `soft` only health checks are served; beyond `hard` none."""

    soft: int
    hard: int


def raise_descriptor_limit() -> int:
    """Lift the soft limit on open descriptors to the hard limit; the limit now in force."""
    if resource is None:
        return UNLIMITED_DESCRIPTORS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError) as error:  # macOS refuses an infinite hard limit, for one
            log.warning("could not raise the descriptor limit from %d to %d: %s", soft, hard, error)
    return descriptor_limit()


def descriptor_limit() -> int:
    """How many descriptors this process may have open."""
    if resource is None:
        return UNLIMITED_DESCRIPTORS
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return UNLIMITED_DESCRIPTORS if soft == resource.RLIM_INFINITY else soft


def default_caps(descriptors: int) -> Caps:
    """Caps that leave a tenth of the descriptors (at least 64) for the database, log and outgoing
    calls, and a twentieth of the connections (at least 2) for health checks."""
    hard = max(4, min(MOST_CONNECTIONS, descriptors - max(64, descriptors // 10)))
    return Caps(soft=hard - max(2, hard // 20), hard=hard)


def caps_for(settings: Settings, descriptors: int) -> Caps:
    """The caps from `CXBOT_CONNECTIONS_SOFT_CAP`/`_HARD_CAP`, each defaulting from the descriptors."""
    default = default_caps(descriptors)
    hard = settings.connections_hard_cap or default.hard
    soft = settings.connections_soft_cap or min(default.soft, hard - max(1, hard // 20))
    if soft >= hard:
        raise CannotStart(
            f"CXBOT_CONNECTIONS_SOFT_CAP ({soft}) must be below the hard cap ({hard}): the connections"
            " between them are kept for health checks"
        )
    if hard > descriptors:
        log.warning("CXBOT_CONNECTIONS_HARD_CAP (%d) is above the descriptor limit (%d)", hard, descriptors)
    return Caps(soft, hard)


class ConnectionGuard:
    """Counts the open connections, refuses those over the caps and closes those whose request is late.

    Lateness is checked by one sweep over the connections every `SWEEPS_PER_TIMEOUT`th of the
    timeout (at most every second), not by a timer per request: a request then costs a clock reading,
    and a deadline is kept to within that fraction."""

    def __init__(self, caps: Caps, request_timeout: float, always_served: Collection[str] = ()) -> None:
        self.caps = caps
        self.request_timeout = request_timeout
        self.always_served = frozenset(always_served)
        """Paths served even beyond the soft cap: the health check and the metrics."""
        self.open = 0
        """Open connections, counting those about to be closed for being over the hard cap."""
        self._watched: set[GuardedConnection] = set()
        self._sweep_every = min(1.0, request_timeout / SWEEPS_PER_TIMEOUT)
        self._sweeping: asyncio.TimerHandle | None = None

    def protocol_factory(self, inner: Callable[[], asyncio.Protocol]) -> Callable[[], asyncio.Protocol]:
        """A protocol factory for `loop.create_server` that guards the protocols `inner` makes."""
        return lambda: GuardedConnection(self, inner)

    def connection(self, request: web.Request) -> GuardedConnection | None:
        """The guarded connection a request came on (None if it was served some other way, such as
        by a test server)."""
        connection = request.transport.get_protocol() if request.transport else None
        return connection if isinstance(connection, GuardedConnection) else None

    def sheds(self, request: web.Request) -> bool:
        """Whether to answer `busy()` rather than serve: beyond the soft cap, all but the always
        served paths are."""
        return self.open > self.caps.soft and request.path not in self.always_served

    def watch(self, connection: GuardedConnection) -> None:
        """Check this connection's requests for lateness until it is forgotten."""
        self._watched.add(connection)
        if self._sweeping is None:
            self._sweeping = asyncio.get_running_loop().call_later(self._sweep_every, self._sweep)

    def forget(self, connection: GuardedConnection) -> None:
        """The connection is closed."""
        self._watched.discard(connection)

    def _sweep(self) -> None:
        now = time.monotonic()
        for late in [connection for connection in self._watched if connection.late(now)]:
            late.cut_off()
        if self._watched:  # else the next connection starts the sweeps again
            self._sweeping = asyncio.get_running_loop().call_later(self._sweep_every, self._sweep)
        else:
            self._sweeping = None


def busy() -> web.Response:
    """503: too many connections; the connection is closed after the answer, to free a place."""
    response = json_error(
        503, "the server is busy; try again in a few seconds", headers={"Retry-After": BUSY_RETRY_AFTER}
    )
    response.force_close()
    return response


class GuardedConnection(asyncio.Protocol):
    """One connection: aiohttp's protocol inside, and when the request now arriving began to."""

    __slots__ = ("_guard", "_make_inner", "_inner", "_transport", "_request", "_since")

    def __init__(self, guard: ConnectionGuard, make_inner: Callable[[], asyncio.Protocol]) -> None:
        self._guard = guard
        self._make_inner = make_inner
        self._inner: asyncio.Protocol | None = None
        self._transport: asyncio.Transport | None = None
        self._request: web.BaseRequest | None = None
        """The request being answered; its body may still be arriving."""
        self._since: float | None = None
        """When the request now arriving began to (the connection opened, or its first byte came);
        None while none is (idle between requests, or answering one that arrived whole)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's are not asyncio's subclasses
        self._guard.open += 1
        if self._guard.open > self._guard.caps.hard:
            log.warning("closed a new connection: %d are open (the hard cap)", self._guard.caps.hard)
            self._transport.abort()
            return
        self._inner = self._make_inner()
        self._inner.connection_made(transport)
        self._since = time.monotonic()
        self._guard.watch(self)

    def data_received(self, data: bytes) -> None:
        if self._inner is None:
            return
        if self._since is None and self._request is None:  # the first bytes of the next request
            self._since = time.monotonic()
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._inner is not None else None

    def connection_lost(self, exc: Exception | None) -> None:
        self._guard.open -= 1
        self._request = None
        if self._inner is not None:
            self._guard.forget(self)
            self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()

    def request_started(self, request: web.BaseRequest) -> None:
        """Its headers have arrived (the body may still be on its way)."""
        self._request = request
        if self._since is None:  # sent together with the one before, so it arrived at once
            self._since = time.monotonic()

    def request_finished(self) -> None:
        """The answer is made; the next request's time starts with its first byte."""
        self._request = None
        self._since = None

    def late(self, now: float) -> bool:
        """Whether the request now arriving has taken longer than the timeout."""
        if self._since is None or now - self._since < self._guard.request_timeout:
            return False
        if self._request is not None and self._request.content.is_eof():
            self._since = None  # it has all arrived, and is being answered
            return False
        return True

    def cut_off(self) -> None:
        """Close the connection of a late request: there is nothing to answer yet, and nobody waiting."""
        if self._transport is not None and not self._transport.is_closing():
            log.info("closed a connection: a request did not arrive within %g s", self._guard.request_timeout)
            self._transport.abort()
