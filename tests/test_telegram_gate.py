"""The update gate (per-person order, each update once, in-flight count) and flood-control retries."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiogram import Bot
from aiogram.dispatcher.middlewares.user_context import EVENT_CONTEXT_KEY, EventContext
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import SendMessage, TelegramMethod
from aiogram.types import TelegramObject, Update, User

from bot.telegram.gate import KeyedLocks, RecentIds, UpdateGate
from bot.telegram.retry import RetryAfter


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


async def test_flood_control_is_retried_after_the_wait_asked_for() -> None:
    sleeps: list[float] = []
    calls = 0

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def make_request(bot: Bot, method: TelegramMethod[Any]) -> Any:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise TelegramRetryAfter(method=method, message="Too Many Requests: retry after 2", retry_after=2)
        return "sent"

    retry = RetryAfter(attempts=3, max_wait=30, sleep=sleep)
    assert await retry(make_request, Bot("42:TEST"), SendMessage(chat_id=1, text="hi")) == "sent"
    assert sleeps == [2, 2]


@pytest.mark.parametrize(("retry_after", "expected_sleeps"), [(1, [1, 1]), (90, [])])
async def test_flood_control_retries_are_bounded(retry_after: int, expected_sleeps: list[float]) -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def make_request(bot: Bot, method: TelegramMethod[Any]) -> Any:
        raise TelegramRetryAfter(method=method, message="Too Many Requests", retry_after=retry_after)

    retry = RetryAfter(attempts=3, max_wait=30, sleep=sleep)
    with pytest.raises(TelegramRetryAfter):
        await retry(make_request, Bot("42:TEST"), SendMessage(chat_id=1, text="hi"))
    assert sleeps == expected_sleeps
