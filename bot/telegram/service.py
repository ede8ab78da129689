"""The Telegram channel in `cxbot serve` (aiogram 3): one bot, polling or webhook.

`install` is the server's channel installer; it does nothing unless `CXBOT_TELEGRAM_TOKEN` is set.
One `Bot` and its HTTP session live as long as the app (a clean-up context opens them at start-up
and closes them at the end). `CXBOT_TELEGRAM_API_URL` points them at another Bot API server
(requests then go to `{url}/bot{token}/{method}`).

At start-up: the command menu (`setMyCommands`), then either

- long polling (the default): in the one process that holds the polling lock
  (`bot.telegram.leadership`; always, on SQLite), `deleteWebhook`, then `bot.telegram.polling` as a
  task next to the HTTP server, which confirms each update only once it has been handled; or
- webhook mode, when `CXBOT_TELEGRAM_WEBHOOK_URL` is set: a POST route on this server at that URL's
  path and `setWebhook` with a secret token (`CXBOT_TELEGRAM_WEBHOOK_SECRET`, or one derived from
  the bot token, so that every process of one bot expects the same). Each request must carry it in
  `X-Telegram-Bot-Api-Secret-Token` (compared in constant time; 401 otherwise) and a JSON body (415
  otherwise), and is acknowledged only after its update has been handled: the answer is stored and
  sent. A busy database answers 503 and any other error 500, so Telegram delivers the update again.

Every line logged while an update is handled carries `tg-<update id>` as its id (`bot.log_setup`).

At shutdown: polling fetches no more updates at once (`stop_taking`); the updates in hand then
finish within what is left of the shutdown deadline and are confirmed, the polling lock is let go,
and the session closes.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, TelegramObject, Update
from aiohttp import ClientError, web

from bot.app_keys import CHARTS
from bot.http_errors import json_error
from bot.log_setup import LOG_ID
from bot.push import PUSHERS
from bot.settings import Settings
from bot.shutdown import time_left
from bot.startup import CannotStart
from bot.telegram.channel import BUSY_RETRY, TelegramChannel
from bot.telegram.delivery import CHANNEL, Delivery, Pictures
from bot.telegram.gate import UpdateGate
from bot.telegram.keyboards import LiveKeyboards
from bot.telegram.leadership import Leadership, polling_lock
from bot.telegram.pacing import SendPacer
from bot.telegram.polling import Polling
from bot.telegram.push import TelegramPusher
from bot.web.request import BadRequest, check_content_type
from dialogs.campaign_view import TELEGRAM_USERNAME
from dialogs.catalogue import Catalogue
from dialogs.engine import Engine
from storage.campaign_repository import set_fact
from storage.store import StoreBusy

COMMANDS = (
    "start",
    "help",
    "back",
    "skip",
    "review",
    "submit",
    "results",
    "mydata",
    "deletemydata",
    "language",
)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")
"""What Telegram accepts as a webhook `secret_token`."""
RETRY_AFTER = 2
"""Seconds a webhook request refused as busy suggests (Telegram retries on its own schedule)."""

log = logging.getLogger(__name__)


def install(app: web.Application, settings: Settings, engine: Engine) -> None:
    """Run the Telegram bot with the app, if a token is configured."""
    if settings.telegram_token is None:
        return
    service = TelegramService(settings, engine, app[CHARTS].png)
    if service.webhook_path is not None:
        app.router.add_post(service.webhook_path, service.webhook)
    app.cleanup_ctx.append(service.lifespan)
    app.on_shutdown.append(service.stop_taking)


def make_bot(settings: Settings) -> Bot:
    """The bot and its session (no network yet), with every message paced (`bot.telegram.pacing`)."""
    if settings.telegram_token is None:
        raise ValueError("CXBOT_TELEGRAM_TOKEN is not set")
    api = TelegramAPIServer.from_base(settings.telegram_api_url) if settings.telegram_api_url else PRODUCTION
    session = AiohttpSession(api=api)
    session.middleware(SendPacer(settings.telegram_rate))
    return Bot(settings.telegram_token.get_secret_value(), session=session)


def webhook_secret(settings: Settings) -> str:
    """The configured webhook secret, checked, or one derived from the bot token: the same in every
    process of the bot (each calls `setWebhook` at start, and any of them may get the next update),
    and telling nothing of the token."""
    if settings.telegram_webhook_secret is None:
        assert settings.telegram_token is not None, "no webhook without a bot"
        token = settings.telegram_token.get_secret_value().encode()
        return hmac.new(token, b"cxbot telegram webhook secret", hashlib.sha256).hexdigest()
    secret = settings.telegram_webhook_secret.get_secret_value()
    if not SECRET_PATTERN.fullmatch(secret):
        raise CannotStart(
            "CXBOT_TELEGRAM_WEBHOOK_SECRET may only use A-Z, a-z, 0-9, _ and -, up to 256 characters"
        )
    return secret


def bot_commands(cat: Catalogue) -> list[BotCommand]:
    """The command menu, described in the bot's own words."""
    return [BotCommand(command=name, description=cat.text(f"telegram_command_{name}")) for name in COMMANDS]


def menu_languages(engine: Engine) -> list[tuple[str, Catalogue]]:
    """(Telegram's two-letter language code, the words) of each language on offer but the default,
    whose menu is everyone else's; Telegram sets menus by language alone (`pt`, not `pt-BR`)."""
    default = engine.languages.default.split("-", 1)[0]
    found: dict[str, Catalogue] = {}
    for locale, context in engine.languages.contexts.items():
        language = locale.split("-", 1)[0]
        if language != default and len(language) == 2:
            found.setdefault(language, context.cat)
    return list(found.items())


def build_dispatcher(channel: TelegramChannel, gate: UpdateGate) -> Dispatcher:
    """A dispatcher without aiogram's FSM (the engine owns the conversation), behind the gate; every
    line logged about an update carries its id."""
    dispatcher = Dispatcher(disable_fsm=True)
    dispatcher.update.outer_middleware(name_update)
    dispatcher.update.outer_middleware(gate)
    dispatcher.include_router(channel.router())
    return dispatcher


async def name_update(
    handler: Callable[[TelegramObject, dict[str, object]], Awaitable[object]],
    event: TelegramObject,
    data: dict[str, object],
) -> object:
    """Outer middleware: the update's lines carry `tg-<update id>` (in its own task when polling; for
    the rest of the request in webhook mode, where aiogram's "handled" line comes after)."""
    if isinstance(event, Update):
        LOG_ID.set(f"tg-{event.update_id}")
    return await handler(event, data)


class TelegramService:
    """The bot's lifetime within the app, and the webhook route."""

    def __init__(self, settings: Settings, engine: Engine, pictures: Pictures) -> None:
        self.settings = settings
        self.cat = engine.context.cat
        self.gate = UpdateGate()
        self.delivery = Delivery(engine, pictures, LiveKeyboards(), settings.public_url)
        self.webhook_url = settings.telegram_webhook_url or None
        # polling waits a busy database out; a webhook request fails, and Telegram sends it again
        busy_retry = None if self.webhook_url else BUSY_RETRY
        self.channel = TelegramChannel(engine, self.delivery, busy_retry)
        self.engine = engine
        self.dispatcher = build_dispatcher(self.channel, self.gate)
        self.webhook_path = (urlsplit(self.webhook_url).path or "/") if self.webhook_url else None
        self.secret = webhook_secret(settings) if self.webhook_url else None
        self.bot: Bot | None = None
        self.leadership: Leadership | None = None

    async def lifespan(self, app: web.Application) -> AsyncIterator[None]:
        """Clean-up context: start the bot with the app, stop it with the app (within what is left of
        the shutdown deadline)."""
        bot = make_bot(self.settings)
        time_left_for_work = time_left(app)
        try:
            try:
                await self._start(bot)
            except (TelegramAPIError, ClientError, OSError) as error:
                raise CannotStart(
                    f"the Telegram bot cannot start: {error} (check CXBOT_TELEGRAM_* settings)"
                ) from error
            app[PUSHERS][CHANNEL] = TelegramPusher(bot, self.delivery)
            yield
        finally:
            app[PUSHERS].pop(CHANNEL, None)
            self.bot = None
            if self.leadership is not None:
                await self.leadership.stop(time_left_for_work())
            await self._drain(time_left_for_work())
            await bot.session.close()

    async def _start(self, bot: Bot) -> None:
        """Commands menu, then the webhook, or polling in whichever process holds the polling lock."""
        me = await bot.me()
        if me.username:  # for join links printed elsewhere (`cxbot campaign create`)
            await self.engine.store.run(partial(set_fact, name=TELEGRAM_USERNAME, value=me.username))
        await bot.set_my_commands(bot_commands(self.cat))
        for language, cat in menu_languages(self.engine):  # the menu in the person's app language too
            await bot.set_my_commands(bot_commands(cat), language_code=language)
        if self.webhook_url:
            self.bot = bot
            allowed = self.dispatcher.resolve_used_update_types()
            await bot.set_webhook(self.webhook_url, secret_token=self.secret, allowed_updates=allowed)
            log.info("Telegram bot @%s: webhook at %s", me.username, self.webhook_url)
            return
        lock = polling_lock(self.settings.database_url, bot.id)
        self.leadership = Leadership(lock, partial(self._poll, bot, me.username))
        await self.leadership.start()

    async def _poll(self, bot: Bot, username: str | None) -> Polling:
        """The leader's work: long polling (Telegram allows no webhook beside it)."""
        await bot.delete_webhook()
        polling = await Polling.start(self.dispatcher, bot)
        log.info("Telegram bot @%s: long polling", username)
        return polling

    async def stop_taking(self, app: web.Application) -> None:
        """On shutdown, before requests drain: no more updates are fetched, nor leadership sought."""
        if self.leadership is not None:
            await self.leadership.stop_taking()

    async def _drain(self, within: float) -> None:
        try:
            async with asyncio.timeout(within):
                await self.gate.drain()
        except TimeoutError:
            log.warning("Telegram updates still being handled after %.1f s; closing anyway", within)

    async def webhook(self, request: web.Request) -> web.Response:
        """A POST from Telegram: check the secret, handle the update, then acknowledge it."""
        if not self.authentic(request):
            return json_error(401, "missing or wrong X-Telegram-Bot-Api-Secret-Token")
        try:
            check_content_type(request)  # the REST webhook's rule: JSON only
        except BadRequest as refused:
            return json_error(refused.status, refused.message)
        bot = self.bot
        if bot is None:
            return json_error(503, "the Telegram bot is not running")
        try:
            update = Update.model_validate(await request.json(), context={"bot": bot})
        except (ValueError, RecursionError):  # not JSON, too deeply nested, or not an Update
            return json_error(400, "the body is not a Telegram update")
        try:
            await self.dispatcher.feed_update(bot, update)
        except StoreBusy:  # nothing applied: Telegram delivers the update again
            return json_error(503, "the database is busy", {"Retry-After": str(RETRY_AFTER)})
        return web.json_response({})

    def authentic(self, request: web.Request) -> bool:
        """Whether the request carries the webhook secret (constant-time comparison)."""
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        return self.secret is not None and hmac.compare_digest(given, self.secret.encode())
