"""A framework file that changes (or goes) while runs are open: each run, result and campaign round
keeps the version it started on, across restarts, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Connection, select

from bot.app import running_engine
from bot.settings import Settings
from dialogs.campaign_queries import group_report
from dialogs.engine import Engine
from dialogs.types import Chart
from frameworks.loader import content, load_framework
from frameworks.registry import FrameworkRegistry
from storage.campaign_admin import every_campaign
from storage.framework_versions import OfferedVersion, record_versions
from storage.store import Store, open_store
from storage.tables import framework_versions, participants, results, runs
from tests.chat import Chat
from tests.conftest import DATA

PULSE = DATA / "frameworks" / "pulse-test.yaml"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A frameworks folder holding the 3-question pulse check (4 levels; bands 1.0-1.9 Low, 2.0-2.9
    Mid, 3.0-4.0 High; no review, so the last answer submits)."""
    path = tmp_path / "frameworks"
    path.mkdir()
    shutil.copy(PULSE, path / "pulse-test.yaml")
    return path


@asynccontextmanager
async def serving(database_url: str, folder: Path) -> AsyncIterator[Engine]:
    """A process's engine, as every command starts one."""
    settings = Settings(_env_file=None, database_url=database_url, frameworks_path=str(folder))
    async with running_engine(settings) as engine:
        yield engine


def change_the_file(folder: Path) -> None:
    """A new version: one level description reworded, the Mid band narrowed and renamed."""
    path = folder / "pulse-test.yaml"
    data = yaml.safe_load(path.read_text())
    data["dimensions"][1]["questions"][0]["levels"][1]["description"] = "Slower than planned."
    data["stages"][0]["max_score"] = 2.4
    data["stages"][1].update(min_score=2.5, name="Middle")
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def versions_of(conn: Connection, sender: str) -> list[tuple[str, str | None]]:
    """Each of the person's runs: its version, and its result's."""
    query = (
        select(runs.c.framework_version, results.c.framework_version)
        .join(participants, participants.c.id == runs.c.participant_id)
        .outerjoin(results, results.c.run_id == runs.c.id)
        .where(participants.c.external_id == sender)
        .order_by(runs.c.number)
    )
    return [(row[0], row[1]) for row in conn.execute(query)]


async def test_an_open_run_is_finished_and_shown_with_the_version_it_started_on(
    database_url: str, folder: Path
) -> None:
    old = load_framework(folder / "pulse-test.yaml").version
    async with serving(database_url, folder) as engine:
        chat = Chat(engine)
        await chat.say("/start pulse-test")
        shown = await chat.say("3")  # morale; the pace question is next
        assert "Slow." in shown[-1].text
    change_the_file(folder)
    new = load_framework(folder / "pulse-test.yaml").version
    assert new != old
    async with serving(database_url, folder) as engine:
        chat = Chat(engine, chat.sender)
        resumed = await chat.say("/start")
        assert resumed[-1].title == "Question 2 of 3 - Delivery"
        assert "Slow." in resumed[-1].text
        assert "Slower than planned" not in resumed[-1].text
        await chat.say("2")
        finished = await chat.say("2")  # 7 / 3 = 2.3: Mid in the old bands, Low in the new
        assert any(r.title == "Your team pulse stage: Mid (2.3 of 4)" for r in finished)
        old_token = next(r.chart.token for r in finished if isinstance(r.chart, Chart))
        again = await chat.say("/results")
        assert again[0].title == "Your team pulse stage: Mid (2.3 of 4)"
        assert "earlier version" not in again[0].text
        assert f"version {old}" in await chat.text("/mydata")

        await chat.say("/start pulse-test")  # a new run: the file as it is now
        fresh = await chat.say("3")
        assert "Slower than planned." in fresh[-1].text
        await chat.say("2")
        finished = await chat.say("2")
        assert any(r.title == "Your team pulse stage: Low (2.3 of 4)" for r in finished)
        new_token = next(r.chart.token for r in finished if isinstance(r.chart, Chart))
        stored = await engine.store.run(partial(versions_of, sender=chat.sender))
        assert stored == [(old, old), (new, new)]
    async with serving(database_url, folder) as engine:  # nothing in memory: read from the database
        old_chart, new_chart = await engine.chart(old_token), await engine.chart(new_token)
    assert old_chart is not None
    assert new_chart is not None
    assert [(b.name, b.low, b.high) for b in old_chart.bands][:2] == [("Low", 1.0, 1.9), ("Mid", 2.0, 2.9)]
    assert [(b.name, b.low, b.high) for b in new_chart.bands][:2] == [("Low", 1.0, 2.4), ("Middle", 2.5, 2.9)]


async def test_a_removed_framework_still_serves_its_open_runs(database_url: str, folder: Path) -> None:
    async with serving(database_url, folder) as engine:
        chat = Chat(engine)
        await chat.say("/start pulse-test")
        await chat.say("3")
    (folder / "pulse-test.yaml").unlink()
    async with serving(database_url, folder) as engine:
        chat = Chat(engine, chat.sender)
        resumed = await chat.say("/start pulse-test")
        assert resumed[-1].title == "Question 2 of 3 - Delivery"
        await chat.say("2")
        finished = await chat.say("2")
        assert any(r.title == "Your team pulse stage: Mid (2.3 of 4)" for r in finished)
        menu = await chat.say("/start")
        assert "/start pulse-test" not in [b.payload for r in menu for b in r.buttons]
        assert "I don't know an assessment" in await chat.text("/start pulse-test")


async def test_a_campaign_round_is_answered_and_reported_on_the_version_it_opened_with(
    database_url: str, folder: Path
) -> None:
    old = load_framework(folder / "pulse-test.yaml").version
    async with serving(database_url, folder) as engine:
        owner = Chat(engine)
        await owner.say("/campaign new pulse-test Versions")
        campaign = next(c for c in await engine.store.run(every_campaign) if c.title == "Versions")
    change_the_file(folder)
    new = load_framework(folder / "pulse-test.yaml").version
    async with serving(database_url, folder) as engine:
        member = Chat(engine)
        await member.say(f"/join {campaign.code}")
        await member.say("3")
        await member.say("2")
        finished = await member.say("2")
        assert any(r.title == "Your team pulse stage: Mid (2.3 of 4)" for r in finished)
        report = await engine.store.read(partial(group_report, context=engine.context, campaign=campaign))
        assert report is not None
        assert report.framework.version == old
        assert [s.name for s in report.framework.stages] == ["Low", "Mid", "High"]

        owner = Chat(engine, owner.sender)
        assert "Round 2" in await owner.text(f"/campaign round {campaign.code}")
        later = Chat(engine)
        await later.say(f"/join {campaign.code}")
        assert await engine.store.run(partial(versions_of, sender=member.sender)) == [(old, old)]
        assert await engine.store.run(partial(versions_of, sender=later.sender)) == [(new, None)]


async def test_processes_starting_together_record_each_version_once(database_url: str, folder: Path) -> None:
    path = folder / "pulse-test.yaml"
    path.write_text(path.read_text().replace("used by the tests.", f"used by the tests ({uuid.uuid4()})."))
    pulse = load_framework(path)  # a version no other test has stored
    offered = [OfferedVersion(pulse.id, pulse.version, content(pulse))]
    record = partial(record_versions, offered=offered, now=datetime.now(UTC))
    async with AsyncExitStack() as stack:
        stores = [await stack.enter_async_context(_opened(database_url)) for _ in range(3)]
        new = await asyncio.gather(*(store.run(record) for store in stores))
        query = select(framework_versions.c.content).where(
            framework_versions.c.framework_id == pulse.id, framework_versions.c.version == pulse.version
        )
        stored = await stores[0].run(lambda conn: conn.execute(query).scalars().all())
    assert sorted(len(items) for items in new) == [0, 0, 1]
    assert stored == [content(pulse)]


@asynccontextmanager
async def _opened(database_url: str) -> AsyncIterator[Store]:
    store = await open_store(database_url)
    try:
        yield store
    finally:
        await store.close()


def test_a_stored_version_is_read_once_and_kept() -> None:
    current = load_framework(PULSE)
    data = content(current)
    data["stages"][1]["name"] = "Middle"
    reads: list[tuple[str, str]] = []

    def stored(framework_id: str, version: str) -> dict[str, Any] | None:
        reads.append((framework_id, version))
        return data if version == "older" else None

    registry = FrameworkRegistry([current])
    assert registry.pinned("pulse-test", current.version) is current
    for _ in range(2):
        registry.load_missing([("pulse-test", "older"), ("pulse-test", "unknown")], stored)
    assert reads == [("pulse-test", "older"), ("pulse-test", "unknown")]
    older = registry.pinned("pulse-test", "older")
    assert older is not None
    assert older.version == "older"
    assert older.stages[1].name == "Middle"
    # a version from before versions were stored: the framework offered now, as before
    assert registry.pinned("pulse-test", "unknown") is current
    assert registry.pinned("gone", "older") is None
    assert registry.get("pulse-test") is current
    assert registry.all() == (current,)


def test_a_stored_version_that_no_longer_validates_falls_back_to_the_current_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    current = load_framework(PULSE)
    registry = FrameworkRegistry([current])
    with caplog.at_level(logging.WARNING):
        registry.load_missing([("pulse-test", "older")], lambda *_: {**content(current), "colour": "blue"})
    assert registry.pinned("pulse-test", "older") is current
    assert "no longer validates" in caplog.text


def test_the_version_ignores_keys_written_at_their_defaults(tmp_path: Path) -> None:
    data = yaml.safe_load(PULSE.read_text())
    plain = load_framework(PULSE).version
    for key, value, same in (("language", "en", True), ("review_before_submit", True, False)):
        path = tmp_path / f"{key}.yaml"
        path.write_text(yaml.safe_dump({**data, key: value}))
        assert (load_framework(path).version == plain) is same
    assert Decimal(str(content(load_framework(PULSE))["stages"][0]["min_score"])) == Decimal("1.0")
