"""`cxbot serve`: one aiohttp application for every HTTP channel.

The app has a small core of its own: `GET /healthz`, `GET /openapi.json`, the result charts at
`GET /charts/{token}.png` and calculators' figures at `GET /calculations/{token}.csv`
(`bot.web.calculations`); JSON errors everywhere (`bot.http_errors`) and CORS headers
(`bot.web.cors`). Everything else is added by *channel installers*: functions

    def install(app: web.Application, settings: Settings, engine: Engine) -> None

that add routes (`app.router.add_post(...)`), start-up and clean-up work (`app.on_startup`,
`app.on_shutdown`, or better `app.cleanup_ctx` for something opened at start and closed at the
end, such as a client session or a polling task), and may read what the core shares through the
keys in `bot.app_keys` (`SETTINGS`, `ENGINE`, `CHARTS`). An installer decides from the settings
whether it has anything to do (a Telegram installer returns at once when `settings.telegram_token`
is not set). `channel_installers()` lists them, in order; add a channel there.

`serve` opens the engine, runs the app until SIGINT or SIGTERM, then shuts down gracefully within
`CXBOT_SHUTDOWN_TIMEOUT` (`bot.shutdown`): no new work is taken (the socket closes, late requests
get 503, `app.on_shutdown` stops polling and the scheduler), requests under way finish, the clean-up
contexts finish what they hold with what is left of the deadline (Telegram updates, callbacks), and
the store is closed last.

Operations: `/metrics` for Prometheus, to trusted addresses only (`bot.metrics`); logs as JSON lines
or text, each line with the id of its request or update (`bot.log_setup`).

Facing the network, `serve` raises the descriptor limit to its hard limit, guards every connection
(`bot.connections`: a deadline for each request to arrive, caps on open connections with room kept
for `/healthz`), collapses repeated log records (`bot.log_limits`), and names itself only `cxbot`
in the `Server` header.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial

from aiohttp import hdrs, web, web_response

from bot import scheduler
from bot.app import running_engine
from bot.app_keys import CHARTS, ENGINE, SETTINGS
from bot.chart_cache import ChartCache
from bot.connections import ConnectionGuard, caps_for, descriptor_limit, raise_descriptor_limit
from bot.front_door import front_door
from bot.http_errors import json_error
from bot.log_limits import RepeatCollapser, summarise_periodically
from bot.log_setup import LOG_ID, configure_logging
from bot.metrics import METRICS_PATH, ErrorCounter, MeteredEngine, watch_store
from bot.metrics import install as install_metrics
from bot.push import PUSHERS
from bot.settings import Settings
from bot.shutdown import SHUTDOWN, Shutdown
from bot.startup import CannotStart
from bot.web import calculations
from bot.web.cors import CorsPolicy
from bot.web.openapi import openapi_document
from dialogs.catalogue import catalogue
from dialogs.engine import Engine
from storage.repository import ping

log = logging.getLogger(__name__)

ChannelInstaller = Callable[[web.Application, Settings, Engine], None]
HEALTH_TIMEOUT = 5.0
HEALTH_PATH = "/healthz"
CHART_CACHE_SIZE = 256
SERVER_NAME = "cxbot"
"""The `Server` header: no software or versions for a scanner to match against known flaws."""
SUMMARY_EVERY = 10.0
"""How often the counts of collapsed log repeats are written, once their window has ended."""
CONNECTIONS = web.AppKey("connections", ConnectionGuard)


def channel_installers() -> list[ChannelInstaller]:
    """The channels `cxbot serve` runs, in the order their routes are added."""
    from bot import telegram
    from bot.web import chat, dashboard, webhook

    return [webhook.install, chat.install, dashboard.install, telegram.install]


def build_app(
    settings: Settings, engine: Engine, installers: Sequence[ChannelInstaller] | None = None
) -> web.Application:
    """The app with the core routes and every channel (`channel_installers()` unless given)."""
    # beyond the soft cap: the load balancer's check and monitoring, both cheap (a scrape takes a few
    # ms) and /metrics only to CXBOT_METRICS_ALLOW (loopback by default; anyone else gets a 404)
    always_served = [HEALTH_PATH, METRICS_PATH]
    guard = ConnectionGuard(caps_for(settings, descriptor_limit()), settings.request_timeout, always_served)
    cors = CorsPolicy(settings.cors_origins)
    shutdown = Shutdown(settings.shutdown_timeout)
    app = web.Application(middlewares=[front_door(cors, guard, shutdown)])
    app.on_response_prepare.append(name_server)
    app[CONNECTIONS] = guard
    app[SHUTDOWN] = shutdown
    app[SETTINGS] = settings
    app[ENGINE] = engine
    app[CHARTS] = ChartCache(CHART_CACHE_SIZE, catalogue(settings.locale).text("chart_no_answers"))
    app[PUSHERS] = {}
    app.router.add_get(HEALTH_PATH, health)
    app.router.add_get("/openapi.json", partial(openapi, document=openapi_document(settings)))
    app.router.add_get(r"/charts/{token:[A-Za-z0-9_-]{1,64}}.png", chart)
    calculations.install(app)
    install_metrics(app, settings.metrics_allow)
    for install in channel_installers() if installers is None else installers:
        install(app, settings, engine)
    scheduler.install(app)
    return app


async def health(request: web.Request) -> web.Response:
    """200 when a trivial query runs through the store, 503 (with the reason logged) otherwise."""
    store = request.app[ENGINE].store
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT):
            await store.run(ping)
    except Exception:
        log.exception("health check: the database does not answer")
        return web.json_response({"status": "error", "database": "unavailable"}, status=503)
    return web.json_response({"status": "ok", "database": store.backend})


async def name_server(request: web.Request, response: web.StreamResponse) -> None:
    """`Server: cxbot` on every answer of the app."""
    response.headers[hdrs.SERVER] = SERVER_NAME


async def openapi(request: web.Request, document: dict[str, object]) -> web.Response:
    """The OpenAPI document."""
    return web.json_response(document)


async def chart(request: web.Request) -> web.Response:
    """A stored result's chart as PNG; looked up on every request, so an erased result is gone."""
    language = request.query.get("lang")  # the web chat's replies name their language (`rest_render`)
    found = await request.app[ENGINE].chart(request.match_info["token"], language)
    if found is None:
        return json_error(404, "there is no chart at this address (it may have been deleted)")
    png = await request.app[CHARTS].png(found)
    return web.Response(
        body=png, content_type="image/png", headers={"Cache-Control": "private, max-age=3600"}
    )


def serve(settings: Settings) -> int:
    """Run the server until SIGINT or SIGTERM; the exit status."""
    collapser = configure_logging(settings.log_level, settings.log_format)
    if collapser is not None:
        collapser.addFilter(ErrorCounter())  # before collapsing: a flood of errors is counted whole
    descriptors = raise_descriptor_limit()
    # aiohttp answers malformed HTTP itself, before any app sees the request: name cxbot there too
    aiohttp_name, web_response.SERVER_SOFTWARE = web_response.SERVER_SOFTWARE, SERVER_NAME
    try:
        with asyncio.Runner(loop_factory=fast_loop()) as runner:
            runner.run(_serve(settings, descriptors, collapser))
    except CannotStart as error:
        print(f"cxbot: {error}", file=sys.stderr)
        return 1
    finally:
        web_response.SERVER_SOFTWARE = aiohttp_name
    return 0


async def _serve(settings: Settings, descriptors: int, collapser: RepeatCollapser | None) -> None:
    LOG_ID.set("serve")  # starting and stopping: lines outside any request say so
    summaries = asyncio.create_task(summarise_periodically(collapser, SUMMARY_EVERY)) if collapser else None
    try:
        async with running_engine(settings, MeteredEngine) as engine:
            watch_store(engine.store)
            app = build_app(settings, engine)
            _log_limits(app[CONNECTIONS], descriptors)
            runner = web.AppRunner(
                app,
                handle_signals=False,
                access_log=None,
                keepalive_timeout=settings.keepalive_timeout,
                shutdown_timeout=settings.shutdown_timeout,  # requests first: the whole deadline is left
            )
            try:
                await runner.setup()  # starts the channels: a CannotStart from one of them stops here
                await _run(runner, app[CONNECTIONS], app[SHUTDOWN], settings)
            finally:
                await runner.cleanup()
            _log_stopped(app[SHUTDOWN])
    finally:
        if summaries is not None:
            summaries.cancel()


async def _run(runner: web.AppRunner, guard: ConnectionGuard, shutdown: Shutdown, settings: Settings) -> None:
    listener = await _listen(runner, guard, settings)
    try:
        settle_heap()
        with _stop_signals() as stop:  # before saying it serves: whoever reads that may stop it
            for sock in listener.sockets:
                host, port = sock.getsockname()[:2]
                where = f"http://{_bracket(host)}:{port}/"
                log.info("cxbot serving on %s (webhook: /webhooks/rest/webhook)", where)
            await stop.wait()
        shutdown.begin()  # from here requests get 503; runner.cleanup() stops the rest and drains
        log.info("shutting down: finishing the work in flight within %g s", shutdown.timeout)
    finally:
        listener.close()  # no new connections; those open finish their requests in runner.cleanup()


def _log_stopped(shutdown: Shutdown) -> None:
    if shutdown.stopping:
        log.info("stopped after %.1f s", shutdown.timeout - shutdown.remaining())


def _log_limits(guard: ConnectionGuard, descriptors: int) -> None:
    log.info(
        "limits: %d descriptors, %d connections (beyond %d only %s), %g s for a request to arrive",
        *(descriptors, guard.caps.hard, guard.caps.soft, _served_anyway(guard), guard.request_timeout),
    )


def _served_anyway(guard: ConnectionGuard) -> str:
    return " and ".join(sorted(guard.always_served))


async def _listen(runner: web.AppRunner, guard: ConnectionGuard, settings: Settings) -> asyncio.Server:
    """Listen on the configured address, every connection guarded (instead of aiohttp's `TCPSite`,
    which would hand connections to aiohttp unguarded)."""
    assert runner.server is not None, "runner.setup() first"
    loop = asyncio.get_running_loop()
    try:
        return await loop.create_server(guard.protocol_factory(runner.server), settings.host, settings.port)
    except OSError as error:
        where = f"{settings.host}:{settings.port}"
        raise CannotStart(f"cannot serve on {where}: {error.strerror or error}") from error


@contextmanager
def _stop_signals() -> Iterator[asyncio.Event]:
    """An event set by SIGINT or SIGTERM while inside."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        yield stop
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def fast_loop() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when it is installed (`pip install 'cxbot[fast]'`), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def settle_heap() -> None:
    """Move everything made at start-up (modules, frameworks, statements) out of the garbage
    collector's view: a full collection otherwise walks it all, a 150 ms pause every few seconds
    under load (measured: p99 175 ms with, 36 ms without)."""
    gc.collect()
    gc.freeze()


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host
