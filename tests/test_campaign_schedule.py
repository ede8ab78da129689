"""Scheduled campaign work on SQLite and PostgreSQL: due jobs run once (however many processes claim
them, and after a restart), repeating jobs come back, and reminders are claimed by one sender only."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import Connection, select

from dialogs import codes
from dialogs.campaign_dialogue import new_campaign
from dialogs.engine import Engine
from frameworks.registry import FrameworkRegistry
from storage import campaign_admin as admin
from storage.campaign_jobs import claim_pushes, run_due_jobs, schedule
from storage.campaign_records import REMIND_JOB, CampaignRecord
from storage.campaign_repository import campaign_by_code
from storage.store import Store, open_store
from storage.tables import campaign_staff
from tests.chat import Chat


def version(framework_id: str) -> str:
    return "v"


async def due(store: Store, made: CampaignRecord, now: datetime) -> list[str]:
    """Run every due job (other tests' too: the PostgreSQL database is shared); those of `made`."""
    done = await store.run(partial(run_due_jobs, now=now, versions=version))
    return [kind for campaign_id, kind in done if campaign_id == made.id]


async def campaign(
    store: Store, frameworks: FrameworkRegistry, closes_at: datetime | None = None
) -> CampaignRecord:
    framework = frameworks.get("pulse-test")
    assert framework is not None
    change = new_campaign(framework.id, framework.version, "Scheduled", closes_at=closes_at)
    return await store.run(partial(admin.create, change=change, owner_channel="test", owner="owner"))


async def reload(store: Store, made: CampaignRecord) -> CampaignRecord:
    found = await store.read(partial(campaign_by_code, code=made.code))
    assert found is not None
    return found


async def test_a_closing_date_closes_the_campaign_once(
    database_url: str, frameworks: FrameworkRegistry
) -> None:
    first, second = await open_store(database_url), await open_store(database_url)  # two processes
    try:
        closes = datetime.now(UTC) + timedelta(hours=1)
        made = await campaign(first, frameworks, closes_at=closes)
        assert await due(first, made, datetime.now(UTC)) == []
        later = closes + timedelta(seconds=1)
        done = await asyncio.gather(due(first, made, later), due(second, made, later))
        assert sorted(done) == [[], ["close"]]
        assert (await reload(second, made)).closed_at is not None
        assert await due(second, made, later + timedelta(days=1)) == []
    finally:
        await first.close()
        await second.close()


async def test_a_repeating_reminder_comes_back(store: Store, frameworks: FrameworkRegistry) -> None:
    made = await campaign(store, frameworks)
    engine = Engine(frameworks, store)
    await Chat(engine, "slow").say(f"/join {codes.shown(made.code)}")
    now = datetime.now(UTC)
    await store.run(partial(schedule, campaign=made, kind=REMIND_JOB, due_at=now, every_hours=48))
    assert await due(store, made, now) == ["remind"]
    assert await due(store, made, now + timedelta(hours=47)) == []
    assert await due(store, made, now + timedelta(hours=48)) == ["remind"]
    reminded = await Chat(engine, "slow").say("/help")
    assert reminded[0].text.startswith("A reminder from Scheduled")


async def test_two_senders_never_claim_the_same_reminder(
    database_url: str, frameworks: FrameworkRegistry
) -> None:
    first, second = await open_store(database_url), await open_store(database_url)
    try:
        made = await campaign(first, frameworks)
        engine = Engine(frameworks, first)
        for n in range(20):
            await Chat(engine, f"m{n}", channel="telegram").say(f"/join {codes.shown(made.code)}")
        now = datetime.now(UTC)
        await first.run(partial(schedule, campaign=made, kind=REMIND_JOB, due_at=now, every_hours=None))
        await due(first, made, now)
        claim = partial(claim_pushes, direct=["telegram"], addressed=[], now=now, limit=15)
        batches = await asyncio.gather(first.run(claim), second.run(claim))
        ids = [push.nudge.id for batch in batches for push in batch]
        assert len(ids) == 20
        assert len(set(ids)) == 20
        assert await first.run(claim) == []
    finally:
        await first.close()
        await second.close()


async def test_a_facilitator_schedules_rounds_from_the_chat(
    store: Store, frameworks: FrameworkRegistry
) -> None:
    engine = Engine(frameworks, store)
    owner = Chat(engine, "owner")
    made = await campaign(store, frameworks)
    code = codes.shown(made.code)
    await store.run(partial(admin_staff, campaign=made))
    assert "a new round opens every 14 day(s)" in await owner.text(f"/campaign schedule {code} round 14")
    assert "Say what and how often" in await owner.text(f"/campaign schedule {code} round 400")
    now = datetime.now(UTC)
    assert await due(store, made, now + timedelta(days=13)) == []
    assert await due(store, made, now + timedelta(days=14, minutes=1)) == ["round"]
    assert (await reload(store, made)).round == 2
    assert "no more scheduled rounds" in await owner.text(f"/campaign schedule {code} round off")
    assert await due(store, made, now + timedelta(days=60)) == []
    assert "You don't run a campaign" in await Chat(engine, "other").text(
        f"/campaign schedule {code} round 7"
    )


def admin_staff(conn: Connection, campaign: CampaignRecord) -> None:
    """The test campaign's owner is ("test", "owner"), the `Chat` default channel's "owner"."""
    assert conn.execute(
        select(campaign_staff.c.role).where(campaign_staff.c.campaign_id == campaign.id)
    ).scalar_one()
