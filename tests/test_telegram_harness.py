"""The Telegram channel under test: the real app (`build_app` with the Telegram installer), a real
engine on SQLite in tmp_path, aiogram's real HTTP session, and the fake Bot API on 127.0.0.1.

No tests here: the end-to-end test modules use `running_bot` and the helpers below.
"""

from __future__ import annotations

import copy
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import Connection, select

from bot.app import running_engine
from bot.server import build_app
from bot.settings import Settings
from bot.telegram import service as telegram
from dialogs.engine import Engine
from storage.tables import answers, participants, runs
from tests.telegram_fake.models import CallbackQueryState, StoredMessage
from tests.telegram_fake.server import FakeBotAPI
from tests.telegram_fake.user import FakeUser

WEBHOOK_PATH = "/telegram/webhook"
WAIT = 10.0


@dataclass
class BotUnderTest:
    """What a test drives and inspects."""

    server: FakeBotAPI
    engine: Engine
    settings: Settings
    base_url: str

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}{WEBHOOK_PATH}"

    def text(self, key: str, **values: Any) -> str:
        """The bot's words for a catalogue key."""
        return self.engine.context.cat.text(key, **values)

    async def wait_for(
        self, user: FakeUser, starts: str, *, after: int = 0, within: float = WAIT
    ) -> StoredMessage:
        """The first bot message (newer than message id `after`) whose text starts with `starts`."""

        def found() -> StoredMessage | None:
            return next(
                (
                    m
                    for m in user.bot_messages()
                    if m.message_id > after and m.text is not None and m.text.startswith(starts)
                ),
                None,
            )

        await self.server.wait_until(lambda: found() is not None, within, f"a bot message {starts!r}")
        message = found()
        assert message is not None
        return message

    async def answers(self, user: FakeUser) -> dict[str, int | None]:
        """The stored answers of the user's runs, by question id."""
        rows = await self.engine.store.run(partial(_answers_of, sender=str(user.id)))
        return dict(rows)

    async def participant(self, user: FakeUser) -> tuple[str | None, bool] | None:
        """(display name, inactive) of the user's participant row, or None if there is none."""
        return await self.engine.store.run(partial(_participant, sender=str(user.id)))


def _answers_of(conn: Connection, sender: str) -> list[tuple[str, int | None]]:
    query = (
        select(answers.c.question_id, answers.c.value)
        .join(runs, runs.c.id == answers.c.run_id)
        .join(participants, participants.c.id == runs.c.participant_id)
        .where(participants.c.channel == "telegram", participants.c.external_id == sender)
    )
    return [(row.question_id, row.value) for row in conn.execute(query)]


def _participant(conn: Connection, sender: str) -> tuple[str | None, bool] | None:
    query = select(participants.c.display_name, participants.c.inactive).where(
        participants.c.channel == "telegram", participants.c.external_id == sender
    )
    row = conn.execute(query).first()
    return None if row is None else (row.display_name, bool(row.inactive))


@asynccontextmanager
async def running_bot(
    tmp_path: Path, mode: str = "polling", server: FakeBotAPI | None = None, **overrides: Any
) -> AsyncIterator[BotUnderTest]:
    """Serve the app with the Telegram channel against the fake Bot API (a fresh one unless given),
    in polling or webhook mode; at the end, no request may have been one Telegram would reject.
    `overrides` are further settings (a SQLite file in `tmp_path` unless they name a database)."""
    if server is None:
        async with FakeBotAPI() as fresh, running_bot(tmp_path, mode, fresh, **overrides) as bot:
            yield bot
        return
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    overrides.setdefault("database_url", f"sqlite:///{tmp_path / 'cxbot.db'}")
    settings = Settings(
        _env_file=None,
        telegram_token=server.token,
        telegram_api_url=server.base_url,
        telegram_webhook_url=f"{base_url}{WEBHOOK_PATH}" if mode == "webhook" else None,
        **overrides,
    )
    async with running_engine(settings) as engine:
        app = build_app(settings, engine, [telegram.install])
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        try:
            await web.SockSite(runner, sock).start()
            yield BotUnderTest(server, engine, settings, base_url)
        finally:
            await runner.cleanup()
    server.assert_no_rejections()


async def press_data(user: FakeUser, message: StoredMessage, data: str) -> CallbackQueryState:
    """Press with any callback data, as a modified client can (Telegram passes it on unchecked)."""
    state = user.server.state
    query = state.new_callback_query(user.id, message, data)
    user.presses.append(query)
    update = {
        "update_id": state.next_update_id(),
        "callback_query": {
            "id": query.id,
            "from": user.user,
            "message": copy.deepcopy(message.payload),
            "chat_instance": state.chat_instance(message.chat_id),
            "data": data,
        },
    }
    await user.server.push_update(update)
    return query


def queued_text(server: FakeBotAPI, user: FakeUser, text: str) -> dict[str, Any]:
    """A real-shaped text update from `user`, stored in the chat but not yet given to the bot."""
    log = server.state.chats[user.chat.id]
    stored = server.state.store_message(log, {"text": text}, sender=user.user, from_bot=False)
    return {"update_id": server.state.next_update_id(), "message": copy.deepcopy(stored.payload)}


def button_rows(message: StoredMessage) -> list[list[str]]:
    """The texts of a message's inline buttons, row by row."""
    return [[button["text"] for button in row] for row in message.inline_keyboard or []]
