"""Two `cxbot serve` processes on one PostgreSQL database serve the same people.

One test, so the two processes (each loading aiogram, seconds of CPU) start once:

- each person's messages go alternately to one process and the other, many people at once, and
  some deliveries twice at the same moment to both (a retried request): every answer is applied
  once and in order;
- scheduled work due when both start (a reminder and a new round) is done once, and each reminder
  pushed once;
- Telegram long polling runs in exactly one of them (the PostgreSQL advisory lock); when that one is
  killed (`kill -9`) with updates in hand, the other polls within seconds, and every update is
  answered once: none lost, none answered twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from sqlalchemy import Connection, select

from bot.app import running_engine
from bot.settings import Settings
from bot.telegram.service import webhook_secret
from dialogs import codes
from dialogs.campaign_dialogue import new_campaign
from dialogs.types import Inbound
from storage import campaign_admin as admin
from storage.campaign_jobs import schedule
from storage.campaign_records import REMIND_JOB, ROUND_JOB
from storage.campaign_repository import campaign_by_code
from storage.direct import run_direct
from storage.tables import answers, campaign_nudges, campaign_schedule, campaigns, participants, runs
from tests.conftest import new_postgres_database
from tests.serve_process import Served, serving
from tests.telegram_fake.server import SECRET_HEADER, FakeBotAPI
from tests.telegram_fake.user import FakeUser
from tests.test_shutdown import Receiver, receiving
from tests.test_telegram_harness import BotUnderTest, queued_text, running_bot

PEOPLE = 40
QUESTIONS = 11
CONCURRENT = 20
"""People talking at once (each sends one message at a time)."""
MEMBERS = 6
TELEGRAM_PEOPLE = 4
START_WITHIN = 60.0
"""Seconds for both to serve: each loads aiogram (seconds of CPU), at once on two cores."""
TAKEOVER = 10.0
"""Seconds the standby process may take to poll once the leader is killed (it tries every second)."""


def answer(person: int, question: int) -> str:
    """Each person's answer to each question, different enough that one out of order shows."""
    return str((person + question) % 5 + 1)


@pytest.fixture
def database() -> Iterator[str]:
    with new_postgres_database("cxbot_two") as url:
        yield url


@contextlib.asynccontextmanager
async def two_processes(tmp_path: Path, **settings: Any) -> AsyncIterator[tuple[Served, Served]]:
    """Two `cxbot serve` processes started side by side with the same settings."""
    async with AsyncExitStack() as stack:
        start = [serving(tmp_path, start_within=START_WITHIN, **settings) for _ in range(2)]
        started = await asyncio.gather(*(stack.enter_async_context(each) for each in start))
        yield started[0], started[1]


async def test_two_processes_share_one_postgresql_database(tmp_path: Path, database: str) -> None:
    async with receiving(delay=0.0) as receiver, FakeBotAPI() as telegram:
        code = await campaign_with_members(database, receiver.url)
        async with two_processes(
            tmp_path,
            CXBOT_DATABASE_URL=database,
            CXBOT_RATE_PER_ADDRESS="",
            CXBOT_CALLBACK_ALLOW_PRIVATE="true",
            CXBOT_SCHEDULER_SECONDS="0.2",
            CXBOT_TELEGRAM_TOKEN=telegram.token,
            CXBOT_TELEGRAM_API_URL=telegram.base_url,
        ) as processes:
            ports = [served.port for served in processes]
            await run_direct(database, partial(work_due_soon, code=code), write=True)
            await everyone_answers_through_both(ports)
            await scheduled_work_done_once(database, code, receiver)
            await polling_moves_when_its_process_dies(database, telegram, processes)
    await assert_every_answer_applied_once_in_order(database)


# --- the webhook, alternately on both ---------------------------------------------------------------


async def everyone_answers_through_both(ports: list[int]) -> None:
    limit = asyncio.Semaphore(CONCURRENT)
    async with aiohttp.ClientSession() as session:

        async def say(port: int, sender: str, text: str, message_id: str) -> str:
            body = {"sender": sender, "message": text, "metadata": {"message_id": message_id}}
            url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
            async with session.post(url, json=body) as response:
                assert response.status == 200, await response.text()
                return "\n".join(reply.get("text", "") for reply in await response.json())

        async def talk(person: int) -> None:
            sender = f"person-{person}"
            messages = ["/start cx-maturity", *(answer(person, q) for q in range(QUESTIONS)), "/submit"]
            async with limit:
                for number, text in enumerate(messages):
                    message_id = f"{sender}-{number}"
                    port = ports[(person + number) % 2]
                    if number % 4 == 2:  # delivered twice at once, to both: a retry racing the first
                        both = await asyncio.gather(*(say(p, sender, text, message_id) for p in ports))
                        assert both[0] == both[1]  # the second is answered with the first's replies
                        said = both[0]
                    else:
                        said = await say(port, sender, text, message_id)
                    if number < QUESTIONS:  # the answer to question n (or /start) asks question n + 1
                        assert f"Question {number + 1} of {QUESTIONS}" in said, (sender, number, said)
            assert "stage" in said.lower(), said

        await asyncio.gather(*(talk(person) for person in range(PEOPLE)))


async def assert_every_answer_applied_once_in_order(database: str) -> None:
    def read(conn: Connection) -> dict[str, Any]:
        query = (
            select(participants.c.external_id, runs.c.status, answers.c.question_id, answers.c.value)
            .join(runs, runs.c.participant_id == participants.c.id)
            .join(answers, answers.c.run_id == runs.c.id)
            .where(participants.c.channel == "web", runs.c.framework_id == "cx-maturity")
            .order_by(participants.c.external_id, answers.c.id)
        )
        found: dict[str, Any] = {}
        for row in conn.execute(query):
            found.setdefault(row.external_id, []).append((row.status, row.value))
        return found

    found = await run_direct(database, read)
    for person in range(PEOPLE):
        expected = [("finished", int(answer(person, q))) for q in range(QUESTIONS)]
        assert found.get(f"person-{person}") == expected, person


# --- scheduled work --------------------------------------------------------------------------------


async def campaign_with_members(database: str, callback_url: str) -> str:
    """A campaign whose members' bridge takes pushes at `callback_url`, half of them finished."""
    async with running_engine(Settings(_env_file=None, database_url=database)) as engine:
        framework = engine.context.frameworks.get("cx-pulse")
        assert framework is not None
        change = new_campaign(framework.id, framework.version, "Service desk", 3, ())
        create = partial(admin.create, change=change, owner_channel="web", owner="owner")
        made = await engine.store.run(create)
        code = codes.shown(made.code)
        for n in range(MEMBERS):
            sender = f"member-{n}"
            texts = [f"/join {code}", *(["3"] * 5 if n % 2 else [])]
            for number, text in enumerate(texts):
                inbound = Inbound("web", sender, text, f"{sender}-{number}", push_url=callback_url)
                await engine.handle(inbound)
    return code


def work_due_soon(conn: Connection, code: str) -> None:
    """Daily reminders and fortnightly rounds, the first of each due in a moment: both processes,
    looking every 0.2 s, find them due at once. Each job done adds the next one, so a job done twice
    would leave two next ones."""
    campaign = campaign_by_code(conn, codes.canonical(code) or "")
    assert campaign is not None
    due = datetime.now(UTC) + timedelta(seconds=0.5)
    for kind, every_hours in ((REMIND_JOB, 24), (ROUND_JOB, 14 * 24)):
        schedule(conn, campaign, kind, due, every_hours)


async def scheduled_work_done_once(database: str, code: str, receiver: Receiver) -> None:
    def read(conn: Connection) -> tuple[Any, list[Any], list[Any]]:
        campaign = conn.execute(select(campaigns).where(campaigns.c.code == codes.canonical(code))).one()
        jobs = list(conn.execute(select(campaign_schedule.c.kind, campaign_schedule.c.done_at)))
        nudges = list(
            conn.execute(
                select(participants.c.external_id, campaign_nudges.c.kind, campaign_nudges.c.status).join(
                    participants, participants.c.id == campaign_nudges.c.participant_id
                )
            )
        )
        return campaign, jobs, nudges

    async with asyncio.timeout(15):
        while True:
            campaign, jobs, nudges = await run_direct(database, read)
            settled = nudges and all(status not in ("pending", "sending") for _, _, status in nudges)
            if sum(1 for _, done in jobs if done) == 2 and settled:
                break
            await asyncio.sleep(0.1)
    assert sorted(kind for kind, done in jobs if done is None) == ["remind", "round"]  # one next each
    assert campaign.round == 2
    kinds = Counter(kind for _, kind, _ in nudges)
    assert kinds["round"] == MEMBERS  # every member told of the new round, once
    sent = Counter(sender for sender, _, status in nudges if status == "sent")
    assert sum(sent.values()) == len(nudges), nudges
    assert {sender: len(posts) for sender, posts in receiver.received.items()} == dict(sent)  # once each


# --- Telegram polling: one leader, and another when it dies -------------------------------------------


async def polling_moves_when_its_process_dies(
    database: str, telegram: FakeBotAPI, processes: tuple[Served, Served]
) -> None:
    leader, standby = await leader_and_standby(processes)
    users = [FakeUser(telegram, 80_001 + n, f"T{n}") for n in range(TELEGRAM_PEOPLE)]
    starts = [(await user.send_text("/start cx-maturity"))["update_id"] for user in users]
    for user in users:
        await wait_for_text(telegram, user, "Question 1 of 11")
    await telegram.wait_until(lambda: set(starts) <= set(telegram.confirmed_update_ids), 10)

    async with people_locked(database):  # the leader takes the answers, and waits for the rows
        in_hand = [(await user.send_text("3"))["update_id"] for user in users]
        await telegram.wait_until(lambda: set(in_hand) <= set(telegram.delivered_update_ids()), 10)
        logged = len(standby.log)
        leader.process.kill()  # kill -9, the answers in hand: nothing of them was committed or sent
        await leader.process.wait()
        killed = time.monotonic()
    await standby.wait_for(POLLING_STARTS, TAKEOVER, since=logged)
    assert time.monotonic() - killed < TAKEOVER
    for user in users:
        await wait_for_text(telegram, user, "Question 2 of 11")
    later = [(await user.send_text("4"))["update_id"] for user in users]
    for user in users:
        await wait_for_text(telegram, user, "Question 3 of 11")
    handled = {*in_hand, *later}
    await telegram.wait_until(lambda: handled <= set(telegram.confirmed_update_ids), 10, what="confirmed")
    for user in users:  # each update answered once: no question sent twice
        asked = Counter(text.split("\n", 1)[0] for text in user.bot_texts() if "Question" in text)
        assert all(count == 1 for count in asked.values()), (user, asked)
    assert await telegram_answers(database) == {str(user.id): [3, 4] for user in users}


POLLING_STARTS = ": long polling"
POLLING_STOPS = "Telegram polling stops"


async def leader_and_standby(processes: tuple[Served, Served]) -> tuple[Served, Served]:
    """The process that polls now and the one that stands by. Over both logs, in time order, one
    process starts polling only after the other stopped: never two at once. (A leader whose event
    loop stalls past the lock's check, on a machine this busy, may hand over: that is allowed.)"""
    for served in processes:
        await served.wait_for(f"Telegram long polling runs in another process|{POLLING_STARTS}")
    events = sorted(
        (line["time"], kind, number)
        for number, served in enumerate(processes)
        for line in map(json.loads, served.log)
        for kind in ("start", "stop")
        if (POLLING_STARTS if kind == "start" else POLLING_STOPS) in line["message"]
    )
    leading: int | None = None
    for _, kind, number in events:
        if kind == "start":
            assert leading is None, f"two processes polled at once: {events}"
            leading = number
        elif leading == number:
            leading = None
    assert leading is not None, events
    assert any("stands by" in line for line in processes[1 - leading].log)
    return processes[leading], processes[1 - leading]


@contextlib.asynccontextmanager
async def people_locked(database: str) -> AsyncIterator[None]:
    """Hold every Telegram person's row locked, as a slow transaction in another process would."""
    conn = await asyncpg.connect(database)
    try:
        transaction = conn.transaction()
        await transaction.start()
        await conn.execute("SELECT id FROM participants WHERE channel = 'telegram' FOR UPDATE")
        yield
        await transaction.rollback()
    finally:
        await conn.close()


async def wait_for_text(telegram: FakeBotAPI, user: FakeUser, words: str) -> None:
    await telegram.wait_until(lambda: any(words in text for text in user.bot_texts()), 10, what=words)


async def telegram_answers(database: str) -> dict[str, list[int]]:
    def read(conn: Connection) -> dict[str, list[int]]:
        query = (
            select(participants.c.external_id, answers.c.value)
            .join(runs, runs.c.participant_id == participants.c.id)
            .join(answers, answers.c.run_id == runs.c.id)
            .where(participants.c.channel == "telegram")
            .order_by(participants.c.external_id, answers.c.id)
        )
        found: dict[str, list[int]] = {}
        for row in conn.execute(query):
            found.setdefault(row.external_id, []).append(row.value)
        return found

    return await run_direct(database, read)


# --- Telegram webhook mode behind two servers --------------------------------------------------------


async def test_telegram_webhook_mode_behind_two_servers(tmp_path: Path, database: str) -> None:
    """Telegram delivers each update to whichever server the proxy picks (here: alternately), and
    some twice (a confirmation lost on the way back): each is applied and answered once, in order."""
    async with (
        FakeBotAPI() as telegram,
        running_bot(tmp_path / "a", "webhook", telegram, database_url=database) as one,
        running_bot(tmp_path / "b", "webhook", telegram, database_url=database) as two,
        aiohttp.ClientSession() as session,
    ):
        secret = {SECRET_HEADER: webhook_secret(one.settings)}

        async def deliver(bot: BotUnderTest, update: dict[str, Any]) -> None:
            async with session.post(bot.webhook_url, json=update, headers=secret) as response:
                assert response.status == 200, await response.text()

        async def talk(user: FakeUser) -> None:
            for number, text in enumerate(("/start cx-maturity", "3", "4", "2", "5")):
                update = queued_text(telegram, user, text)
                first = (one, two)[(user.id + number) % 2]
                await deliver(first, update)
                if number == 2:  # Telegram's confirmation lost: it delivers the update again, elsewhere
                    await deliver(two if first is one else one, update)

        users = [FakeUser(telegram, 81_001 + n, f"W{n}") for n in range(TELEGRAM_PEOPLE * 2)]
        await asyncio.gather(*(talk(user) for user in users))
    for user in users:
        asked = Counter(text.split("\n", 1)[0] for text in user.bot_texts() if "Question" in text)
        assert sorted(key.split(" - ")[0] for key in asked) == [f"Question {n} of 11" for n in range(1, 6)]
        assert set(asked.values()) == {1}, (user, asked)
    assert await telegram_answers(database) == {str(user.id): [3, 4, 2, 5] for user in users}
