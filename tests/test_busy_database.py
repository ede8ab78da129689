"""A busy or unreachable database: every message is answered within a few seconds, stored or refused
with 503 and Retry-After with nothing applied; a retry with the same id then applies it once."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

from tests.postgres_cluster import throwaway_cluster
from tests.webhook_support import REST, running_app, say, settings_for, texts

ANSWERED_WITHIN = 7.0
"""The step waits up to 3 s to start, then SQLite up to 2 s for the lock: a bound with room."""


async def test_a_locked_sqlite_file_gets_503_and_nothing_applied(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        await say(client, "busy-1", "/start cx-maturity")
        blocker = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")  # another process holding the database
        try:
            started = time.monotonic()
            body = {"sender": "busy-1", "message": "4", "metadata": {"message_id": "answer-1"}}
            refused = await client.post(REST, json=body)
            assert time.monotonic() - started < ANSWERED_WITHIN
            assert refused.status == 503
            assert refused.headers["Retry-After"] == "2"
            assert "nothing was applied" in (await refused.json())["error"]
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        again = await say(client, "busy-1", "4", metadata={"message_id": "answer-1"})
        assert "Question 2 of 11" in texts(again)
        replayed = await say(client, "busy-1", "4", metadata={"message_id": "answer-1"})
        assert replayed == again  # the same delivery: applied once
        review = texts(await say(client, "busy-1", "/review"))
        assert "1. Leadership and culture: 4 - Personalized" in review
        assert "2. Road map and budget allocation: not answered yet" in review


async def test_many_messages_while_locked_are_all_answered_in_time(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        blocker = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            started = time.monotonic()
            posts = [client.post(REST, json={"sender": f"crowd-{n}", "message": "/help"}) for n in range(30)]
            statuses = [response.status for response in await asyncio.gather(*posts)]
            assert time.monotonic() - started < ANSWERED_WITHIN
            assert set(statuses) == {503}
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert (await client.post(REST, json={"sender": "crowd-0", "message": "/help"})).status == 200


async def test_postgresql_going_away_gets_503_and_the_service_comes_back(tmp_path: Path) -> None:
    with throwaway_cluster() as cluster:
        settings = settings_for(tmp_path, database_url=cluster.url)
        async with running_app(settings) as (client, _):
            await say(client, "pg-1", "/start cx-maturity")
            cluster.stop()
            started = time.monotonic()
            body = {"sender": "pg-1", "message": "4", "metadata": {"message_id": "pg-answer"}}
            refused = await client.post(REST, json=body)
            assert time.monotonic() - started < ANSWERED_WITHIN
            assert (refused.status, refused.headers.get("Retry-After")) == (503, "2")
            cluster.start()
            status, deadline = 503, time.monotonic() + 20
            while status == 503 and time.monotonic() < deadline:  # back by itself: no restart of cxbot
                response = await client.post(REST, json=body)
                status = response.status
                if status == 503:
                    await asyncio.sleep(0.5)
            assert status == 200
            assert "Question 2 of 11" in texts(await response.json())
            review = texts(await say(client, "pg-1", "/review"))
            assert "1. Leadership and culture: 4 - Personalized" in review
            assert "2. Road map and budget allocation: not answered yet" in review
