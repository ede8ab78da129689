"""While `cxbot serve` runs, replies kept to answer retries are forgotten once no retry can come
(not only at start-up)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.scheduler import Scheduler
from storage.repository import REMEMBER_REPLIES_FOR
from storage.tables import processed_messages
from tests.webhook_support import running_app, say, settings_for


def _kept(conn: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(processed_messages)).scalar_one())


def _age_all(conn: Any) -> None:
    past = datetime.now(UTC) - REMEMBER_REPLIES_FOR - timedelta(minutes=1)
    conn.execute(update(processed_messages).values(created_at=past))


async def test_old_remembered_replies_are_forgotten_while_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Scheduler, "housekeeping_every", 0.2)
    async with running_app(settings_for(tmp_path, scheduler_seconds=0.05)) as (client, engine):
        await say(client, "kept-1", "/start cx-maturity", metadata={"message_id": "a"})
        await say(client, "kept-1", "4", metadata={"message_id": "b"})
        assert await engine.store.run(_kept) == 2
        await engine.store.run(_age_all)
        await say(client, "kept-1", "4", metadata={"message_id": "c"})  # recent: stays
        for _ in range(100):
            if await engine.store.run(_kept) == 1:
                break
            await asyncio.sleep(0.05)
        assert await engine.store.run(_kept) == 1
