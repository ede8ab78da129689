"""What is kept about a person: `/mydata` shows all of it, and nobody is stored by reading or by
messages that change nothing (not even after an erasure)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from dialogs.engine import Engine, delivery_key
from dialogs.types import Inbound
from frameworks.registry import FrameworkRegistry
from storage.repository import REMEMBER_REPLIES_FOR
from storage.store import Store
from storage.tables import participants, processed_messages, results, runs
from storage.time import utc
from tests.chat import Chat
from tests.telegram_fake.user import FakeUser
from tests.test_campaigns import create
from tests.test_telegram_harness import running_bot
from tests.webhook_support import running_app, say, settings_for, texts

NO_OPS = [
    "/mydata",
    "/help",
    "/frobnicate",
    "/answer 1 1 2",
    "/yes delete",
    "/no",
    "hello",
    "/start",
    "/start no-such-thing",
    "/results",
    "/review",
    "/skip",
    "/deletemydata",
    "/campaigns",
    "/leave K7WP-3QXM",
]
"""Messages that read, or change nothing, for someone not stored."""


def when(moment: datetime) -> str:
    return utc(moment).strftime("%Y-%m-%d %H:%M UTC")


def stored_about(sender: str, keys: list[str] | None = None) -> Any:
    """A job: the sender's participant rows, and how many of the given deliveries are remembered."""

    def job(conn: Connection) -> tuple[list[Any], int]:
        rows = conn.execute(select(participants).where(participants.c.external_id == sender)).all()
        remembered = select(func.count()).where(processed_messages.c.message_id.in_(keys or []))
        return list(rows), int(conn.execute(remembered).scalar_one())

    return job


def kept_replies(participant_id: int) -> Any:
    def job(conn: Connection) -> list[datetime]:
        query = select(processed_messages.c.created_at).where(
            processed_messages.c.participant_id == participant_id
        )
        return sorted(utc(moment) for moment in conn.execute(query).scalars())

    return job


async def test_mydata_shows_everything_stored_about_the_person(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path)) as (client, engine):
        sender = f"shown-{uuid.uuid4().hex[:8]}"
        await say(client, sender, "/start cx-pulse", metadata={"message_id": "d-1"})
        await say(client, sender, "3", metadata={"message_id": "d-2"})
        [row], _ = await engine.store.run(stored_about(sender))
        await engine.mark_unreachable(row.channel, sender)
        kept = await engine.store.run(kept_replies(row.id))
        shown = texts(await say(client, sender, "/mydata"))

        assert f"{row.channel} user {sender}" in shown
        assert f"First seen {when(row.created_at)}; last seen {when(row.last_seen_at)}" in shown
        assert "Name: none stored." in shown
        assert "Where you are: question 2 of attempt 1." in shown
        assert "so you were marked unreachable" in shown
        assert f"same answer: {len(kept)}, given from {when(kept[0])} to {when(kept[-1])}." in shown
        assert f"the newest by {when(kept[-1] + REMEMBER_REPLIES_FOR)}." in shown
        framework = engine.context.frameworks.get("cx-pulse")
        assert framework is not None
        assert f"(version {framework.version})" in shown

        again = texts(await say(client, sender, "/mydata"))  # writing again made them reachable
        assert "Reachable: yes" in again


async def test_mydata_shows_name_campaigns_and_reminders(store: Store, frameworks: FrameworkRegistry) -> None:
    engine = Engine(frameworks, store)
    owner = Chat(engine, f"owner-{uuid.uuid4().hex[:8]}")
    person = Chat(engine, f"named-{uuid.uuid4().hex[:8]}")
    code = await create(owner, title="Team check")
    await engine.handle(Inbound(person.channel, person.sender, f"/join {code}", display_name="Alma Quist"))
    await person.say("2")
    reminded = await owner.text(f"/campaign remind {code}")
    assert "Reminding 1" in reminded
    shown = await person.text("/mydata")
    assert "Name: Alma Quist" in shown
    assert "Part of the campaign Team check, round 1." in shown
    assert "Reminders and notices from Team check: 1, the latest" in shown
    assert "Campaign Team check: group none; started (round 1)" in shown


async def test_reading_and_no_ops_store_nobody(tmp_path: Path) -> None:
    """Someone new, and someone just erased, can read and press old buttons without being stored."""
    async with running_app(settings_for(tmp_path)) as (client, engine):
        sender = f"ghost-{uuid.uuid4().hex[:8]}"

        async def no_ops(prefix: str) -> list[str]:
            ids = [f"{prefix}-{index}" for index in range(len(NO_OPS))]
            for text, message_id in zip(NO_OPS, ids, strict=True):
                await say(client, sender, text, metadata={"message_id": message_id})
            return [delivery_key(Inbound("any", sender, "", message_id)) or "" for message_id in ids]

        keys = await no_ops("new")
        assert await engine.store.run(stored_about(sender, keys)) == ([], 0)

        await say(client, sender, "/start cx-pulse")
        await say(client, sender, "/deletemydata")
        assert "has been erased" in texts(await say(client, sender, "erase"))
        keys = await no_ops("erased")
        assert await engine.store.run(stored_about(sender, keys)) == ([], 0)

        await say(client, sender, "/start cx-pulse")  # starting something stores them
        stored, _ = await engine.store.run(stored_about(sender))
        assert len(stored) == 1


async def test_first_messages_at_once_store_one_person(store: Store, frameworks: FrameworkRegistry) -> None:
    """Concurrent first messages of someone new: one participant, one attempt, no error."""
    engine = Engine(frameworks, store)
    person = Chat(engine, f"eager-{uuid.uuid4().hex[:8]}")
    batches = await asyncio.gather(*(person.say("/start pulse-test") for _ in range(12)))
    assert all(batch[-1].title and batch[-1].title.startswith("Question 1 of 3") for batch in batches)
    twin = Chat(engine, f"twin-{uuid.uuid4().hex[:8]}")
    repeats = await asyncio.gather(*(twin.say("/start pulse-test", message_id="first") for _ in range(12)))
    assert all(batch == repeats[0] for batch in repeats)

    def counts(conn: Connection) -> list[tuple[int, int]]:
        found = []
        for chat in (person, twin):
            people = conn.execute(
                select(participants.c.id).where(participants.c.external_id == chat.sender)
            ).all()
            attempts = conn.execute(
                select(func.count())
                .select_from(runs)
                .where(runs.c.participant_id.in_([p.id for p in people]))
            ).scalar_one()
            found.append((len(people), int(attempts)))
        return found

    assert await store.run(counts) == [(1, 1), (1, 1)]


def telegram_row(sender: str) -> Any:
    """A job: the Telegram participant row of `sender`, or None."""

    def job(conn: Connection) -> Any:
        query = select(participants).where(
            participants.c.channel == "telegram", participants.c.external_id == sender
        )
        return conn.execute(query).first()

    return job


async def test_mydata_in_telegram_shows_the_name_and_after_an_erasure_nothing(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        user = FakeUser(bot.server, 10_042, "Alma", last_name="Quist", username="alma_q")
        await user.send_text("/start cx-pulse")
        question = await bot.wait_for(user, "Question 1 of")
        await user.send_text("3")
        await bot.wait_for(user, "Question 2 of", after=question.message_id)
        row = await bot.engine.store.run(telegram_row(str(user.id)))
        assert row is not None

        await user.send_text("/mydata")
        shown = (await bot.wait_for(user, bot.text("mydata_title"))).text or ""
        assert f"telegram user {user.id}" in shown
        assert "Name: Alma\n" in shown  # the first name is the display name: nothing else of the profile
        assert "Quist" not in shown
        assert "alma_q" not in shown
        assert f"First seen {when(row.created_at)}; last seen {when(row.last_seen_at)}" in shown
        assert "Where you are: question 2 of attempt 1." in shown
        assert "Language: English (en), as your app or browser says" in shown  # Telegram's language_code

        await user.send_text("/deletemydata")
        confirmation = await bot.wait_for(user, bot.text("confirm_delete"))
        await user.send_text("erase")
        erased = await bot.wait_for(user, "", after=confirmation.message_id)
        assert "has been erased" in (erased.text or "")
        await user.send_text("/mydata")
        nothing = await bot.wait_for(user, bot.text("mydata_none"), after=erased.message_id)
        assert nothing.text == bot.text("mydata_none")
        assert await bot.participant(user) is None  # reading stored nobody
        assert await bot.engine.store.run(telegram_row(str(user.id))) is None


def calculator_rows(sender: str) -> Any:
    """A job: the sender's participant row, and each run's `inputs` with its result's `calculation`."""

    def job(conn: Connection) -> tuple[Any, list[tuple[Any, Any]]]:
        person = conn.execute(select(participants).where(participants.c.external_id == sender)).one()
        query = (
            select(runs.c.inputs, results.c.calculation)
            .outerjoin(results, results.c.run_id == runs.c.id)
            .where(runs.c.participant_id == person.id)
            .order_by(runs.c.number)
        )
        return person, [(row.inputs, row.calculation) for row in conn.execute(query)]

    return job


async def test_mydata_shows_a_calculators_inputs_and_figures_and_the_chosen_language(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path)) as (client, engine):
        sender = f"calc-{uuid.uuid4().hex[:8]}"
        for typed in ("/start failure-demand", "123457", "20%", "4.50", "30%", "10000", "0"):
            await say(client, sender, typed)
        await say(client, sender, "/start failure-demand")  # a second attempt, left after one input
        await say(client, sender, "777")
        await say(client, sender, "/language en")
        person, stored = await engine.store.run(calculator_rows(sender))
        shown = texts(await say(client, sender, "/mydata"))

    assert (person.locale, person.locale_chosen) == ("en", True)
    assert "Language: English (en), as you chose with /language." in shown
    calculator = engine.context.frameworks.calculator("failure-demand")
    assert calculator is not None
    (finished, calculation), (open_inputs, no_result) = stored
    assert no_result is None
    attempts = shown.split("Attempt ")[1:]
    assert [attempt.split(":", 1)[0] for attempt in attempts] == ["1", "2"]
    for attempt, inputs in ((attempts[0], finished), (attempts[1], open_inputs)):
        for name in inputs["values"]:  # every stored input, by its label
            assert f"{calculator.input_of[name].short}: " in attempt, name
    for expected in (
        "Contacts a year: 123,457",
        "Share that is failure demand: 20%",
        "Cost of one contact: 4.50",
    ):
        assert expected in attempts[0]
    assert "Contacts a year: 777" in attempts[1]
    assert "Figures worked out" not in attempts[1]
    labels = {figure.id: figure.label for figure in calculator.figures}
    for name in calculation["figures"]:  # every stored figure, by its label
        assert f"{labels[name]}: " in attempts[0], name
    assert "Failure contacts a year: 24,691" in attempts[0]
    assert "Payback: 3.6 months" in attempts[0]
