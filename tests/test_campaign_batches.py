"""Answers enter a campaign's report in batches, never one person at a time, on SQLite and PostgreSQL.

A facilitator who reads the report (chat text, JSON, CSV) after the fifth finisher and again after
each of the next four sees nothing change but the count of answer sets still waiting: subtracting
one reading from the next gives nobody's answers. At the tenth, the five waiting go in together. The
same holds inside each group. What waits survives a restart, is never published once its person
erased it, stays out once the campaign closes, and concurrent finishes on PostgreSQL publish each
run exactly once.
"""

from __future__ import annotations

import asyncio
import copy
from collections import Counter
from functools import partial
from typing import Any

from sqlalchemy import Connection, func, select

from dialogs import codes
from dialogs.campaign_queries import campaign_status, group_report
from dialogs.engine import Engine
from dialogs.report_csv import answer_sets_csv
from dialogs.report_json import report_json
from frameworks.registry import FrameworkRegistry
from storage.campaign_records import CampaignRecord
from storage.campaign_repository import campaign_by_code
from storage.response_rows import answer_sets
from storage.store import Store, open_store
from storage.tables import tallied_runs
from tests.chat import Chat
from tests.test_campaigns import admin_campaign, report_of, tallies_match_runs

PENDING_KEYS = ("pending", "pending_note", "pending_groups")


async def take_part(engine: Engine, sender: str, code: str, answers: str, group: str = "") -> None:
    """Join (in `group`, by number, if given) and answer every question of pulse-test."""
    person = Chat(engine, sender)
    await person.say(f"/join {code} {group}".strip())
    for value in answers:
        await person.say(value)


async def csv_of(store: Store, frameworks: FrameworkRegistry, code: str) -> str | None:
    campaign = await store.read(partial(campaign_by_code, code=codes.canonical(code) or ""))
    assert campaign is not None
    sets = await store.read(partial(answer_sets, campaign_id=campaign.id, round_=1, min_group=5))
    framework = frameworks.get("pulse-test")
    assert framework is not None
    return None if sets is None else answer_sets_csv(framework, sets)


def without_pending(data: dict[str, Any]) -> dict[str, Any]:
    """The JSON report less what says how many wait."""
    kept = copy.deepcopy(data)
    for key in PENDING_KEYS:
        kept.pop(key)
    for group in kept["groups"]:
        group.pop("pending")
    return kept


def text_without_pending(text: str) -> str:
    """The chat report less its sentence about what waits (and the blank lines around it)."""
    return "\n".join(line for line in text.split("\n") if line and not line.startswith("Not in the report"))


async def readings(
    store: Store, frameworks: FrameworkRegistry, owner: Chat, code: str
) -> tuple[str, dict[str, Any], str | None]:
    """The report as the chat, the JSON and the CSV give it."""
    text = await owner.text(f"/campaign report {code}")
    return text, await report_of(store, frameworks, code), await csv_of(store, frameworks, code)


async def test_readings_between_batches_differ_only_in_what_waits(
    store: Store, frameworks: FrameworkRegistry
) -> None:
    engine = Engine(frameworks, store)
    code = await admin_campaign(store, frameworks)
    owner = Chat(engine, "owner", channel="test")
    for n in range(5):
        await take_part(engine, f"first-{n}", code, "111")
    text, data, csv = await readings(store, frameworks, owner, code)
    assert (data["completed"], data["pending"], data["pending_note"]) == (5, 0, None)
    assert csv is not None
    assert len(csv.strip().split("\n")) == 1 + 5
    # each later finisher answers differently from the first five, so any figure over them would move
    for n, answers in enumerate(("444", "432", "324", "243"), start=1):
        await take_part(engine, f"later-{n}", code, answers)
        text_n, data_n, csv_n = await readings(store, frameworks, owner, code)
        assert csv_n == csv
        assert without_pending(data_n) == without_pending(data)
        assert text_without_pending(text_n) == text_without_pending(text)
        assert data_n["pending"] == n
        assert f"Not in the report yet: {n} finished answer set(s)." in text_n
        assert f"these go in once {5 - n} more have finished" in data_n["pending_note"]
    await take_part(engine, "later-5", code, "222")
    text, data, csv = await readings(store, frameworks, owner, code)
    assert (data["completed"], data["pending"]) == (10, 0)
    assert csv is not None
    assert len(csv.strip().split("\n")) == 1 + 10
    morale = next(q for q in data["questions"] if q["id"] == "morale")
    assert {level["level"]: level["people"] for level in morale["levels"]} == {
        1: 5, 2: 2, 3: 1, 4: 2, None: 0
    }  # fmt: skip
    assert "from 10 people who finished" in text
    assert "Not in the report" not in text
    assert await store.run(tallies_match_runs)


async def test_each_group_publishes_its_own_batches(store: Store, frameworks: FrameworkRegistry) -> None:
    engine = Engine(frameworks, store)
    code = await admin_campaign(store, frameworks, groups=("North", "South"))
    owner = Chat(engine, "owner", channel="test")
    for n in range(5):
        await take_part(engine, f"north-{n}", code, "111", group="1")
    text, data, csv = await readings(store, frameworks, owner, code)
    north = data["groups"][0]
    assert (data["completed"], north["completed"], north["withheld"]) == (5, 5, False)
    # four more of North and four of South: neither group has a batch, so nothing shown changes
    for n in range(1, 5):
        await take_part(engine, f"south-{n}", code, "444", group="2")
        await take_part(engine, f"north-{n + 4}", code, "333", group="1")
        text_n, data_n, csv_n = await readings(store, frameworks, owner, code)
        assert csv_n == csv
        assert without_pending(data_n) == without_pending(data)
        assert text_without_pending(text_n) == text_without_pending(text)
        assert data_n["pending_groups"] == [{"name": "North", "pending": n}, {"name": "South", "pending": n}]
        assert [g["pending"] for g in data_n["groups"]] == [n, n]
        assert f"Not in the report yet: {2 * n} finished answer set(s) (North {n}, South {n})." in text_n
    status = await store.read(partial(status_of, engine=engine, code=code))
    assert "In the report: 5 finished answer set(s)." in status
    assert "Not in the report yet: 8 finished answer set(s) (North 4, South 4)." in status

    await take_part(engine, "north-9", code, "333", group="1")  # North's fifth since its first batch
    data = await report_of(store, frameworks, code)
    assert (data["completed"], data["pending"]) == (10, 4)
    assert [(g["completed"], g["pending"], g["withheld"]) for g in data["groups"]] == [
        (10, 0, False),
        (None, 4, True),
    ]
    assert data["groups"][0]["overall"]["score"] == 2.0  # five at 1, five at 3
    assert data["overall"]["score"] == 2.0  # South's 4s are not in it
    await take_part(engine, "south-5", code, "444", group="2")
    data = await report_of(store, frameworks, code)
    assert [(g["completed"], g["withheld"]) for g in data["groups"]] == [(10, False), (5, False)]
    assert (data["completed"], data["pending"], data["groups"][1]["overall"]["score"]) == (15, 0, 4.0)
    assert await store.run(tallies_match_runs)


def status_of(conn: Connection, engine: Engine, code: str) -> str:
    """What `/campaign status` says (read as the chat and the CLI read it)."""
    campaign = campaign_by_code(conn, codes.canonical(code) or "")
    assert campaign is not None
    return campaign_status(conn, engine.context.cat, campaign).text


async def test_what_waits_is_published_after_a_restart(
    database_url: str, frameworks: FrameworkRegistry
) -> None:
    first = await open_store(database_url)
    try:
        code = await admin_campaign(first, frameworks)
        engine = Engine(frameworks, first)
        for n in range(3):
            await take_part(engine, f"before-{n}", code, "234")
        assert (await report_of(first, frameworks, code))["pending"] == 3
    finally:
        await first.close()
    again = await open_store(database_url)
    try:
        engine = Engine(frameworks, again)
        await take_part(engine, "after-0", code, "234")
        assert (await report_of(again, frameworks, code))["withheld"] is True
        await take_part(engine, "after-1", code, "234")
        data = await report_of(again, frameworks, code)
        assert (data["withheld"], data["completed"], data["pending"]) == (False, 5, 0)
        assert data["overall"]["score"] == 3.0
        assert await again.run(tallies_match_runs)
    finally:
        await again.close()


async def test_an_erased_answer_set_that_waits_is_never_published(
    store: Store, frameworks: FrameworkRegistry
) -> None:
    engine = Engine(frameworks, store)
    code = await admin_campaign(store, frameworks)
    for n in range(3):
        await take_part(engine, f"stays-{n}", code, "222")
    await take_part(engine, "erases", code, "444")
    erasing = Chat(engine, "erases")
    await erasing.say("/deletemydata")
    await erasing.say("/yes delete")
    await take_part(engine, "stays-3", code, "222")
    data = await report_of(store, frameworks, code)
    assert (data["withheld"], data["pending"]) == (True, 4)
    await take_part(engine, "stays-4", code, "222")
    data = await report_of(store, frameworks, code)
    assert (data["completed"], data["overall"]["score"]) == (5, 2.0)  # no 4 in it
    assert await store.run(tallies_match_runs)


async def test_what_waits_when_a_round_ends_stays_out(store: Store, frameworks: FrameworkRegistry) -> None:
    engine = Engine(frameworks, store)
    owner = Chat(engine, "owner", channel="test")
    code = await admin_campaign(store, frameworks)
    for n in range(7):
        await take_part(engine, f"p{n}", code, "234")
    opened = await owner.text(f"/campaign round {code}")
    assert "Round 2 of Team check is open" in opened
    campaign = await store.read(partial(campaign_by_code, code=codes.canonical(code) or ""))
    assert campaign is not None
    past = await store.read(partial(round_one, engine=engine, campaign=campaign))
    assert (past["completed"], past["pending"], past["round_state"]) == (5, 2, "past")
    assert "A later round has opened" in past["pending_note"]

    await owner.say(f"/campaign close {code}")
    text = await owner.text(f"/campaign report {code}")  # round 2: nobody finished it
    assert "This round's report shows no scores or answers" in text
    campaign = await store.read(partial(campaign_by_code, code=codes.canonical(code) or ""))
    assert campaign is not None
    closed = await store.read(partial(round_one, engine=engine, campaign=campaign))
    assert (closed["completed"], closed["pending"], closed["round_state"]) == (5, 2, "closed")
    assert closed["pending_note"].startswith("Left out of the report: 2 finished answer set(s).")
    assert "The campaign has closed" in closed["pending_note"]


def round_one(conn: Connection, engine: Engine, campaign: CampaignRecord) -> dict[str, Any]:
    """Round 1's report as JSON (the dashboard's `?round=1`)."""
    report = group_report(conn, engine.context, campaign, 1)
    assert report is not None
    return report_json(engine.context.cat, report)


# --- several processes finishing at once on PostgreSQL ----------------------------------------------


def batches(conn: Connection, campaign_id: int) -> list[tuple[int, int]]:
    """(batch, runs in it) of every published batch of the campaign; pending runs as batch -1."""
    marker = func.coalesce(tallied_runs.c.batch, -1)
    query = select(marker, func.count()).where(tallied_runs.c.campaign_id == campaign_id).group_by(marker)
    return [(int(batch), int(count)) for batch, count in conn.execute(query)]


async def test_concurrent_finishes_publish_each_run_once(
    postgres_url: str, frameworks: FrameworkRegistry
) -> None:
    """Two stores (as two `cxbot serve` processes would have) on one database; 23 people answer their
    last question at the same moment, through both. Every batch holds exactly five runs, each run is
    in at most one, three wait, and the tallies are exactly the sum of what was published."""
    stores = [await open_store(postgres_url), await open_store(postgres_url)]
    try:
        code = await admin_campaign(stores[0], frameworks)
        campaign = await stores[0].read(partial(campaign_by_code, code=codes.canonical(code) or ""))
        assert campaign is not None
        engines = [Engine(frameworks, opened) for opened in stores]
        people = [Chat(engines[n % 2], f"crowd-{n}") for n in range(23)]
        for person in people:
            await person.say(f"/join {code}")
            for value in "12":
                await person.say(value)
        await asyncio.gather(*(person.say("3") for person in people))
        found = await stores[0].run(partial(batches, campaign_id=campaign.id))
        sizes = Counter(dict(found))
        assert sizes.pop(-1) == 3, found
        assert sorted(sizes.values()) == [5, 5, 5, 5], found
        assert await stores[0].run(tallies_match_runs)
        data = await report_of(stores[0], frameworks, code)
        assert (data["completed"], data["pending"]) == (20, 3)
    finally:
        for opened in stores:
            await opened.close()


async def test_an_erasure_beside_the_finish_that_completes_a_batch(
    postgres_url: str, frameworks: FrameworkRegistry
) -> None:
    """Someone whose answers wait erases everything just as the fifth person finishes, through two
    stores: whichever goes first, nothing of theirs stays in the tallies. Tried twenty times: without
    the round's lock, some of them lose the erasure."""
    stores = [await open_store(postgres_url), await open_store(postgres_url)]
    try:
        for attempt in range(20):
            code = await admin_campaign(stores[0], frameworks)
            engines = [Engine(frameworks, opened) for opened in stores]
            for n in range(3):
                await take_part(engines[0], f"race-{attempt}-{n}", code, "222")
            erasing = Chat(engines[0], f"race-{attempt}-erases")
            await take_part(engines[0], erasing.sender, code, "444")
            await erasing.say("/deletemydata")
            last = Chat(engines[1], f"race-{attempt}-last")
            await last.say(f"/join {code}")
            await last.say("2")
            await last.say("2")
            await asyncio.gather(erasing.say("/yes delete"), last.say("2"))
            assert await stores[0].run(tallies_match_runs)
            data = await report_of(stores[0], frameworks, code)
            assert data["overall"]["score"] in (None, 2.0), data  # withheld (4 wait), or five 2s
    finally:
        for opened in stores:
            await opened.close()
