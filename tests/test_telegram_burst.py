"""A crowd starting at once (a facilitator posts the join link to a big group): every person gets
question 1, paced under Telegram's limit by the fake Bot API's own flood control, none dropped."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.telegram_fake.server import FakeBotAPI
from tests.telegram_fake.user import FakeUser
from tests.test_telegram_harness import running_bot

PEOPLE = 40
LIMIT = 32
"""The fake refuses more messages than this in any second, as Telegram does beyond about 30."""


async def test_a_burst_is_served_at_the_limits_pace(tmp_path: Path) -> None:
    async with (
        FakeBotAPI(flood_limit=LIMIT) as server,
        running_bot(tmp_path, server=server, telegram_rate=30) as bot,
    ):
        people = [FakeUser(server, 50_000 + n, f"P{n}") for n in range(PEOPLE)]
        await asyncio.gather(*(person.send_text("/start cx-maturity") for person in people))
        await asyncio.gather(*(bot.wait_for(person, "Question 1 of 11", within=30) for person in people))
        assert server.flood_refusals <= 2  # paced under the limit: at most a refusal at the start
        sends = [r for r in server.requests if r.method == "sendMessage"]
        assert len(sends) == PEOPLE * 3  # intro, "let's begin", question 1: each once, none lost
