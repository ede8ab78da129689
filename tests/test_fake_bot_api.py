"""Tests of the fake Telegram Bot API (tests/telegram_fake) through aiogram's real Bot + AiohttpSession."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandStart
from aiogram.methods import SendMessage
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import ClientSession, web

from tests.telegram_fake.errors import ApiError
from tests.telegram_fake.formatting import EntityParseError, parse_html, parse_markdown_v2
from tests.telegram_fake.media import image_size, make_png
from tests.telegram_fake.server import SECRET_HEADER, FakeBotAPI
from tests.telegram_fake.spec import load_spec
from tests.telegram_fake.user import FakeUser, detect_entities

USER_ID = 5_550_001
KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[
        [InlineKeyboardButton(text="Yes", callback_data="vote:yes")],
        [InlineKeyboardButton(text="Docs", url="https://example.org/docs")],
    ]
)


# -- fixtures -------------------------------------------------------------------------------------------
@pytest_asyncio.fixture
async def server() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as fake:
        yield fake


async def close_quickly(session: AiohttpSession) -> None:
    """Close an aiogram session without AiohttpSession.close()'s 250 ms TLS-shutdown sleep (plain HTTP
    to 127.0.0.1 has no TLS): close its aiohttp ClientSession first, via the public create_session()."""
    client = await session.create_session()
    await client.close()
    await session.close()


@pytest_asyncio.fixture
async def bot(server: FakeBotAPI) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=server.api_server())
    yield Bot(server.token, session=session)
    await close_quickly(session)


@pytest.fixture
def user(server: FakeBotAPI) -> FakeUser:
    return FakeUser(server, USER_ID, "Ann", username="ann_test")


class Receiver:
    """A tiny webhook endpoint recording what Telegram (the fake) posts to it."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((dict(request.headers), await request.json()))
        return web.Response(text="ok")


async def serve(app: web.Application) -> tuple[web.AppRunner, int]:
    """Serve an aiohttp app on 127.0.0.1 with an ephemeral port."""
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    await web.SockSite(runner, sock).start()
    return runner, port


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    target = Receiver()
    app = web.Application()
    app.router.add_post("/hook", target.handle)
    runner, port = await serve(app)
    target.url = f"http://127.0.0.1:{port}/hook"
    yield target
    await runner.cleanup()


# -- required behaviour ---------------------------------------------------------------------------------
async def test_valid_send_message_with_inline_keyboard_is_accepted_and_recorded(
    server: FakeBotAPI, bot: Bot, user: FakeUser
) -> None:
    sent = await bot.send_message(
        USER_ID, "<b>Pick</b> one &amp; go", parse_mode="HTML", reply_markup=KEYBOARD
    )

    assert sent.message_id == 1
    assert sent.text == "Pick one & go"
    assert sent.entities is not None
    assert sent.entities[0].type == "bold"
    record = server.last_call("sendMessage")
    assert record.transport == "form"
    assert record.params["chat_id"] == USER_ID
    assert record.params["reply_markup"]["inline_keyboard"][0][0] == {
        "text": "Yes",
        "callback_data": "vote:yes",
    }
    assert user.bot_texts() == ["Pick one & go"]
    assert user.last_inline_keyboard() == record.params["reply_markup"]["inline_keyboard"]
    server.assert_no_rejections()


@pytest.mark.parametrize(
    ("kwargs", "description"),
    [
        pytest.param({"text": "x" * 4097}, "Bad Request: message is too long", id="text-over-4096"),
        pytest.param(
            {
                "text": "hi",
                "reply_markup": InlineKeyboardMarkup(
                    inline_keyboard=[[InlineKeyboardButton(text="b", callback_data="é" * 33)]]
                ),
            },
            "Bad Request: BUTTON_DATA_INVALID",
            id="callback-data-over-64-bytes",
        ),
        pytest.param(
            {"text": "<div>hi</div>", "parse_mode": "HTML"},
            'Bad Request: can\'t parse entities: Unsupported start tag "div" at byte offset 0',
            id="div-in-html",
        ),
        pytest.param(
            {"text": "hi", "definitely_not_a_field": "1"},
            'Bad Request: unknown parameter "definitely_not_a_field" for method sendMessage',
            id="unknown-field",
        ),
    ],
)
async def test_invalid_send_message_is_rejected_with_400(
    server: FakeBotAPI, bot: Bot, user: FakeUser, kwargs: dict[str, Any], description: str
) -> None:
    with pytest.raises(TelegramBadRequest) as caught:
        await bot(SendMessage(chat_id=USER_ID, **kwargs))

    assert caught.value.message == description
    assert [r.status for r in server.rejected] == [400]
    assert server.rejected[0].response == {"ok": False, "error_code": 400, "description": description}
    assert server.calls("sendMessage") == []
    assert user.bot_messages() == []


def utf16_units(text: str) -> int:
    """Telegram's unit of length, counted here without the code under test."""
    return len(text.encode("utf-16-le")) // 2


EMOJI = "\U0001f600"
"""Outside the BMP: one code point, two UTF-16 units, four UTF-8 bytes."""


async def test_text_limits_count_utf16_units_like_telegram(
    server: FakeBotAPI, bot: Bot, user: FakeUser
) -> None:
    assert utf16_units(EMOJI * 2048) == 4096
    await bot.send_message(USER_ID, EMOJI * 2048)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(USER_ID, EMOJI * 4096)  # 4,096 characters, but 8,192 units
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(USER_ID, f"<b>{EMOJI * 2048}</b>x", parse_mode="HTML")  # parsed: 4,097
    await bot.send_message(USER_ID, f"<b>{EMOJI * 2048}</b>", parse_mode="HTML")  # the tags do not count

    png = BufferedInputFile(make_png(4, 4), "chart.png")
    await bot.send_photo(USER_ID, png, caption=EMOJI * 512)
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_photo(USER_ID, png, caption=EMOJI * 513)

    query = server.state.new_callback_query(USER_ID, None, "vote:yes")
    with pytest.raises(TelegramBadRequest, match="MESSAGE_TOO_LONG"):
        await bot.answer_callback_query(query.id, text=EMOJI * 101)
    assert await bot.answer_callback_query(query.id, text=EMOJI * 100)

    def button(data: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="b", callback_data=data)]])

    await bot.send_message(USER_ID, "ok", reply_markup=button(EMOJI * 16))  # 64 bytes
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(USER_ID, "no", reply_markup=button(EMOJI * 16 + "x"))
    assert [utf16_units(m.text or "") for m in user.bot_messages()] == [4096, 4096, 1024, 2]
    assert [r.response["description"] for r in server.rejected] == [
        "Bad Request: message is too long",
        "Bad Request: message is too long",
        "Bad Request: message caption is too long",
        "Bad Request: MESSAGE_TOO_LONG",
        "Bad Request: BUTTON_DATA_INVALID",
    ]


async def test_fail_next_429_raises_retry_after(server: FakeBotAPI, bot: Bot, user: FakeUser) -> None:
    server.fail_next("sendMessage", status=429, retry_after=7)

    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(USER_ID, "hello")
    sent = await bot.send_message(USER_ID, "hello again")  # one-shot

    assert caught.value.retry_after == 7
    assert server.calls("sendMessage")[0].response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7},
    }
    assert sent.message_id == 1
    server.assert_no_rejections()


async def test_blocked_chat_gives_forbidden(server: FakeBotAPI, bot: Bot, user: FakeUser) -> None:
    user.block_bot()

    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(USER_ID, "are you there?")

    assert server.calls("sendMessage")[0].response["description"] == "Forbidden: bot was blocked by the user"
    assert user.bot_messages() == []


async def test_get_updates_long_polling_returns_queued_user_message(
    server: FakeBotAPI, bot: Bot, user: FakeUser
) -> None:
    server.max_poll_wait = 3.0
    poll = asyncio.create_task(bot.get_updates(timeout=3, allowed_updates=["message", "callback_query"]))
    await server.wait_until(lambda: server.is_polling, what="the long poll to start")
    started = time.monotonic()
    await user.send_text("/start ref_42")
    updates = await asyncio.wait_for(poll, 2)

    assert time.monotonic() - started < 1.0  # answered as soon as the update arrived
    [update] = updates
    assert update.message is not None
    assert update.message.from_user is not None
    assert update.message.text == "/start ref_42"
    assert update.message.from_user.id == USER_ID
    assert update.message.chat.type == "private"
    assert [(e.type, e.offset, e.length) for e in update.message.entities or []] == [("bot_command", 0, 6)]
    assert await bot.get_updates(offset=update.update_id, timeout=0) == updates  # not confirmed yet
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == []  # confirmed
    server.assert_no_rejections()


async def test_send_photo_multipart_upload_is_accepted_and_bytes_recorded(
    server: FakeBotAPI, bot: Bot, user: FakeUser
) -> None:
    png = make_png(640, 480)

    sent = await bot.send_photo(
        USER_ID, BufferedInputFile(png, "chart.png"), caption="<i>chart</i>", parse_mode="HTML"
    )

    record = server.last_call("sendPhoto")
    assert record.transport == "multipart"
    upload = record.upload("photo")
    assert upload is not None
    assert upload.data == png
    assert upload.filename == "chart.png"
    assert [(size.width, size.height) for size in sent.photo or []] == [(90, 68), (320, 240), (640, 480)]
    assert sent.caption == "chart"
    assert user.photos() == [png]
    file = await bot.get_file(sent.photo[-1].file_id)  # type: ignore[index]
    assert file.file_path is not None
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None
    assert downloaded.read() == png
    server.assert_no_rejections()


async def test_webhook_delivery_reaches_receiver_with_secret_header(
    server: FakeBotAPI, bot: Bot, user: FakeUser, receiver: Receiver
) -> None:
    assert await bot.set_webhook(receiver.url, secret_token="s3cr3t_Token-1", allowed_updates=["message"])

    update = await user.send_text("hello over webhook")

    [(headers, body)] = receiver.received
    assert headers[SECRET_HEADER] == "s3cr3t_Token-1"
    assert body == update
    assert body["message"]["text"] == "hello over webhook"
    assert server.webhook_deliveries[0].status == 200
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count, info.allowed_updates) == (receiver.url, 0, ["message"])
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates()
    server.assert_no_rejections()


# -- more Telegram behaviour ------------------------------------------------------------------------------
async def test_edits_deletes_and_callback_answers_fail_like_telegram(
    server: FakeBotAPI, bot: Bot, user: FakeUser
) -> None:
    sent = await bot.send_message(USER_ID, "Vote?", reply_markup=KEYBOARD)

    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER_ID, message_id=999)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "Vote?", chat_id=USER_ID, message_id=sent.message_id, reply_markup=KEYBOARD
        )
    edited = await bot.edit_message_text("Voted", chat_id=USER_ID, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query("12345")

    assert isinstance(edited, Message)
    assert edited.reply_markup is None
    assert user.bot_texts() == ["Voted"]
    assert user.last_inline_keyboard() is None
    assert await bot.delete_message(USER_ID, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(USER_ID, sent.message_id)
    assert user.bot_messages() == []
    server.assert_no_rejections()


async def test_wrong_token_is_unauthorized(server: FakeBotAPI) -> None:
    session = AiohttpSession(api=server.api_server())
    other = Bot("42:not-the-right-token", session=session)
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await other.get_me()
    finally:
        await close_quickly(session)
    assert server.rejected[0].response == {"ok": False, "error_code": 401, "description": "Unauthorized"}


async def test_commands_chat_actions_and_command_validation(
    server: FakeBotAPI, bot: Bot, user: FakeUser
) -> None:
    commands = [
        BotCommand(command="start", description="Start"),
        BotCommand(command="help", description="Help"),
    ]

    assert await bot.set_my_commands(commands)
    assert [c.model_dump() for c in await bot.get_my_commands()] == [c.model_dump() for c in commands]
    assert await bot.send_chat_action(USER_ID, "typing")
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start!", description="x")])
    with pytest.raises(TelegramBadRequest, match="wrong parameter action"):
        await bot.send_chat_action(USER_ID, "dancing")

    assert server.commands() == [c.model_dump(exclude_none=True) for c in commands]
    assert user.chat_actions() == ["typing"]
    assert len(server.rejected) == 2


async def test_dispatcher_polling_round_trip_with_button_press(
    server: FakeBotAPI, bot: Bot, user: FakeUser
) -> None:
    dispatcher = Dispatcher()

    @dispatcher.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer("Welcome, <b>friend</b>!", parse_mode="HTML", reply_markup=KEYBOARD)

    @dispatcher.callback_query(F.data == "vote:yes")
    async def vote(query: CallbackQuery) -> None:
        await query.answer("Thanks!")
        if isinstance(query.message, Message):
            await query.message.edit_text("You voted yes")

    polling = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
    )
    try:
        await user.send_command("start")
        reply = await user.wait_for_reply()
        assert reply.text == "Welcome, friend!"
        await user.press("Yes")
        assert await user.wait_for_callback_answer() == {"text": "Thanks!"}
        await server.wait_until(lambda: user.bot_texts() == ["You voted yes"], what="edit after the press")
    finally:
        await dispatcher.stop_polling()
        await polling
    assert user.last_inline_keyboard() is None
    server.assert_no_rejections()


async def test_aiogram_webhook_handler_reply_method_is_executed(
    server: FakeBotAPI, bot: Bot, user: FakeUser
) -> None:
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> SendMessage:
        return message.answer(f"echo: {message.text}")

    app = web.Application()
    SimpleRequestHandler(dispatcher, bot, handle_in_background=False, secret_token="tok").register(app, "/tg")
    runner, port = await serve(app)
    try:
        await bot.set_webhook(f"http://127.0.0.1:{port}/tg", secret_token="tok")
        await user.send_text("ping")
        server.webhook_deliveries.clear()
        await bot.set_webhook(f"http://127.0.0.1:{port}/tg", secret_token="other")
        status = await server.deliver({"message": user.messages()[0].payload})
    finally:
        await runner.cleanup()

    assert user.bot_texts() == ["echo: ping"]
    assert server.last_call("sendMessage").transport == "webhook-reply"
    assert status == 401  # aiogram refused the wrong secret
    assert (await bot.get_webhook_info()).last_error_message == "Wrong response from the webhook: 401"
    server.assert_no_rejections()


async def test_concurrent_get_updates_conflict_and_json_transport(server: FakeBotAPI, bot: Bot) -> None:
    server.max_poll_wait = 2.0
    first = asyncio.create_task(bot.get_updates(timeout=2))
    await server.wait_until(lambda: server.is_polling, what="the first long poll to start")
    second = asyncio.create_task(bot.get_updates(timeout=0))

    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await first
    assert await second == []
    async with ClientSession() as http:
        url = f"{server.base_url}/bot{server.token}/sendMessage"
        async with http.post(url, json={"chat_id": 1, "text": "hi"}) as response:
            assert response.status == 400
            assert await response.json() == {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: chat not found",
            }
        async with http.get(f"{server.base_url}/bot{server.token}/getMe") as response:
            assert (await response.json())["result"]["username"] == "cxbot_test_bot"
    assert server.calls("sendMessage")[0].transport == "json"


# -- spec and formatting (no HTTP) -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("a<br>b", 'Unsupported start tag "br" at byte offset 1'),
        ("<span>s</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("fish & chips", "Character '&' at byte offset 5 must be escaped as \"&amp;\""),
        ("2 > 1", "Character '>' at byte offset 2 must be escaped as \"&gt;\""),
        ("<b", "Unclosed start tag at byte offset 0"),
    ],
)
def test_html_parser_rejects_what_telegram_rejects(html: str, error: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_html(html)
    assert str(caught.value) == error


def test_html_parser_accepts_telegram_tags_and_builds_entities() -> None:
    html = (
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike><del>d</del>"
        '<span class="tg-spoiler">p</span><tg-spoiler>q</tg-spoiler><a href="https://x.org/?a=1&amp;b=2">l</a>'
        '<code>c</code><pre><code class="language-py">x</code></pre><blockquote expandable>z</blockquote>'
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
        '<tg-time unix="1647531900" format="wDT">t</tg-time>'
        " &lt;&gt;&quot;&#36;&#x1F600;"
    )
    parsed = parse_html(html)
    assert parsed.text == 'bsieunskdpqlcxz👍t <>"$😀'
    kinds = [entity["type"] for entity in parsed.entities]
    assert kinds[:6] == ["bold", "bold", "italic", "italic", "underline", "underline"]
    assert {
        "spoiler",
        "text_link",
        "code",
        "pre",
        "expandable_blockquote",
        "custom_emoji",
        "date_time",
    } <= set(kinds)
    assert next(e for e in parsed.entities if e["type"] == "pre")["language"] == "py"
    assert next(e for e in parsed.entities if e["type"] == "text_link")["url"] == "https://x.org/?a=1&b=2"
    assert (
        next(e for e in parsed.entities if e["type"] == "date_time")["offset"] == 17
    )  # 👍 is 2 UTF-16 units


def test_markdown_v2_requires_escaping() -> None:
    assert parse_markdown_v2(r"*Done*\!").text == "Done!"
    with pytest.raises(EntityParseError, match=r"Character '\.' is reserved"):
        parse_markdown_v2("Done.")


@pytest.mark.parametrize(
    ("method", "params", "description"),
    [
        (
            "answerCallbackQuery",
            {"callback_query_id": "1", "text": "y" * 201},
            "Bad Request: MESSAGE_TOO_LONG",
        ),
        (
            "setWebhook",
            {"url": "https://x.org", "secret_token": "no spaces"},
            "Bad Request: secret_token is invalid",
        ),
        (
            "setWebhook",
            {"url": "https://x.org", "secret_token": "a" * 257},
            "Bad Request: secret_token is too long",
        ),
        (
            "setMyCommands",
            {"commands": json.dumps([{"command": "c", "description": "d" * 257}])},
            "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID",
        ),
        (
            "sendPhoto",
            {"chat_id": "1", "caption": "c" * 1025, "photo": "id"},
            "Bad Request: message caption is too long",
        ),
        (
            "sendMessage",
            {"chat_id": "1", "text": "<b> </b>", "parse_mode": "HTML"},
            "Bad Request: message text is empty",
        ),
        (
            "sendMessage",
            {"chat_id": "1", "text": "a", "disable_notification": "maybe"},
            "Bad Request: disable_notification",
        ),
        (
            "sendMessage",
            {"chat_id": "1", "text": "a", "parse_mode": "html5"},
            "Bad Request: unsupported parse_mode",
        ),
        ("editMessageText", {"text": "a"}, "Bad Request: chat_id is empty"),
        ("getMe", {"x": "1"}, 'Bad Request: unknown parameter "x" for method getMe'),
    ],
)
def test_spec_limits_from_api_json(method: str, params: dict[str, Any], description: str) -> None:
    with pytest.raises(ApiError) as caught:
        load_spec().validate_call(method, params)
    assert caught.value.status == 400
    assert caught.value.description.startswith(description)


def test_spec_accepts_valid_nested_objects_and_reports_unknown_methods() -> None:
    spec = load_spec()
    scope = json.dumps({"type": "chat", "chat_id": -100123})
    call = spec.validate_call(
        "setmycommands", {"commands": '[{"command": "a_1", "description": "d"}]', "scope": scope}
    )
    assert call.method == "setMyCommands"
    assert call.params["scope"] == {"type": "chat", "chat_id": -100123}
    with pytest.raises(ApiError) as caught:
        spec.validate_call("sendTelepathy", {})
    assert (caught.value.status, caught.value.description) == (404, "Not Found")


def test_entity_detection_in_user_text_and_image_sniffing() -> None:
    assert detect_entities("see /help@cxbot_test_bot and https://x.org, @someone #tag") == [
        {"offset": 4, "length": 20, "type": "bot_command"},
        {"offset": 29, "length": 13, "type": "url"},
        {"offset": 44, "length": 8, "type": "mention"},
        {"offset": 53, "length": 4, "type": "hashtag"},
    ]
    assert image_size(make_png(3, 5)) == (3, 5)


async def test_fake_user_media_and_group_messages(server: FakeBotAPI, bot: Bot, user: FakeUser) -> None:
    group = server.create_group("Team")
    sent = [
        await user.send_sticker("🔥"),
        await user.send_photo(caption="look"),
        await user.send_voice(duration=3),
        await user.send_command("status", chat=group),
    ]
    for update in sent:  # every update FakeUser builds is a valid Update per api.json
        load_spec().validate_object("Update", update)

    updates = await bot.get_updates(timeout=0)
    sticker, photo, voice, command = (u.message for u in updates)
    assert sticker is not None
    assert sticker.sticker is not None
    assert sticker.sticker.emoji == "🔥"
    assert photo is not None
    assert photo.photo is not None
    assert photo.caption == "look"
    assert voice is not None
    assert voice.voice is not None
    assert voice.voice.duration == 3
    assert command is not None
    assert command.chat.type == "supergroup"
    assert command.text == "/status@cxbot_test_bot"
    assert [u.update_id for u in updates] == sorted(u.update_id for u in updates)
    voice_file = await bot.get_file(voice.voice.file_id)
    assert voice_file.file_path is not None
    assert voice_file.file_path.endswith(".oga")
    await bot.send_message(group.id, "ok")
    assert [m.text for m in user.bot_messages(group)] == ["ok"]
    assert [m.message_id for m in server.chat_messages(group.id)] == [1, 2]
    server.assert_no_rejections()
