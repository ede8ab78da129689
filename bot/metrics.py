"""Prometheus metrics of `cxbot serve` at `GET /metrics` (prometheus-client's text format).

What is counted, per process (a Prometheus server adds the processes up; docs/operations.md has
the list): messages by channel and outcome (`ok`, `busy`: the database could not take it and
nothing was applied, `error`), the time from a message to its stored replies, runs started and
finished, messages waiting for the database and the time of its transactions, lines logged at
ERROR, Telegram's 429s, whether the process is shutting down; and prometheus-client's own
`process_*` and `python_*` (memory, CPU, open descriptors, garbage collections).

Labels take a handful of values each (channels, outcomes, module names), never a person: the
per-message cost is a clock reading and two updates of children looked up once.

Who may read it: `/metrics` is answered only to a client whose own address (the connection's, not
X-Forwarded-For) is in `CXBOT_METRICS_ALLOW` (loopback by default) and whose request did not come
through a proxy (it carries no X-Forwarded-For); anyone else gets a 404, as for a path that is not
there. An empty `CXBOT_METRICS_ALLOW` turns it off.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from functools import partial

from aiohttp import hdrs, web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

from dialogs.engine import Engine, Stepped
from dialogs.types import Inbound, Reply
from storage.store import Store, StoreBusy

METRICS_PATH = "/metrics"
CHANNELS = ("telegram", "web", "webhook", "terminal")
"""Channels counted by name; any other is counted as `other`, so labels stay few."""
OUTCOMES = ("ok", "busy", "error")
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

MESSAGES = Counter("cxbot_messages", "Messages handled, by channel and outcome", ["channel", "outcome"])
REPLY_SECONDS = Histogram(
    "cxbot_reply_seconds", "Seconds from a message to its stored replies", ["channel"], buckets=BUCKETS
)
RUNS_STARTED = Counter("cxbot_runs_started", "Assessment runs begun")
RUNS_FINISHED = Counter("cxbot_runs_finished", "Assessment runs submitted")
STORE_QUEUE = Gauge("cxbot_store_queue_depth", "Messages waiting for the database")
COMMIT_SECONDS = Histogram(
    "cxbot_store_commit_seconds", "Seconds of the database's transactions for messages", buckets=BUCKETS
)
ERRORS = Counter("cxbot_errors", "Lines logged at ERROR or above, by logger", ["logger"])
FLOOD_WAITS = Counter("cxbot_telegram_flood_waits", "429 Too Many Requests answers from Telegram")
SHUTTING_DOWN = Gauge("cxbot_shutting_down", "1 while the process finishes its work before exiting")


def _children() -> dict[tuple[str, str], tuple[Counter, Histogram]]:
    """Every (channel, outcome)'s counter and latency child, looked up once (and all exported at 0)."""
    children = {}
    for channel in (*CHANNELS, "other"):
        latency = REPLY_SECONDS.labels(channel)
        for outcome in OUTCOMES:
            children[channel, outcome] = (MESSAGES.labels(channel, outcome), latency)
    return children


_BY_OUTCOME = _children()


def count_message(channel: str, outcome: str, seconds: float) -> None:
    """One message handled: counted, and its time observed."""
    counter, latency = _BY_OUTCOME.get((channel, outcome)) or _BY_OUTCOME["other", outcome]
    counter.inc()
    latency.observe(seconds)


class MeteredEngine(Engine):
    """The engine, with each message counted and timed and the runs it starts and finishes counted."""

    async def handle(self, inbound: Inbound) -> list[Reply]:
        started = time.perf_counter()
        outcome = "error"
        try:
            replies = await super().handle(inbound)
            outcome = "ok"
            return replies
        except StoreBusy:
            outcome = "busy"
            raise
        finally:
            count_message(inbound.channel, outcome, time.perf_counter() - started)

    def committed(self, inbound: Inbound, stepped: Stepped) -> None:
        if stepped.runs_opened:
            RUNS_STARTED.inc(stepped.runs_opened)
        if stepped.runs_finished:
            RUNS_FINISHED.inc(stepped.runs_finished)


def watch_store(store: Store) -> None:
    """Export the store's queue depth and time its commits, where the store tells them."""
    depth = getattr(store, "queue_depth", None)
    STORE_QUEUE.set_function(depth if callable(depth) else lambda: 0.0)
    if hasattr(store, "observe_commit"):
        store.observe_commit = COMMIT_SECONDS.observe


class ErrorCounter(logging.Filter):
    """Counts records at ERROR and above by logger (a handler filter that lets every record pass).
    Put in front of the repeat collapser, so a collapsed flood is still counted whole."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR:
            ERRORS.labels(record.name).inc()
        return True


def install(app: web.Application, allow: str) -> None:
    """Serve `/metrics` to the addresses `allow` names (comma-separated networks); none if empty."""
    networks = [ipaddress.ip_network(part.strip(), strict=False) for part in allow.split(",") if part.strip()]
    if networks:
        app.router.add_get(METRICS_PATH, partial(metrics, networks=networks))


async def metrics(
    request: web.Request, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> web.Response:
    """The metrics, or 404 for anyone not allowed (see the module docstring)."""
    if not _allowed(request, networks):
        raise web.HTTPNotFound()
    body = generate_latest(REGISTRY)
    return web.Response(body=body, headers={hdrs.CONTENT_TYPE: CONTENT_TYPE_LATEST})


def _allowed(request: web.Request, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    if hdrs.X_FORWARDED_FOR in request.headers or request.remote is None:
        return False
    try:
        address = ipaddress.ip_address(request.remote.split("%", 1)[0])
    except ValueError:  # a Unix socket, or something else without an IP address
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)
