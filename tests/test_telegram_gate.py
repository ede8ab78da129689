"""The update gate (per-person order, each update once, in-flight count) and flood-control retries."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiogram import Bot
from aiogram.dispatcher.middlewares.user_context import EVENT_CONTEXT_KEY, EventContext
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import AnswerCallbackQuery, SendMessage, TelegramMethod
from aiogram.types import TelegramObject, Update, User

from bot.telegram.gate import KeyedLocks, RecentIds, UpdateGate
from bot.telegram.pacing import SendPacer


def context(user_id: int) -> dict[str, Any]:
    return {EVENT_CONTEXT_KEY: EventContext(user=User(id=user_id, is_bot=False, first_name="A"))}


class Recorder:
    """A handler that records what it handled and can be held up or made to fail."""

    def __init__(self) -> None:
        self.entered: list[int] = []
        self.finished: list[int] = []
        self.release: dict[int, asyncio.Event] = {}
        self.fail: set[int] = set()

    async def __call__(self, event: TelegramObject, data: dict[str, Any]) -> str:
        assert isinstance(event, Update)
        self.entered.append(event.update_id)
        if event.update_id in self.release:
            await self.release[event.update_id].wait()
        if event.update_id in self.fail:
            self.fail.discard(event.update_id)
            raise RuntimeError("boom")
        self.finished.append(event.update_id)
        return "handled"


async def test_keyed_locks_serialise_one_key_only_and_are_dropped_after_use() -> None:
    locks = KeyedLocks()
    log: list[str] = []

    async def work(key: str, name: str) -> None:
        async with locks.hold(key):
            log.append(f"{name} in")
            await asyncio.sleep(0.01)
            log.append(f"{name} out")

    await asyncio.gather(work("a", "1"), work("a", "2"), work("b", "3"), work("a", "4"))
    same_key = [entry for entry in log if entry[0] in "124"]
    assert same_key == ["1 in", "1 out", "2 in", "2 out", "4 in", "4 out"]
    assert log.index("3 in") < log.index("1 out")  # another person does not wait
    assert len(locks) == 0


def test_recent_ids_are_bounded() -> None:
    recent = RecentIds(3)
    for item in range(5):
        recent.add(item)
    assert [item in recent for item in range(5)] == [False, False, True, True, True]


async def test_a_repeated_update_is_handled_once() -> None:
    gate, handler = UpdateGate(), Recorder()
    assert await gate(handler, Update(update_id=1), context(7)) == "handled"
    assert await gate(handler, Update(update_id=1), context(7)) is None
    assert handler.entered == [1]


async def test_a_failed_update_is_not_remembered_so_a_redelivery_runs() -> None:
    gate, handler = UpdateGate(), Recorder()
    handler.fail.add(5)
    with pytest.raises(RuntimeError):
        await gate(handler, Update(update_id=5), context(7))
    assert await gate(handler, Update(update_id=5), context(7)) == "handled"
    assert handler.entered == [5, 5]


async def test_one_persons_updates_run_in_order_others_meanwhile_and_drain_waits() -> None:
    gate, handler = UpdateGate(), Recorder()
    handler.release[1] = asyncio.Event()
    tasks = [
        asyncio.create_task(gate(handler, Update(update_id=1), context(7))),
        asyncio.create_task(gate(handler, Update(update_id=2), context(7))),
        asyncio.create_task(gate(handler, Update(update_id=3), context(8))),
    ]
    await asyncio.sleep(0.02)
    assert handler.entered == [1, 3]  # 2 waits for 1 (same person); 3 is someone else
    draining = asyncio.create_task(gate.drain())
    await asyncio.sleep(0.02)
    assert not draining.done()
    handler.release[1].set()
    await asyncio.gather(*tasks)
    await asyncio.wait_for(draining, 1)
    assert handler.finished == [3, 1, 2]
    assert len(gate.locks) == 0


class Clock:
    """Time that moves only when slept through (the pacer's clock and sleep)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


async def test_messages_leave_at_the_pace_first_come_first_served() -> None:
    clock = Clock()
    pacer = SendPacer(rate=10, clock=clock, sleep=clock.sleep)
    sent: list[tuple[float, int | str]] = []

    async def make_request(bot: Bot, method: TelegramMethod[Any]) -> Any:
        assert isinstance(method, SendMessage)
        sent.append((clock.now, method.chat_id))
        return "sent"

    bot = Bot("42:TEST")
    await asyncio.gather(*(pacer(make_request, bot, SendMessage(chat_id=n, text="hi")) for n in range(5)))
    assert [chat for _, chat in sent] == [0, 1, 2, 3, 4]
    assert [round(at, 2) for at, _ in sent] == [0.0, 0.1, 0.2, 0.3, 0.4]


async def test_flood_control_pauses_every_message_and_drops_none() -> None:
    clock = Clock()
    pacer = SendPacer(rate=10, clock=clock, sleep=clock.sleep)
    refusals = 3
    sent: list[float] = []

    async def make_request(bot: Bot, method: TelegramMethod[Any]) -> Any:
        nonlocal refusals
        if refusals:
            refusals -= 1
            raise TelegramRetryAfter(method=method, message="Too Many Requests: retry after 2", retry_after=2)
        sent.append(clock.now)
        return "sent"

    result = await pacer(make_request, Bot("42:TEST"), SendMessage(chat_id=1, text="hi"))
    assert result == "sent"  # three refusals in a row, and still sent: no attempt limit
    assert sent == [6.0]  # each refusal paused everything for the 2 s asked


async def test_calls_that_are_not_messages_are_not_paced_but_wait_out_a_pause() -> None:
    clock = Clock()
    pacer = SendPacer(rate=1, clock=clock, sleep=clock.sleep)

    async def make_request(bot: Bot, method: TelegramMethod[Any]) -> Any:
        return clock.now

    bot = Bot("42:TEST")
    answers = [
        await pacer(make_request, bot, AnswerCallbackQuery(callback_query_id=str(n))) for n in range(3)
    ]
    assert answers == [0.0, 0.0, 0.0]
    pacer._flooded(5)
    assert await pacer(make_request, bot, AnswerCallbackQuery(callback_query_id="late")) == 5.0
