"""Storage on SQLite and PostgreSQL: durability, resume, concurrency, deduplication (erasure is in
test_erasure.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, func, select, text

from dialogs.engine import Engine, delivery_key
from dialogs.types import Inbound, ReplyKind
from frameworks.registry import FrameworkRegistry
from storage.executor import AsyncpgExecutor, SqliteExecutor
from storage.migrate import alembic_config
from storage.store import DatabaseURLError, Store, StoreUnavailable, normalise_url, open_store
from storage.tables import answers, metadata, participants, processed_messages, results, runs
from tests.chat import Chat


def head_revision() -> str:
    """The newest migration's revision id."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def answers_of(sender: str) -> Callable[[Connection], list[Any]]:
    """The stored answer rows of one person, with their framework version and dimension."""

    def job(conn: Connection) -> list[Any]:
        query = (
            select(
                answers.c.question_id, answers.c.value, answers.c.framework_version, answers.c.dimension_id
            )
            .join(runs, runs.c.id == answers.c.run_id)
            .join(participants, participants.c.id == runs.c.participant_id)
            .where(participants.c.external_id == sender)
        )
        return list(conn.execute(query).all())

    return job


def count(table: Any, *where: Any) -> Callable[[Connection], int]:
    def job(conn: Connection) -> int:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())

    return job


async def test_a_whole_run_is_stored(store: Store, frameworks: FrameworkRegistry) -> None:
    chat = Chat(Engine(frameworks, store))
    await chat.say("/start cx-maturity")
    for value in "12345123451":
        await chat.say(value)
    replies = await chat.say("/submit")
    assert replies[0].title == "Your CX maturity stage: Targeted (2.8 of 5)"
    assert await store.run(count(answers)) >= 11
    row = await store.run(
        lambda conn: conn.execute(
            select(results.c.score_tenths, results.c.stage_id, results.c.dimension_tenths)
            .join(runs, runs.c.id == results.c.run_id)
            .join(participants, participants.c.id == runs.c.participant_id)
            .where(participants.c.external_id == chat.sender)
        ).one()
    )
    assert row.score_tenths == 28  # 31 / 11
    assert row.stage_id == "targeted"
    assert row.dimension_tenths == {
        "self-awareness": 20,
        "insights": 33,
        "engagement": 25,
        "context-trust": 33,
    }


async def test_answers_record_their_framework_version(store: Store, frameworks: FrameworkRegistry) -> None:
    chat = Chat(Engine(frameworks, store))
    await chat.say("/start cx-maturity")
    await chat.say("3")
    rows = await store.run(answers_of(chat.sender))
    framework = frameworks.get("cx-maturity")
    assert framework is not None
    assert [(r.framework_version, r.dimension_id) for r in rows] == [(framework.version, "self-awareness")]


async def test_resume_after_the_process_restarts(database_url: str, frameworks: FrameworkRegistry) -> None:
    first = await open_store(database_url)
    chat = Chat(Engine(frameworks, first), sender="restart-person")
    await chat.say("/start cx-maturity")
    for value in "2345":
        await chat.say(value)
    await first.close()

    second = await open_store(database_url)
    try:
        chat = Chat(Engine(frameworks, second), sender="restart-person")
        replies = await chat.say("/start")
        assert "Welcome back" in replies[0].text
        assert replies[-1].title is not None
        assert replies[-1].title.startswith("Question 5 of 11")
        review = await chat.text("/review")
        assert "4. Collaboration with other departments and agencies: 5 - Empathetic" in review
    finally:
        await second.close()


async def test_concurrent_messages_from_one_person(store: Store, frameworks: FrameworkRegistry) -> None:
    chat = Chat(Engine(frameworks, store))
    await chat.say("/start cx-maturity")
    replies = await asyncio.gather(*(chat.say("4") for _ in range(30)))
    answered = [r for batch in replies for r in batch if r.kind is ReplyKind.ANSWERED]
    assert len(answered) == 11  # every question answered exactly once, then the review
    assert sorted(r.question.index for r in answered if r.question) == list(range(11))
    stored = await store.run(answers_of(chat.sender))
    assert len(stored) == 11
    assert {row.value for row in stored} == {4}


async def test_concurrent_duplicates_are_applied_once(store: Store, frameworks: FrameworkRegistry) -> None:
    chat = Chat(Engine(frameworks, store))
    await chat.say("/start cx-maturity")
    replies = await asyncio.gather(*(chat.say("2", message_id="delivery-7") for _ in range(10)))
    assert all(batch == replies[0] for batch in replies)
    key = delivery_key(Inbound(chat.channel, chat.sender, "2", "delivery-7"))
    assert await store.run(count(processed_messages, processed_messages.c.message_id == key)) == 1
    review = await chat.text("/review")
    assert "2. Road map and budget allocation: not answered yet" in review


async def test_many_people_at_once(store: Store, frameworks: FrameworkRegistry) -> None:
    engine = Engine(frameworks, store)
    people = [Chat(engine) for _ in range(20)]
    await asyncio.gather(*(p.say("/start pulse-test") for p in people))
    for value in "123":
        await asyncio.gather(*(p.say(value) for p in people))
    assert await store.run(count(results)) >= 20


async def test_migrations_are_applied_once(database_url: str) -> None:
    for _ in range(2):
        opened = await open_store(database_url)
        version = await opened.run(
            lambda conn: conn.execute(text("SELECT version_num FROM alembic_version")).all()
        )
        await opened.close()
        assert [tuple(v) for v in version] == [(head_revision(),)]


async def test_migrations_make_the_schema_the_tables_describe(store: Store) -> None:
    """Alembic's comparison of the migrated database with `storage.tables` finds nothing to change."""

    def differences(conn: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))

    assert await store.run(differences) == []


async def test_one_failing_message_does_not_undo_others(
    sqlite_store: Store, frameworks: FrameworkRegistry
) -> None:
    chat = Chat(Engine(frameworks, sqlite_store))
    await chat.say("/start pulse-test")

    def broken(conn: Connection) -> None:
        conn.execute(text("INSERT INTO participants (id) VALUES (NULL)"))  # violates NOT NULL

    outcomes = await asyncio.gather(
        chat.say("2"), sqlite_store.run(broken), chat.say("3"), return_exceptions=True
    )
    assert isinstance(outcomes[1], Exception)
    review = await chat.text("/submit")
    assert "Your team pulse stage" in review


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("sqlite:///x.db", "sqlite+pysqlite"),
        ("sqlite+aiosqlite:///x.db", "sqlite+pysqlite"),
        ("postgresql://u@h/db", "postgresql+asyncpg"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg"),
        ("postgres://u@h/db", "postgresql+asyncpg"),
    ],
)
def test_database_urls(url: str, driver: str) -> None:
    assert normalise_url(url).drivername == driver


@pytest.mark.parametrize("url", ["mysql://u@h/db", "not a url", ""])
def test_bad_database_urls_are_refused(url: str) -> None:
    with pytest.raises(DatabaseURLError, match="CXBOT_DATABASE_URL"):
        normalise_url(url)


async def test_old_remembered_replies_are_forgotten(store: Store, frameworks: FrameworkRegistry) -> None:
    from datetime import UTC, datetime, timedelta
    from functools import partial

    from storage.repository import forget_replies_before

    chat = Chat(Engine(frameworks, store))
    await chat.say("/start pulse-test")  # stored: their replies are remembered
    await chat.say("/help", message_id="old-delivery")
    kept = await store.run(partial(forget_replies_before, before=datetime.now(UTC) - timedelta(days=1)))
    assert kept == 0
    forgotten = await store.run(
        partial(forget_replies_before, before=datetime.now(UTC) + timedelta(seconds=5))
    )
    assert forgotten >= 1
    key = delivery_key(Inbound(chat.channel, chat.sender, "/help", "old-delivery"))
    assert await store.run(count(processed_messages, processed_messages.c.message_id == key)) == 0


async def test_mark_inactive_and_reactivate(store: Store, frameworks: FrameworkRegistry) -> None:
    engine = Engine(frameworks, store)
    chat = Chat(engine)
    await chat.say("/start pulse-test")
    await engine.mark_unreachable(chat.channel, chat.sender)
    inactive = participants.c.inactive.is_(True)
    assert await store.run(count(participants, participants.c.external_id == chat.sender, inactive)) == 1
    await chat.say("/start")  # they are back: reachable again
    assert await store.run(count(participants, participants.c.external_id == chat.sender, inactive)) == 0


async def test_a_closed_store_refuses_work(tmp_path: Any) -> None:
    closed = await open_store(f"sqlite:///{tmp_path / 'closed.db'}")
    await closed.close()
    with pytest.raises(RuntimeError, match="not open"):
        await closed.run(count(participants))


async def test_a_database_that_cannot_be_opened_is_a_clear_error(tmp_path: Any) -> None:
    with pytest.raises(StoreUnavailable, match="cannot open the database .*unable to open database file"):
        await open_store(f"sqlite:///{tmp_path / 'missing-directory' / 'x.db'}")


async def test_an_answer_and_its_cursor_are_written_together(
    store: Store, frameworks: FrameworkRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL an answer and the cursor it moves are one statement (one round trip); on SQLite
    two. Either way both are stored, and a later step carries on from them."""
    chat = Chat(Engine(frameworks, store))
    await chat.say("/start cx-maturity")
    await chat.say("3")
    executor = AsyncpgExecutor if store.backend == "postgresql" else SqliteExecutor
    writes: list[Any] = []
    real_run = executor.run

    def counted(self: Any, statement: Any, params: dict[str, Any]) -> int:
        writes.append(statement)
        return real_run(self, statement, params)

    monkeypatch.setattr(executor, "run", counted)
    await chat.say("4")
    assert len(writes) == (1 if store.backend == "postgresql" else 2)
    monkeypatch.undo()

    framework = frameworks.get("cx-maturity")
    assert framework is not None
    first, second, third = (question.id for question in framework.questions[:3])
    rows = await store.run(answers_of(chat.sender))
    assert sorted((row.question_id, row.value) for row in rows) == sorted([(first, 3), (second, 4)])
    cursor = await store.run(
        lambda conn: conn.execute(
            select(runs.c.cursor)
            .join(participants, participants.c.id == runs.c.participant_id)
            .where(participants.c.external_id == chat.sender)
        ).scalar_one()
    )
    assert cursor == 2
    replies = await Chat(Engine(frameworks, store), sender=chat.sender).say("5")
    assert replies[-1].question is not None
    assert replies[-1].question.index == 3
    rows = await store.run(answers_of(chat.sender))
    assert (third, 5) in [(row.question_id, row.value) for row in rows]
