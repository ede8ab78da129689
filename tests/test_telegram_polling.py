"""Long polling confirms an update only once it has been handled: a slow or locked database, a busy
one, and a process killed with updates in hand lose no answer."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from aiogram.types import Update

from bot.app import running_engine
from bot.settings import Settings
from bot.telegram import service
from bot.telegram.polling import Offsets
from dialogs.types import Inbound
from storage.store import StoreBusy
from tests.serve_process import serving
from tests.telegram_fake.server import FakeBotAPI
from tests.telegram_fake.user import FakeUser
from tests.test_telegram_harness import BotUnderTest, queued_text, running_bot

PEOPLE = 20


@contextmanager
def locked(database: Path) -> Iterator[None]:
    """Hold SQLite's write lock from another connection, as another process would."""
    holder = sqlite3.connect(database, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        yield
        holder.execute("ROLLBACK")
    finally:
        holder.close()


async def at_first_question(database: Path, users: list[FakeUser]) -> None:
    """Each person has started the assessment (straight through the engine: no Telegram needed)."""
    settings = Settings(_env_file=None, database_url=f"sqlite:///{database}")
    async with running_engine(settings) as engine:
        for user in users:
            sender = str(user.id)
            await engine.handle(Inbound("telegram", sender, "/start cx-maturity", f"setup-{sender}", "P"))


async def polled_again(server: FakeBotAPI, times: int = 2) -> None:
    """Wait for the bot's next `times` getUpdates calls (each would confirm what it had taken)."""
    calls = len(server.calls("getUpdates"))
    await server.wait_until(lambda: len(server.calls("getUpdates")) >= calls + times, what="more polls")


async def each_answered_once(bot: BotUnderTest, users: list[FakeUser], value: int) -> None:
    """Every person's first question is answered with `value`, and nothing else is (applied once)."""
    first = bot.engine.context.frameworks.get("cx-maturity")
    assert first is not None
    for user in users:
        await bot.wait_for(user, "Question 2 of")
        assert await bot.answers(user) == {first.questions[0].id: value}


async def test_updates_are_confirmed_only_once_their_answers_are_stored(tmp_path: Path) -> None:
    async with FakeBotAPI() as server:
        users = [FakeUser(server, 30_001 + n, f"P{n}") for n in range(5)]
        await at_first_question(tmp_path / "cxbot.db", users)
        async with running_bot(tmp_path, server=server) as bot:
            with locked(tmp_path / "cxbot.db"):
                ids = [(await user.send_text("3"))["update_id"] for user in users]
                await server.wait_until(lambda: set(ids) <= set(server.delivered_update_ids()))
                await polled_again(server)
                assert not set(ids) & set(server.confirmed_update_ids)  # taken, not handled: kept
            await each_answered_once(bot, users, 3)
            await server.wait_until(lambda: set(ids) <= set(server.confirmed_update_ids), what="confirmed")


async def test_no_answer_is_lost_when_the_bot_is_killed_with_the_database_locked(tmp_path: Path) -> None:
    database = tmp_path / "cxbot.db"
    async with FakeBotAPI() as server:
        users = [FakeUser(server, 40_001 + n, f"P{n}") for n in range(PEOPLE)]
        await at_first_question(database, users)
        async with serving(
            tmp_path,
            CXBOT_DATABASE_URL=f"sqlite:///{database}",
            CXBOT_TELEGRAM_TOKEN=server.token,
            CXBOT_TELEGRAM_API_URL=server.base_url,
        ) as served:
            with locked(database):
                ids = [(await user.send_text("3"))["update_id"] for user in users]
                await server.wait_until(lambda: set(ids) <= set(server.delivered_update_ids()), 10)
                await polled_again(server)
                assert not set(ids) & set(server.confirmed_update_ids)
                served.process.kill()  # kill -9: whatever was in hand is gone
                await served.process.wait()
        async with running_bot(tmp_path, server=server) as bot:  # a new process, the lock released
            await each_answered_once(bot, users, 3)
            await server.wait_until(lambda: set(ids) <= set(server.confirmed_update_ids), what="confirmed")


def refusing(times: int, step: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """A store's `step` that is too busy for the first `times` messages' work."""
    left = [times]

    async def step_or_busy(*args: Any, **kwargs: Any) -> Any:
        if left[0]:
            left[0] -= 1
            raise StoreBusy("the database is locked by another process")
        return await step(*args, **kwargs)

    return step_or_busy


async def test_polling_waits_a_busy_database_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "BUSY_RETRY", 0.05)
    async with running_bot(tmp_path) as bot:
        user = FakeUser(bot.server, 10_001, "Alice")
        await user.send_text("/start cx-maturity")
        await bot.wait_for(user, "Question 1 of")
        monkeypatch.setattr(bot.engine.store, "step", refusing(3, bot.engine.store.step))
        update = await user.send_text("3")
        await each_answered_once(bot, [user], 3)
        assert bot.text("internal_error") not in user.bot_texts()  # not the person's problem
        await bot.server.wait_until(lambda: update["update_id"] in bot.server.confirmed_update_ids)


async def test_a_webhook_update_the_database_was_too_busy_for_is_delivered_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bot(tmp_path, "webhook") as bot:
        user = FakeUser(bot.server, 10_001, "Alice")
        await user.send_text("/start cx-maturity")
        question = await bot.wait_for(user, "Question 1 of")
        monkeypatch.setattr(bot.engine.store, "step", refusing(1, bot.engine.store.step))
        update = queued_text(bot.server, user, "3")
        assert await bot.server.deliver(update) == 503  # nothing applied: Telegram tries again
        assert [m.message_id for m in user.bot_messages()][-1] == question.message_id
        assert await bot.server.deliver(update) == 200
        await each_answered_once(bot, [user], 3)


def numbered(*ids: int) -> list[Update]:
    return [Update(update_id=number) for number in ids]


def test_the_offset_stays_at_the_oldest_update_in_hand() -> None:
    offsets = Offsets()
    assert [u.update_id for u in offsets.take(numbered(5, 6, 6, 8))] == [5, 6, 8]  # a repeat is left out
    offsets.finish(6)
    assert offsets.offset == 5  # 5 is still in hand
    assert [u.update_id for u in offsets.take(numbered(5, 6, 8, 9))] == [9]  # sent again until confirmed
    offsets.finish(5)
    assert offsets.offset == 8
    offsets.finish(9)
    offsets.finish(8)
    assert offsets.offset == 10
    assert offsets.take(numbered(8, 9)) == []  # confirmed already
