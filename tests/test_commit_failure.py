"""A commit the database refuses: no reply goes out, nothing is acknowledged, the retry applies it once.

The database itself refuses, with no mock in the store: a trigger on `answers` (for one sender only)
that does nothing while the message's statements run and fails at COMMIT. On SQLite it inserts a row
that breaks a deferred foreign key (checked at COMMIT, so the COMMIT fails with "FOREIGN KEY constraint
failed"); on PostgreSQL it is a deferred constraint trigger that raises. Every statement of the step
succeeds, so a channel that answered as soon as the step ran, before its commit, would send replies
for an answer that is never stored: these tests see that as a 200 with replies, or a callback.

Through the real webhook (`tests.webhook_support`): the refused message gets a JSON error (500: this is
not "busy", nothing says a retry will do better until the operator acts), no callback is sent, no
answer and no remembered reply is stored; once the fault is cleared, the same `metadata.message_id`
is applied once, and its repeat is answered from memory.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import asyncpg
import pytest
from sqlalchemy import Connection, func, select

from dialogs.engine import delivery_key
from dialogs.types import Inbound
from storage.tables import answers, participants, processed_messages, runs
from tests.telegram_fake.user import FakeUser
from tests.test_telegram_harness import running_bot
from tests.test_webhook_callbacks import Receiver, receiving
from tests.webhook_support import REST, running_app, say, settings_for, texts

FIRST_QUESTION = "leadership-culture"


class Fault(Protocol):
    """Makes the database refuse to commit a step that stores an answer of one sender."""

    url: str

    def refusing(self, sender: str) -> AbstractAsyncContextManager[None]: ...


class SqliteFault:
    """A trigger that breaks a deferred foreign key: the statements run, the COMMIT fails."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = f"sqlite:///{path}"

    @asynccontextmanager
    async def refusing(self, sender: str) -> AsyncIterator[None]:
        # another connection changes the schema; the store's writer sees the change at its next
        # statement (SQLite re-prepares statements whose schema changed)
        conn = sqlite3.connect(self.path, isolation_level=None)
        conn.executescript(
            f"""
            CREATE TABLE fault_parent (id INTEGER PRIMARY KEY);
            CREATE TABLE fault_child (
                parent INTEGER REFERENCES fault_parent (id) DEFERRABLE INITIALLY DEFERRED
            );
            CREATE TRIGGER refuse_commit AFTER INSERT ON answers
            WHEN NEW.run_id IN (
                SELECT runs.id FROM runs JOIN participants ON participants.id = runs.participant_id
                WHERE participants.external_id = '{sender}'
            )
            BEGIN INSERT INTO fault_child (parent) VALUES (-1); END;
            """
        )
        try:
            yield
        finally:
            conn.executescript("DROP TRIGGER refuse_commit; DROP TABLE fault_child; DROP TABLE fault_parent;")
            conn.close()


class PostgresFault:
    """A deferred constraint trigger that raises: it runs at COMMIT, after every statement succeeded."""

    def __init__(self, url: str) -> None:
        self.url = url

    @asynccontextmanager
    async def refusing(self, sender: str) -> AsyncIterator[None]:
        conn = await asyncpg.connect(self.url)
        try:
            await conn.execute(
                """
                CREATE OR REPLACE FUNCTION refuse_commit() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF EXISTS (SELECT 1 FROM runs JOIN participants ON participants.id = runs.participant_id
                               WHERE runs.id = NEW.run_id AND participants.external_id = TG_ARGV[0]) THEN
                        RAISE EXCEPTION 'this commit is refused (a test fault)';
                    END IF;
                    RETURN NULL;
                END $$
                """
            )
            await conn.execute(
                f"""
                CREATE CONSTRAINT TRIGGER refuse_commit AFTER INSERT ON answers
                DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_commit('{sender}')
                """
            )
            yield
        finally:
            await conn.execute("DROP TRIGGER IF EXISTS refuse_commit ON answers")
            await conn.execute("DROP FUNCTION IF EXISTS refuse_commit()")
            await conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def fault(request: pytest.FixtureRequest, tmp_path: Path) -> Fault:
    """A database on either back end and a way to make it refuse commits."""
    if request.param == "sqlite":
        return SqliteFault(tmp_path / "t.db")
    return PostgresFault(str(request.getfixturevalue("postgres_url")))


def stored(conn: Connection, sender: str, message_id: str) -> tuple[int, int]:
    """(answers to the first question, remembered replies of the delivery) of one sender."""
    answered = conn.execute(
        select(func.count())
        .select_from(answers)
        .join(runs, runs.c.id == answers.c.run_id)
        .join(participants, participants.c.id == runs.c.participant_id)
        .where(participants.c.external_id == sender, answers.c.question_id == FIRST_QUESTION)
    ).scalar_one()
    key = delivery_key_of(sender, message_id)
    remembered = conn.execute(
        select(func.count()).select_from(processed_messages).where(processed_messages.c.message_id == key)
    ).scalar_one()
    return answered, remembered


def delivery_key_of(sender: str, message_id: str) -> str | None:
    """The key a delivery is remembered by (it does not depend on the channel's name)."""
    return delivery_key(Inbound("any", sender, "", message_id))


def is_refusal(status: int, body: Any) -> bool:
    """An error answer that carries no reply (and acknowledges nothing)."""
    return status >= 500 and isinstance(body, dict) and set(body) == {"error"}


async def test_a_refused_commit_sends_no_reply_and_the_retry_applies_once(
    fault: Fault, tmp_path: Path
) -> None:
    sender = f"fault-{uuid.uuid4().hex[:8]}"
    async with running_app(settings_for(tmp_path, database_url=fault.url)) as (client, engine):
        await say(client, sender, "/start cx-maturity")
        body = {"sender": sender, "message": "4", "metadata": {"message_id": "answer-1"}}
        async with fault.refusing(sender):
            refused = await client.post(REST, json=body)
            assert is_refusal(refused.status, await refused.json()), await refused.text()
            # the next message, anyone's, is served: the refused transaction was not left open (on
            # SQLite it stayed open after the failed COMMIT, and the next group failed to BEGIN)
            assert "Question 1 of 5" in texts(await say(client, f"next-{sender}", "/start cx-pulse"))
            assert await engine.store.run(partial(stored, sender=sender, message_id="answer-1")) == (0, 0)
        again = await say(client, sender, "4", metadata={"message_id": "answer-1"})
        assert "Question 2 of 11" in texts(again)
        assert "Personalized" in texts(again)  # the answer acknowledged
        replayed = await say(client, sender, "4", metadata={"message_id": "answer-1"})
        assert replayed == again
        assert await engine.store.run(partial(stored, sender=sender, message_id="answer-1")) == (1, 1)
        review = texts(await say(client, sender, "/review"))
        assert "1. Leadership and culture: 4 - Personalized" in review
        assert "2. Road map and budget allocation: not answered yet" in review


async def test_a_refused_commit_sends_no_callback(fault: Fault, tmp_path: Path) -> None:
    sender = f"fault-{uuid.uuid4().hex[:8]}"
    receiver = Receiver()
    settings = settings_for(tmp_path, database_url=fault.url, callback_allow_private=True)
    async with receiving(receiver) as url:
        async with running_app(settings) as (client, _):
            await say(client, sender, "/start cx-maturity")  # answered in the response, not by callback
            metadata = {"message_id": "answer-1", "callback_url": url}
            body = {"sender": sender, "message": "4", "metadata": metadata}
            async with fault.refusing(sender):
                refused = await client.post(REST, json=body)
                assert is_refusal(refused.status, await refused.json()), await refused.text()
            ack = await say(client, sender, "4", metadata=metadata)
            assert ack["status"] == "accepted"
            delivered = await receiver.next()
            assert "Question 2 of 11" in texts(delivered)
        # leaving the app drained its deliveries; one sender's go out in order, so a callback of the
        # refused message would have come first
        assert len(receiver.requests) == 1


async def test_a_refused_commit_undoes_no_other_message(fault: Fault, tmp_path: Path) -> None:
    """Several messages at once (one commit group on SQLite): only the refused one is lost."""
    faulty = f"fault-{uuid.uuid4().hex[:8]}"
    others = [f"other-{n}-{uuid.uuid4().hex[:6]}" for n in range(7)]
    async with running_app(settings_for(tmp_path, database_url=fault.url)) as (client, engine):
        for sender in [faulty, *others]:
            await say(client, sender, "/start cx-maturity")
        async with fault.refusing(faulty):
            posts = [
                client.post(REST, json={"sender": s, "message": "3", "metadata": {"message_id": "a1"}})
                for s in [faulty, *others]
            ]
            responses = await asyncio.gather(*posts)
            bodies = [await response.json() for response in responses]
        assert is_refusal(responses[0].status, bodies[0]), bodies[0]
        assert [response.status for response in responses[1:]] == [200] * len(others)
        assert all("Question 2 of 11" in texts(body) for body in bodies[1:])
        for sender in others:
            assert await engine.store.run(partial(stored, sender=sender, message_id="a1")) == (1, 1)
        assert await engine.store.run(partial(stored, sender=faulty, message_id="a1")) == (0, 0)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_telegram_a_refused_commit_gets_the_error_notice_not_the_next_question(
    tmp_path: Path, mode: str
) -> None:
    """Telegram, by its channel's own rule, tells the person that the message was not applied (a
    failure other than a busy database is not tried again) instead of sending what the step said:
    the pressed question is not marked answered and keeps its keyboard, no question 2 is sent."""
    async with running_bot(tmp_path, mode) as bot:
        user = FakeUser(bot.server, 60_001, "Ada")
        await user.send_text("/start cx-maturity")
        question = await bot.wait_for(user, "Question 1 of 11")
        assert question.inline_keyboard is not None
        label = next(row[0]["text"] for row in question.inline_keyboard if row[0]["text"].startswith("3 - "))
        not_applied = bot.text("internal_error")
        async with SqliteFault(tmp_path / "cxbot.db").refusing(str(user.id)):
            await user.press(label, message=question)
            assert (await user.wait_for_callback_answer()).get("text") == not_applied
            await user.send_text("3")
            notice = await bot.wait_for(user, not_applied, after=question.message_id)
        shown = bot.server.message(question.chat_id, question.message_id)
        assert shown is not None
        assert not shown.edited  # not marked answered
        assert shown.inline_keyboard
        assert not [text for text in user.bot_texts() if "Question 2 of" in text]
        assert await bot.answers(user) == {}
        await user.press(label, message=question)  # the same button, once the database takes it
        assert "text" not in await user.wait_for_callback_answer()
        await bot.wait_for(user, "Question 2 of 11", after=notice.message_id)
        assert await bot.answers(user) == {FIRST_QUESTION: 3}
