"""The generic webhook channel: Rasa's REST channel protocol (see docs/webhook.md).

- `GET  /webhooks/rest/` answers `{"status": "ok"}`.
- `POST /webhooks/rest/webhook` takes `{"sender", "message", "metadata"?}` and answers the replies
  as a JSON list of `{"recipient_id", "text"?, "buttons"?, "image"?}` (`bot.web.rest_render`). With
  `metadata.callback_url` it works in callback mode instead (below).
- `POST /webhooks/callback/webhook` (Rasa's callback channel path) is always in callback mode, to
  `metadata.callback_url` or else `CXBOT_CALLBACK_URL`.

Callback mode: the message is handled (applied and stored) before the answer, which is an
acknowledgement, `{"status": "accepted", "messages": n}`; the same JSON list is then POSTed to the
callback URL in the background (`bot.web.callbacks`). The URL is checked against the SSRF guard first,
so a refused one is a 400 at once.

A signed request speaks for a bridge's people (the `webhook` channel), an unsigned one for a web
visitor (the `web` channel); `bot.web.admission` says how they are kept apart. The web chat gets its
visitor id from `POST /webhooks/rest/visitors` (`bot.web.visitors`).

Each request is checked in this order, and nothing reaches the engine unless all pass: content type
(415), signed or not and, if not, whether visitors are taken (401) and the address's rate (429),
body size (413), the signature (401; 409 for one applied before; 503 for a copy of one being handled
right now), JSON shape (400), the visitor id (401), the sender's rate (429), the callback URL (400).
A busy database is a 503. A signed request is remembered as applied only once it is answered with a
2xx, so one refused for now (503, 429, 400) may be sent again as the same bytes.

A retried delivery names itself with `metadata.message_id` (or the `Idempotency-Key` header); the
engine scopes the id to the sender and answers a repeated one with the replies it stored the first
time, applying nothing again. A signed request without one is named by its signature, so another
process that did not see it first still applies it once.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from functools import partial

from aiohttp import web
from aiohttp.resolver import ThreadedResolver

from bot.app_keys import RESOLVER
from bot.http_errors import json_error
from bot.json_codec import json_response
from bot.log_privacy import log_failure
from bot.push import PUSHERS
from bot.settings import Settings
from bot.shutdown import time_left
from bot.web.admission import SIGNED, UNSIGNED, Admission
from bot.web.auth import SIGNATURE_HEADER
from bot.web.callbacks import CallbackSender, Delivery, callback_sender
from bot.web.cors import CorsPolicy
from bot.web.public_url import base_url
from bot.web.rate_limits import RateLimits
from bot.web.request import BadRequest, RestRequest, check_content_type, parse_rest_request, read_body
from bot.web.rest_render import as_json, render_replies
from bot.web.url_guard import CallbackRefused
from bot.web.visitors import KEY_NAME, VISITORS_PATH, issue
from dialogs.engine import Engine
from dialogs.types import Inbound, Reply, locale_of
from storage.campaign_statements import FAILED, SENT
from storage.service_keys import service_key
from storage.store import StoreBusy

STATUS_PATH = "/webhooks/rest/"
REST_PATH = "/webhooks/rest/webhook"
CALLBACK_PATH = "/webhooks/callback/webhook"
IDEMPOTENCY_HEADER = "Idempotency-Key"
RETRY_AFTER = 2
log = logging.getLogger(__name__)
FAILED_STEP = (
    "the server could not store this message, so nothing was applied; the error has been logged. "
    "Send it again later (with the same metadata.message_id or Idempotency-Key, it is applied once)"
)
BUSY = (
    "the database is busy, so nothing was applied: send the message again in a moment "
    "(with the same metadata.message_id or Idempotency-Key, it is applied once)"
)


def install(app: web.Application, settings: Settings, engine: Engine) -> None:
    """Add the webhook routes, their CORS preflights and the callback sender to the app."""
    webhook = RestWebhook(settings, engine)
    cors = CorsPolicy(settings.cors_origins)
    app.router.add_get(STATUS_PATH, status)
    app.router.add_post(REST_PATH, webhook.rest)
    app.router.add_post(CALLBACK_PATH, webhook.callback)
    app.router.add_post(VISITORS_PATH, webhook.new_visitor)
    for path in (STATUS_PATH, REST_PATH, CALLBACK_PATH, VISITORS_PATH):
        app.router.add_route("OPTIONS", path, cors.preflight)
    app.cleanup_ctx.append(webhook.admission_context)
    app.cleanup_ctx.append(webhook.callbacks_context)


async def status(request: web.Request) -> web.Response:
    """Rasa's channel health check."""
    return web.json_response({"status": "ok"})


class CallbackPusher:
    """Reminders to a webhook sender: POSTed to their bridge's callback URL (the one it last sent, or
    `CXBOT_CALLBACK_URL`), signed and retried like replies."""

    pace = 0.0

    def __init__(self, sender: CallbackSender, settings: Settings, default_url: str | None) -> None:
        self.sender = sender
        self.default_url = default_url
        self.needs_address = default_url is None
        self.base = (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")

    async def push(self, sender: str, address: str | None, replies: Sequence[Reply]) -> str:
        url = address or self.default_url
        if url is None:
            return FAILED
        messages = as_json(render_replies(replies, sender, self.base))
        delivered = await self.sender.deliver(Delivery(sender, url, messages))
        return SENT if delivered else FAILED


class RestWebhook:
    """Handlers of the two POST routes, sharing the engine and the callback sender."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self._admission: Admission | None = None
        self._callbacks: CallbackSender | None = None

    async def admission_context(self, app: web.Application) -> AsyncIterator[None]:
        """Cleanup context: the checks need the visitor key, kept in the database."""
        key = await self.engine.store.run(partial(service_key, name=KEY_NAME))
        limits = RateLimits(self.settings.rate_per_sender, self.settings.rate_per_address)
        self._admission = Admission(self.settings, limits, key)
        yield
        self._admission = None

    @property
    def admission(self) -> Admission:
        if self._admission is None:
            raise RuntimeError("the webhook's checks run only while the app is started")
        return self._admission

    async def callbacks_context(self, app: web.Application) -> AsyncIterator[None]:
        """Cleanup context: the callback sender lives (and drains) with the app."""
        resolver = app.get(RESOLVER) or ThreadedResolver()
        async with callback_sender(self.settings, resolver, grace=time_left(app)) as sender:
            self._callbacks = sender
            # the bridge's default URL is for the bridge's people; a visitor gets only their own
            app[PUSHERS][SIGNED] = CallbackPusher(sender, self.settings, self.settings.callback_url)
            app[PUSHERS][UNSIGNED] = CallbackPusher(sender, self.settings, None)
            yield
            app[PUSHERS].pop(SIGNED, None)
            app[PUSHERS].pop(UNSIGNED, None)
            self._callbacks = None

    @property
    def callbacks(self) -> CallbackSender:
        if self._callbacks is None:
            raise RuntimeError("the webhook's callback sender runs only while the app is started")
        return self._callbacks

    async def rest(self, request: web.Request) -> web.Response:
        """`POST /webhooks/rest/webhook`: replies in the answer, or by callback if metadata asks."""
        return await self._handle(request, callback_only=False)

    async def callback(self, request: web.Request) -> web.Response:
        """`POST /webhooks/callback/webhook`: always replies by callback."""
        return await self._handle(request, callback_only=True)

    async def new_visitor(self, request: web.Request) -> web.Response:
        """`POST /webhooks/rest/visitors`: a fresh, unguessable visitor id for the web chat."""
        try:
            if self.settings.web_visitors == "none":
                raise BadRequest(403, "this server takes no web visitors (CXBOT_WEB_VISITORS=none)")
            await self.admission.check_address(request)
        except BadRequest as error:
            return json_error(error.status, error.message, error.headers)
        return json_response({"sender": issue(self.admission.visitor_key)}, status=201)

    async def _handle(self, request: web.Request, callback_only: bool) -> web.Response:
        try:
            namespace, body = await self._receive(request)
        except BadRequest as error:
            return json_error(error.status, error.message, error.headers)
        if namespace == UNSIGNED:
            return await self._answer(request, namespace, body, callback_only)
        status = 500  # on an exception it is forgotten: a retry still applies once, by its message id
        try:
            response = await self._answer(request, namespace, body, callback_only)
            status = response.status
            return response
        finally:
            self.admission.signature_done(request.headers, status)

    async def _receive(self, request: web.Request) -> tuple[str, bytes]:
        """The request's namespace and body, once it is JSON, admitted, not too large and, if signed,
        rightly signed, not applied before and not being handled now."""
        check_content_type(request)
        namespace = await self.admission.namespace(request)
        body = await read_body(request, self.settings.max_body_bytes)
        if namespace == SIGNED:
            self.admission.check_signature(request.headers, body)
        return namespace, body

    async def _answer(
        self, request: web.Request, namespace: str, body: bytes, callback_only: bool
    ) -> web.Response:
        """The checks of the body, then the engine's replies (or the acknowledgement of a callback)."""
        try:
            parsed = await self._parse(request, namespace, body)
            url = await self._callback_url(parsed, callback_only)
        except BadRequest as error:
            return json_error(error.status, error.message, error.headers)
        inbound = Inbound(
            namespace,
            parsed.sender,
            parsed.message,
            parsed.message_id,
            push_url=parsed.callback_url,
            buttons_stay=False,
            language=parsed.language,
        )
        try:
            replies = await self.engine.handle(inbound)
        except StoreBusy:
            return json_error(503, BUSY, {"Retry-After": str(RETRY_AFTER)})
        except Exception as error:  # the step is one transaction: a failure applied none of it
            log_failure(log, "the engine failed on a webhook message", error)
            return json_error(500, FAILED_STEP)
        base = base_url(request, self.settings)
        messages = render_replies(replies, parsed.sender, base, self.engine.languages.default)
        if url is None:
            # the replies' language, in a header every page may read: the web chat's own words follow it
            language = {"Content-Language": locale_of(replies) or self.engine.languages.default}
            return json_response(as_json(messages), headers=language)
        self.callbacks.submit(Delivery(parsed.sender, url, as_json(messages)))
        return json_response({"status": "accepted", "messages": len(messages)})

    async def _parse(self, request: web.Request, namespace: str, body: bytes) -> RestRequest:
        """The body's content, once its shape, the visitor id and the sender's rate pass."""
        parsed = parse_rest_request(body, request.headers.get(IDEMPOTENCY_HEADER))
        await self.admission.check_sender(namespace, parsed.sender)
        if namespace == SIGNED and parsed.message_id is None:
            parsed = replace(parsed, message_id=f"signed:{request.headers[SIGNATURE_HEADER][-64:]}")
        return parsed

    async def _callback_url(self, parsed: RestRequest, callback_only: bool) -> str | None:
        url = parsed.callback_url or (self.settings.callback_url if callback_only else None)
        if url is None:
            if callback_only:
                raise BadRequest(400, "no callback URL: send metadata.callback_url or set CXBOT_CALLBACK_URL")
            return None
        try:
            await self.callbacks.check(url)
        except CallbackRefused as error:
            raise BadRequest(400, f"refused callback URL: {error}") from None
        return url
