"""SIGTERM to `cxbot serve` with work in flight: webhook messages being answered, callbacks queued
behind a slow receiver, Telegram updates in hand whose sends wait for the send pace. Everything
acknowledged is stored and delivered before the process exits 0; new work is refused once it stops
(503, or the connection refused); the database is closed cleanly. Its log (with Telegram's lines,
which tests/test_serve_logs.py leaves to this test) is checked like that test's: JSON lines, each
with an id, naming nobody."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from tests.serve_process import Served, serving
from tests.telegram_fake.server import FakeBotAPI
from tests.telegram_fake.user import FakeUser
from tests.test_serve_logs import assert_clean

WEB_PEOPLE = 12
TELEGRAM_PEOPLE = 4
PULSE = ("/start cx-pulse", "3", "4", "2", "3", "4")
RECEIVER_DELAY = 0.15
"""Seconds the callback receiver takes per POST: a sender's callbacks queue up behind each other."""
SEND_RATE = "4"
"""Telegram messages a second: the replies to the people's updates take over a second to send."""


class Receiver:
    """An integration's callback endpoint on 127.0.0.1 that answers slowly and records each POST."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.received: dict[str, list[list[dict[str, Any]]]] = defaultdict(list)
        self.url = ""

    async def accept(self, request: web.Request) -> web.Response:
        await asyncio.sleep(self.delay)
        messages = await request.json()
        self.received[messages[0]["recipient_id"]].append(messages)
        return web.json_response({})

    def count(self) -> int:
        return sum(map(len, self.received.values()))


@contextlib.asynccontextmanager
async def receiving(delay: float = RECEIVER_DELAY) -> AsyncIterator[Receiver]:
    """A `Receiver` listening on 127.0.0.1, answering each POST after `delay` seconds."""
    receiver = Receiver(delay)
    app = web.Application()
    app.router.add_post("/cb", receiver.accept)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    receiver.url = f"http://127.0.0.1:{port}/cb"
    try:
        yield receiver
    finally:
        await runner.cleanup()


class Acknowledged:
    """Messages acknowledged so far, over everyone, and an event once there are `enough`."""

    def __init__(self, enough: int) -> None:
        self.count = 0
        self.enough = enough
        self.reached = asyncio.Event()

    def add(self) -> None:
        self.count += 1
        if self.count >= self.enough:
            self.reached.set()


class WebPerson:
    """Someone answering the pulse check through the webhook in callback mode, one message after
    the other until the server stops taking them."""

    def __init__(self, name: str, port: int, callback_url: str, tally: Acknowledged) -> None:
        self.tally = tally
        self.name = name
        self.url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
        self.callback_url = callback_url
        self.acknowledged = 0
        self.refusals: list[str] = []

    async def answer(self, session: aiohttp.ClientSession) -> None:
        for text in PULSE:
            body = {"sender": self.name, "message": text, "metadata": {"callback_url": self.callback_url}}
            try:
                async with session.post(self.url, json=body) as response:
                    if response.status != 200:
                        assert response.status == 503, await response.text()
                        self.refusals.append("503")
                        return
                    assert (await response.json())["status"] == "accepted"
            except aiohttp.ClientConnectionError as error:  # the listener is closed
                self.refusals.append(type(error).__name__)
                return
            self.acknowledged += 1
            self.tally.add()
            await asyncio.sleep(0.05)


async def test_sigterm_finishes_everything_acknowledged_and_refuses_the_rest(tmp_path: Path) -> None:
    database = tmp_path / "serve.db"
    async with FakeBotAPI() as telegram, receiving() as receiver:
        users = [
            FakeUser(telegram, 555_123_450 + n, f"Mariana{n}", username=f"mariana_rio{n}")
            for n in range(TELEGRAM_PEOPLE)
        ]
        async with serving(
            tmp_path,
            CXBOT_TELEGRAM_TOKEN=telegram.token,
            CXBOT_TELEGRAM_API_URL=telegram.base_url,
            CXBOT_TELEGRAM_RATE=SEND_RATE,
            CXBOT_CALLBACK_ALLOW_PRIVATE="true",
            CXBOT_RATE_PER_ADDRESS="",
            CXBOT_SHUTDOWN_TIMEOUT="20",
        ) as served:
            await served.wait_for("long polling")
            sent_before = len(telegram.calls("sendMessage"))
            updates = []
            for user in users:  # with something personal, which the log must not show
                for text in ("I live at Rua Augusta in Rio de Janeiro", "/start cx-maturity"):
                    updates.append((await user.send_text(text))["update_id"])
            await telegram.wait_until(lambda: set(updates) <= set(telegram.delivered_update_ids()), 10)
            acknowledged = Acknowledged(WEB_PEOPLE)  # about one each: everyone has started
            names = [f"web-{n}" for n in range(WEB_PEOPLE)]
            people = [WebPerson(name, served.port, receiver.url, acknowledged) for name in names]
            async with aiohttp.ClientSession() as session:
                talking = [asyncio.create_task(person.answer(session)) for person in people]
                await asyncio.wait_for(acknowledged.reached.wait(), 10)
                served.process.terminate()
                await served.wait_for("shutting down")
                in_flight = Counter(
                    callbacks=acknowledged.count - receiver.count(),
                    sends=len(updates) - (len(telegram.calls("sendMessage")) - sent_before),
                )
                late = (await users[0].send_text("/help"))["update_id"]  # after the signal
                await refused_at_once(served.port)
                await asyncio.gather(*talking)
            assert await asyncio.wait_for(served.process.wait(), 30) == 0
        assert not (tmp_path / "serve.db-wal").exists()  # its last connection closed: checkpointed
        await served_log_says_stopped(served)
        assert in_flight["callbacks"] > 0, "no callback was queued at SIGTERM: the test proves nothing"
        assert in_flight["sends"] > 0, "no Telegram send was queued at SIGTERM: the test proves nothing"
        assert all(person.refusals for person in people)  # everyone was cut off part-way...
        for person in people:  # ...and everything acknowledged was stored and called back
            assert answers_stored(database, "web", person.name) == max(person.acknowledged - 1, 0)
            assert len(receiver.received[person.name]) == person.acknowledged, person.name
        for user in users:
            assert any("Question 1 of 11" in text for text in user.bot_texts()), user
        assert set(updates) <= set(telegram.confirmed_update_ids)  # none comes again
        if late not in telegram.confirmed_update_ids:  # not taken: kept for the next process
            assert late in [update["update_id"] for update in telegram.pending_updates]
        else:  # taken in the moment before polling stopped: then answered like the rest
            assert any("/deletemydata" in text for text in users[0].bot_texts())
    with contextlib.closing(sqlite3.connect(database)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


async def refused_at_once(port: int) -> None:
    """A new connection after the signal: refused, or answered 503."""
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/healthz") as response,
        ):
            assert response.status == 503
    except aiohttp.ClientConnectionError:
        pass


async def served_log_says_stopped(served: Served) -> None:
    await served.wait_for(r"stopped after \d+\.\d s")
    personal = ("Mariana", "mariana_rio", "555123", "Rua Augusta", "Rio de Janeiro")
    assert {"tg", "serve"} <= assert_clean(served.log, personal)  # updates, and the server itself
    problems = [line for line in served.log if '"level": "ERROR"' in line or "Traceback" in line]
    assert not problems, problems
    assert not [line for line in served.log if "abandoned" in line or "left to Telegram" in line]


def answers_stored(database: Path, channel: str, sender: str) -> int:
    with contextlib.closing(sqlite3.connect(database)) as conn:
        found = conn.execute(
            "SELECT count(*) FROM answers JOIN runs ON runs.id = answers.run_id"
            " JOIN participants ON participants.id = runs.participant_id"
            " WHERE participants.channel = ? AND participants.external_id = ?",
            (channel, sender),
        ).fetchone()
    return int(found[0])
