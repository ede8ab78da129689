"""``FakeBotAPI``: a local, spec-checked stand-in for https://api.telegram.org for tests.

Point aiogram's real HTTP session at it::

    async with FakeBotAPI() as server:
        session = AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))
        bot = Bot(server.token, session=session)
        ...
        await session.close()

Every call is validated against api.json (spec.py) and recorded; valid calls are answered like Telegram
(see methods.py). FakeUser (user.py) plays the human on the other side.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import math
import socket
import time
from collections import deque
from collections.abc import Callable
from email.parser import BytesParser
from email.policy import HTTP
from types import TracebackType
from typing import TYPE_CHECKING, Any

from aiohttp import ClientError, ClientSession, ClientTimeout, web

from .errors import ApiError, api_error, too_many_requests
from .methods import Answer, BotMethods, Handler
from .models import FakeChat, RecordedRequest, StoredMessage, UploadedFile, WebhookDelivery
from .spec import BotApiSpec, SpecMismatchError, load_spec
from .state import FakeState, update_type

if TYPE_CHECKING:
    from aiogram.client.telegram import TelegramAPIServer

DEFAULT_TOKEN = "123456789:AAFakeTokenForCxbotTests_0123456789x"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_WEBHOOK_ACTIVE = (
    "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
_DEFAULT_FAILURES = {
    400: "Bad Request: injected failure",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


FLOODED_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
    }
)
"""The calls Telegram counts against a bot's messages per second."""


class FakeBotAPI:
    """An aiohttp app on 127.0.0.1 (ephemeral port) serving ``/bot{token}/{method}`` and
    ``/file/bot{token}/{path}`` like the Telegram Bot API, plus test-side inspection and control."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "cxbot_test_bot",
        bot_first_name: str = "CX Test Bot",
        spec: BotApiSpec | None = None,
        strict_html: bool = True,
        max_poll_wait: float = 1.0,
        check_results: bool = True,
        allow_local_http_webhook: bool = True,
        flood_limit: int | None = None,
    ) -> None:
        self.token = token
        self.flood_limit = flood_limit
        """Messages sent or edited per second, over all chats, beyond which calls get 429 with
        `retry_after`, as Telegram refuses bulk sends (None: no limit)."""
        self._flood_window: deque[float] = deque()
        self.flood_refusals = 0
        self.spec = spec or load_spec()
        self.strict_html = strict_html
        self.max_poll_wait = max_poll_wait
        self.check_results = check_results
        self.state = FakeState(
            int(token.split(":", 1)[0]), bot_username, bot_first_name, self.spec.update_types()
        )
        self.methods = BotMethods(
            self.state, strict_html=strict_html, allow_local_http_webhook=allow_local_http_webhook
        )
        self._handlers: dict[str, Handler] = {**self.methods.handlers(), "getUpdates": self._get_updates}
        self.requests: list[RecordedRequest] = []
        self.rejected: list[RecordedRequest] = []
        self.log: list[RecordedRequest] = []
        self.webhook_deliveries: list[WebhookDelivery] = []
        self._failures: dict[str, deque[ApiError]] = {}
        self._stubs: dict[str, Any] = {}
        self._waiters: list[asyncio.Future[None]] = []
        self._poll_generation = 0
        self._waiting_polls = 0
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._client: ClientSession | None = None
        self._port: int | None = None

    # -- lifecycle ----------------------------------------------------------------------------------
    def make_app(self) -> web.Application:
        """The aiohttp application (routes only); :meth:`start` serves it."""
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        return app

    async def start(self) -> None:
        """Serve on 127.0.0.1 with an ephemeral port."""
        self._closing = False
        self._runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = int(sock.getsockname()[1])
        await web.SockSite(self._runner, sock).start()
        self._client = ClientSession(timeout=ClientTimeout(total=30))

    async def stop(self) -> None:
        """Release long-polling waiters, stop serving and close the webhook client session."""
        self._closing = True
        self._notify()
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotAPI:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The TCP port the server listens on (after start)."""
        if self._port is None:
            raise RuntimeError("FakeBotAPI is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``: use with ``TelegramAPIServer.from_base(server.base_url)``."""
        return f"http://127.0.0.1:{self.port}"

    def api_server(self) -> TelegramAPIServer:
        """aiogram's ``TelegramAPIServer`` for this fake (``{base}/bot{token}/{method}``, file URLs)."""
        from aiogram.client.telegram import TelegramAPIServer

        return TelegramAPIServer.from_base(self.base_url)

    @property
    def bot_id(self) -> int:
        """The bot's user id (the number before ':' in the token)."""
        return self.state.bot_id

    @property
    def bot_user(self) -> dict[str, Any]:
        """The bot's ``User`` object as it appears in messages."""
        return self.state.bot_user()

    # -- request log ----------------------------------------------------------------------------------
    def calls(self, method: str | None = None) -> list[RecordedRequest]:
        """Accepted (spec-valid) requests, optionally only of ``method`` (case-insensitive)."""
        if method is None:
            return list(self.requests)
        return [record for record in self.requests if record.method.lower() == method.lower()]

    def last_call(self, method: str) -> RecordedRequest:
        """The most recent accepted request of ``method``; AssertionError if there is none."""
        found = self.calls(method)
        assert found, f"no {method} request was made; methods called: {[r.method for r in self.requests]}"
        return found[-1]

    def assert_no_rejections(self) -> None:
        """Fail if any request was refused (bad token, unknown method, spec violation, unimplemented)."""
        assert not self.rejected, "rejected Bot API requests:\n" + "\n".join(
            r.summary() for r in self.rejected
        )

    async def wait_until(
        self, predicate: Callable[[], bool], within: float = 5.0, what: str = "condition"
    ) -> None:
        """Wait until ``predicate()`` is true (re-checked after every request/update); AssertionError
        after ``within`` seconds."""
        if not await self._wait(predicate, within):
            raise AssertionError(f"timed out after {within}s waiting for {what}")

    async def wait_for_call(self, method: str, *, count: int = 1, within: float = 5.0) -> RecordedRequest:
        """Wait until ``count`` accepted requests of ``method`` exist and return the ``count``-th one."""
        await self.wait_until(lambda: len(self.calls(method)) >= count, within, f"{count} x {method}")
        return self.calls(method)[count - 1]

    # -- programming failures and stubs ---------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        status: int = 429,
        *,
        retry_after: int | None = None,
        description: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` valid calls of ``method`` fail with ``status``.

        429 answers ``"Too Many Requests: retry after N"`` with ``parameters.retry_after`` (N defaults
        to 1); other statuses use Telegram's usual description unless ``description`` is given.
        """
        spec = self.spec.method(method)
        if spec is None:
            raise ValueError(f"unknown Bot API method {method!r}")
        if status == 429 and description is None:
            error = too_many_requests(retry_after if retry_after is not None else 1)
        else:
            params = {"retry_after": retry_after} if retry_after is not None else None
            text = description or _DEFAULT_FAILURES.get(status, f"Error {status}")
            error = ApiError(status, text, parameters=params, detail="injected by fail_next")
        self._failures.setdefault(spec.name, deque()).extend(error for _ in range(times))

    def stub(self, method: str, result: Any) -> None:
        """Answer valid calls of a method the fake does not implement with a fixed ``result`` (checked
        against the method's documented return type; SpecMismatchError if it does not match)."""
        spec = self.spec.method(method)
        if spec is None:
            raise ValueError(f"unknown Bot API method {method!r}")
        self.spec.validate_result(spec.name, result)
        self._stubs[spec.name] = result

    # -- chats ----------------------------------------------------------------------------------------
    def add_chat(self, chat: FakeChat) -> FakeChat:
        """Make a chat known (the bot gets 400 "chat not found" for chats the fake does not know)."""
        return self.state.add_chat(chat)

    def create_group(self, title: str, *, chat_id: int | None = None, supergroup: bool = True) -> FakeChat:
        """Create a group (or supergroup, default) chat the bot is a member of."""
        if chat_id is None:
            chat_id = (
                -1_001_000_000_000 - len(self.state.chats)
                if supergroup
                else -4_000_000_000 - len(self.state.chats)
            )
        return self.add_chat(FakeChat(chat_id, "supergroup" if supergroup else "group", title=title))

    def block(self, chat_id: int, blocked: bool = True) -> None:
        """Mark a chat so the bot's messages to it get 403 (private: "bot was blocked by the user")."""
        self.state.chats[chat_id].blocked = blocked

    def chat_messages(self, chat_id: int, *, include_deleted: bool = False) -> list[StoredMessage]:
        """Messages of a chat in order (user's and bot's), current version after edits."""
        log = self.state.chats[chat_id]
        return list(log.messages.values()) if include_deleted else log.visible()

    def message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        """One stored message (None if unknown or deleted)."""
        return self.state.find_message(chat_id, message_id)

    def chat_actions(self, chat_id: int) -> list[str]:
        """Chat actions (sendChatAction) the bot sent to a chat, in order."""
        return list(self.state.chats[chat_id].actions)

    def commands(self, scope: dict[str, Any] | None = None, language_code: str = "") -> list[dict[str, Any]]:
        """The command list set with setMyCommands for (scope, language_code)."""
        return list(self.state.commands.get(self.state.commands_key(scope, language_code), []))

    # -- updates --------------------------------------------------------------------------------------
    @property
    def is_polling(self) -> bool:
        """True while a getUpdates call is being served (e.g. the bot's long poll is waiting)."""
        return self._waiting_polls > 0

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates queued for getUpdates and not yet confirmed by an offset."""
        return list(self.state.pending)

    @property
    def confirmed_update_ids(self) -> list[int]:
        """Ids of the updates the bot confirmed with a getUpdates offset (Telegram then forgets them
        and never sends them again), in the order confirmed."""
        return list(self.state.confirmed)

    def delivered_update_ids(self) -> list[int]:
        """Ids of the updates getUpdates has returned so far (repeats included), in order."""
        return [update["update_id"] for call in self.calls("getUpdates") if call.ok for update in call.result]

    def enqueue_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates (assigns ``update_id`` if missing). Returns the update."""
        update = self._prepare_update(update)
        self.state.pending.append(update)
        self._notify()
        return update

    async def push_update(self, update: dict[str, Any]) -> int | None:
        """Give an update to the bot the way it receives them now: queued for polling (returns None)
        or POSTed to the webhook (returns the HTTP status; None if allowed_updates filters it out)."""
        if self.state.webhook is None:
            self.enqueue_update(update)
            return None
        update = self._prepare_update(update)
        if not self.state.is_allowed(update, self.state.allowed_updates):
            return None
        return await self.deliver(update)

    async def deliver(self, update: dict[str, Any]) -> int:
        """POST ``update`` to the webhook with the secret header (when set), like Telegram; run a method
        the bot returns in the response body; return the HTTP status (0 if the connection failed)."""
        hook = self.state.webhook
        if hook is None:
            raise RuntimeError("no webhook is set (call setWebhook first)")
        update = self._prepare_update(update)
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers[SECRET_HEADER] = hook.secret_token
        status, body, content_type = await self._post_webhook(hook.url, update, headers)
        self.webhook_deliveries.append(WebhookDelivery(update, hook.url, hook.secret_token, status, body))
        if 200 <= status < 300:
            with contextlib.suppress(ValueError):  # an unparsable reply is ignored, as by Telegram
                await self._run_webhook_reply(body, content_type)
        else:
            hook.last_error_date = int(time.time())
            hook.last_error_message = (
                f"Wrong response from the webhook: {status}" if status else "Connection refused"
            )
        self._notify()
        return status

    # -- internals: HTTP ------------------------------------------------------------------------------
    async def _handle_api(self, request: web.Request) -> web.Response:
        try:
            raw, files, transport = await self._read_request(request)
        except ValueError as error:
            raw, files, transport = {}, {}, "invalid"
            failure: ApiError | None = api_error(400, f"can't parse request body: {error}")
        else:
            failure = None
        record = RecordedRequest(request.match_info["method"], raw, files, transport)
        await self._execute(record, request.match_info["token"], failure)
        return web.json_response(record.response, status=record.status)

    async def _read_request(
        self, request: web.Request
    ) -> tuple[dict[str, Any], dict[str, UploadedFile], str]:
        params: dict[str, Any] = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.method != "POST" or not request.body_exists:
            return params, files, "query"
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("JSON body must be an object")
            params.update(body)
            return params, files, "json"
        form = await request.post()
        for name, value in form.items():
            if isinstance(value, web.FileField):
                files[name] = UploadedFile(name, value.filename, value.content_type, value.file.read())
            else:
                params[name] = value if isinstance(value, str) else bytes(value).decode()
        transport = "multipart" if request.content_type == "multipart/form-data" else "form"
        return params, files, transport

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(api_error(401, "").payload(), status=401)
        stored = self.state.file_by_path(request.match_info["path"])
        if stored is None:
            return web.json_response(api_error(404, "").payload(), status=404)
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")

    async def _execute(self, record: RecordedRequest, token: str, failure: ApiError | None = None) -> None:
        """Validate, dispatch and answer one call, filling ``record`` and appending it to the logs."""
        try:
            if token != self.token:
                raise api_error(401, "", detail="wrong bot token")
            if failure is not None:
                raise failure
            call = self.spec.validate_call(
                record.method, record.raw_params, record.files, strict_html=self.strict_html
            )
            record.method, record.params = call.method, call.params
            handler = self._handler(call.method)
        except ApiError as error:
            self._finish(record, error, rejected=True)
            return
        try:
            self._raise_injected(call.method)
            self._check_flood(call.method)
            outcome = handler(call.params)
            if inspect.isawaitable(outcome):
                outcome = await outcome
        except ApiError as error:
            self._finish(record, error, rejected=False)
            return
        self._succeed(record, outcome)

    def _handler(self, method: str) -> Handler:
        if method in self._handlers:
            return self._handlers[method]
        if method in self._stubs:
            result = self._stubs[method]
            return lambda params: result
        raise api_error(501, f"FakeBotAPI does not implement {method}; use server.stub({method!r}, result)")

    def _check_flood(self, method: str) -> None:
        """Refuse a message beyond `flood_limit` in the last second, with the whole seconds to wait."""
        if self.flood_limit is None or method not in FLOODED_METHODS:
            return
        now = time.monotonic()
        window = self._flood_window
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= self.flood_limit:
            self.flood_refusals += 1
            raise too_many_requests(max(1, math.ceil(window[0] + 1.0 - now)))
        window.append(now)

    def _raise_injected(self, method: str) -> None:
        queue = self._failures.get(method)
        if queue:
            raise queue.popleft()

    def _succeed(self, record: RecordedRequest, outcome: Any) -> None:
        answer = outcome if isinstance(outcome, Answer) else Answer(outcome)
        if self.check_results:
            try:
                self.spec.validate_result(record.method, answer.result)
            except SpecMismatchError as error:
                failure = api_error(500, "", detail=f"the fake built an invalid result: {error}")
                self._finish(record, failure, rejected=True)
                return
        record.response = {"ok": True, "result": answer.result}
        if answer.description:
            record.response["description"] = answer.description
        record.status = 200
        self.requests.append(record)
        self.log.append(record)
        self._notify()

    def _finish(self, record: RecordedRequest, error: ApiError, *, rejected: bool) -> None:
        record.status = error.status
        record.response = error.payload()
        record.detail = error.detail
        (self.rejected if rejected else self.requests).append(record)
        self.log.append(record)
        self._notify()

    # -- internals: waiting and polling ---------------------------------------------------------------
    def _notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _wait(self, predicate: Callable[[], bool], within: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing:
                return predicate()
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, remaining)
            except TimeoutError:
                return predicate()
        return True

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.state.webhook is not None:
            raise api_error(409, _WEBHOOK_ACTIVE)
        if "allowed_updates" in params:
            self.state.allowed_updates = params["allowed_updates"] or None
        self.state.confirm(params.get("offset"))
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # wakes (and thereby terminates) an older long poll
        wait = min(max(params.get("timeout", 0), 0), self.max_poll_wait)
        self._waiting_polls += 1
        self._notify()
        try:
            await self._wait(lambda: self._poll_ready(generation), wait)
        finally:
            self._waiting_polls -= 1
        if self._poll_generation != generation:
            raise api_error(
                409, "terminated by other getUpdates request; make sure that only one bot instance is running"
            )
        limit = min(max(params.get("limit", 100), 1), 100)
        return [dict(update) for update in self.state.deliverable()[:limit]]

    def _poll_ready(self, generation: int) -> bool:
        return bool(self.state.deliverable()) or self._poll_generation != generation

    def _prepare_update(self, update: dict[str, Any]) -> dict[str, Any]:
        if "update_id" not in update:
            update = {"update_id": self.state.next_update_id(), **update}
        if update_type(update) is None:
            raise ValueError(f"update has no content: {update!r}")
        self.spec.validate_object("Update", update)
        return update

    # -- internals: webhook ---------------------------------------------------------------------------
    async def _post_webhook(
        self, url: str, update: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, bytes, str]:
        if self._client is None:
            raise RuntimeError("FakeBotAPI is not started")
        try:
            async with self._client.post(url, data=json.dumps(update), headers=headers) as response:
                return response.status, await response.read(), response.headers.get("Content-Type", "")
        except (ClientError, TimeoutError):
            return 0, b"", ""

    async def _run_webhook_reply(self, body: bytes, content_type: str) -> None:
        """Telegram executes a method the bot puts in its webhook response; so does the fake."""
        params, files = _parse_webhook_reply(body, content_type)
        method = params.pop("method", None)
        if not isinstance(method, str):
            return
        record = RecordedRequest(method, params, files, "webhook-reply")
        await self._execute(record, self.token)


def _parse_webhook_reply(body: bytes, content_type: str) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    if not body.strip():
        return {}, {}
    if content_type.startswith("application/json"):
        data = json.loads(body)
        return (data if isinstance(data, dict) else {}), {}
    if not content_type.startswith("multipart/"):
        return {}, {}
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    params: dict[str, Any] = {}
    files: dict[str, UploadedFile] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if not isinstance(name, str) or not isinstance(payload, bytes):
            continue
        filename = part.get_filename()
        if filename is None:
            params[name] = payload.decode("utf-8")
        else:
            files[name] = UploadedFile(name, filename, part.get_content_type(), payload)
    return params, files
