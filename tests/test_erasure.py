"""Erasure: every row about a person goes, on both databases, and nothing of it stays in SQLite's files;
an erasure needs its own button or word, never a bare yes."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Table, func, select

from dialogs.catalogue import catalogue
from dialogs.engine import Engine, delivery_key
from dialogs.types import Inbound
from frameworks.registry import FrameworkRegistry
from storage.store import Store
from storage.tables import answers, campaign_tallies, campaigns, metadata, participants, runs
from tests.chat import Chat
from tests.test_campaigns import create, finish, tallies_match_runs
from tests.webhook_support import running_app, say, settings_for, texts

Key = tuple[Any, ...]
Rows = dict[str, dict[Key, dict[str, Any]]]
"""Every row of every table, by table name and primary key."""
INVITATION = re.compile(r"co-facilitator: ([A-Z2-9-]+)\.")
CONTACTS = "987654321"
"""A calculator input typed by the erased person: nowhere in the database afterwards."""
FILLED = {("runs", "inputs"), ("results", "calculation"), ("participants", "locale_chosen")}
"""Columns that only some people's rows fill (calculators, a chosen language): the scenario fills them."""


def every_row(conn: Connection) -> Rows:
    """Every row of every table the schema defines (new tables are included by themselves)."""
    return {table.name: _rows_of(conn, table) for table in metadata.sorted_tables}


def _rows_of(conn: Connection, table: Table) -> dict[Key, dict[str, Any]]:
    found = conn.execute(select(table)).mappings()
    return {tuple(row[column.name] for column in table.primary_key.columns): dict(row) for row in found}


def foreign_keys() -> Iterator[tuple[str, str, str, str]]:
    """(table, its column, the table it refers to, the column there) for every foreign key, a table's
    after those of the tables it refers to."""
    for table in metadata.sorted_tables:
        for key in table.foreign_keys:
            yield table.name, key.parent.name, key.column.table.name, key.column.name


def owned_rows(rows: Rows, participant_id: int) -> dict[str, set[Key]]:
    """The primary keys of the person's rows: their participant row and, transitively, every row that
    refers to one of theirs (runs, then answers, results and tallies of those runs, memberships...).

    `sorted_tables` puts a table after those it refers to, so one pass finds them all."""
    owned: dict[str, set[Key]] = {name: set() for name in rows}
    owned[participants.name] = {(participant_id,)}
    for table, column, referred, referred_column in foreign_keys():
        ids = {rows[referred][key][referred_column] for key in owned[referred]}
        owned[table] |= {key for key, row in rows[table].items() if row[column] in ids}
    return owned


def personal_tables() -> set[str]:
    """The tables whose rows can belong to a person: participants and any that refer to them."""
    found = {participants.name}
    for table, _, referred, _ in foreign_keys():
        if referred in found:
            found.add(table)
    return found


def texts_of(rows: Rows) -> str:
    """Every stored value as text, to look for a person's name or id anywhere."""
    return "\n".join(
        str(value) for table in rows.values() for row in table.values() for value in row.values()
    )


async def person_with_everything(engine: Engine, person: Chat, name: str) -> dict[str, str]:
    """Give `person` a row in every personal table (alongside other people); the campaigns' codes."""
    owner, other = Chat(engine, "owner"), Chat(engine, "other")
    first = Inbound(person.channel, person.sender, "/start pulse-test", "p-start", display_name=name)
    await engine.handle(first)
    for value in "123":  # a finished attempt on their own: answers and a result
        await person.say(value, message_id=f"p-{value}")
    joined = await create(owner, title="Team check")
    await finish(person, joined, ["2", "3", "4"])  # tallied in someone else's campaign
    await finish(other, joined, ["1", "1", "1"])
    for n in range(3):  # five have finished: their answers are published, the person's with them
        await finish(Chat(engine, f"other-{n}"), joined, ["1", "2", "1"])
    reminded = await create(owner, title="Second check")
    await person.say(f"/join {reminded}")
    await owner.say(f"/campaign remind {reminded}")  # a reminder queued for them
    invitation = INVITATION.search(await owner.text(f"/campaign add-facilitator {joined}"))
    assert invitation is not None
    await person.say(f"/campaign accept {invitation.group(1)}")  # co-facilitator
    own = await create(person, title="Their own check")  # owner of a campaign others answer
    await finish(other, own, ["3", "3", "3"])
    for typed in ("/start failure-demand", CONTACTS, "20%", "4.50", "30%", "10000", "0"):
        await person.say(typed)  # a calculator's inputs and figures
    await person.say("/language en")  # a language chosen
    await person.say("/start cx-maturity")  # an attempt left open
    await person.say("4")
    return {"joined": joined, "reminded": reminded, "own": own}


async def test_erasure_removes_every_row(store: Store, frameworks: FrameworkRegistry) -> None:
    engine = Engine(frameworks, store)
    name = f"Pat {uuid.uuid4().hex[:10]}"
    person = Chat(engine, f"erased-{uuid.uuid4().hex[:10]}")
    codes = await person_with_everything(engine, person, name)
    before = await store.run(every_row)
    participant_id = next(
        row["id"] for row in before["participants"].values() if row["external_id"] == person.sender
    )
    owned = owned_rows(before, participant_id)
    assert {table for table, keys in owned.items() if keys} == personal_tables()  # the scenario covers each
    for table, column in FILLED:
        assert any(before[table][key][column] for key in owned[table]), f"{table}.{column}"
    assert CONTACTS in texts_of(before)

    await person.say("/deletemydata", message_id="p-erase-ask")
    await person.say("/yes delete", message_id="p-erase")
    after = await store.run(every_row)

    assert_gone(owned, before, after)
    assert name not in texts_of(after)
    assert person.sender not in texts_of(after)
    assert CONTACTS not in texts_of(after)
    erasure = delivery_key(Inbound(person.channel, person.sender, "/yes delete", "p-erase"))
    new = {table: after[table].keys() - before[table].keys() for table in after}
    assert {table: keys for table, keys in new.items() if keys} == {
        "processed_messages": {(person.channel, erasure)}
    }
    assert after["processed_messages"][(person.channel, erasure)]["participant_id"] is None  # its retry
    assert_others_untouched(owned, before, after)
    assert await store.run(tallies_match_runs)
    assert after[campaign_tallies.name] != before[campaign_tallies.name]
    own_campaign = [
        row for row in after[campaigns.name].values() if row["code"] == codes["own"].replace("-", "")
    ]
    assert len(own_campaign) == 1  # a campaign they ran stays, for the people who answered it


def assert_gone(owned: dict[str, set[Key]], before: Rows, after: Rows) -> None:
    """None of the person's rows is left, and no row left refers to one of them."""
    for table, keys in owned.items():
        assert not keys & after[table].keys(), f"{table} kept rows of the erased person"
    for table, column, referred, referred_column in foreign_keys():
        gone = {before[referred][key][referred_column] for key in owned[referred]}
        assert not gone & {row[column] for row in after[table].values()}, f"{table}.{column}"


def assert_others_untouched(owned: dict[str, set[Key]], before: Rows, after: Rows) -> None:
    """Every row that was not the person's is as it was (but the campaign tallies, which lost exactly
    what the person's finished runs had added: see `tallies_match_runs`)."""
    for table in before:
        if table == campaign_tallies.name:
            continue
        kept = {key: row for key, row in before[table].items() if key not in owned[table]}
        assert {key: after[table][key] for key in after[table] if key in before[table]} == kept, table


def answer_count(sender: str) -> Any:
    """A job: how many answers are stored for the sender (on any channel)."""

    def job(conn: Connection) -> int:
        query = (
            select(func.count())
            .select_from(answers)
            .join(runs, runs.c.id == answers.c.run_id)
            .join(participants, participants.c.id == runs.c.participant_id)
            .where(participants.c.external_id == sender)
        )
        return int(conn.execute(query).scalar_one())

    return job


@pytest.mark.parametrize("confirmation", ["erase", "Delete!", "/yes delete"])
async def test_a_bare_yes_does_not_erase(tmp_path: Path, confirmation: str) -> None:
    cat = catalogue()
    async with running_app(settings_for(tmp_path)) as (client, engine):
        sender = f"bare-yes-{uuid.uuid4().hex[:8]}"
        await say(client, sender, "/start cx-pulse")
        await say(client, sender, "3")
        asked = await say(client, sender, "/deletemydata")
        assert "type erase" in texts(asked)
        assert "/yes delete" in [button["payload"] for button in asked[-1]["buttons"]]
        for typed in [*sorted(cat.words("yes_words")), "YES", "Ok.", "/yes", "maybe"]:
            again = await say(client, sender, typed)
            assert "Nothing has been erased" in texts(again), typed
            # still confirming: the buttons come again, and the answers are all there
            assert [b["payload"] for b in again[-1]["buttons"]] == ["/yes delete", "/no"], typed
            assert await engine.store.run(answer_count(sender)) == 1, typed
        done = await say(client, sender, confirmation)
        assert "has been erased" in texts(done)
        assert await engine.store.run(answer_count(sender)) == 0
        assert "Nothing is stored about you" in texts(await say(client, sender, "/mydata"))


async def test_erased_text_leaves_the_database_files(tmp_path: Path) -> None:
    """With the WAL and free pages scrubbed, an erased person's words cannot be read from the files."""
    typed = f"zq-{uuid.uuid4().hex[:16]}"  # echoed in a reply that is remembered for deduplication
    name = f"Quokka{uuid.uuid4().hex[:12]}"
    files = [tmp_path / "t.db", tmp_path / "t.db-wal"]

    def found(marker: str) -> bool:
        return any(marker.encode() in path.read_bytes() for path in files if path.exists())

    async with running_app(settings_for(tmp_path)) as (client, engine):
        sender = f"scrubbed-{uuid.uuid4().hex[:8]}"
        await say(client, sender, "/start cx-pulse")
        echoed = await say(client, sender, f"/start {typed}", metadata={"message_id": "m-typed"})
        assert typed in texts(echoed)
        named = Chat(engine, f"named-{uuid.uuid4().hex[:8]}", channel="telegram")
        await engine.handle(Inbound(named.channel, named.sender, "/start cx-pulse", display_name=name))
        await named.say("2")
        assert found(typed)
        assert found(name)  # the test can see them before
        # (this machine's SQLite may zero deleted rows by default; cxbot asks for it everywhere)
        assert await engine.store.run(lambda conn: conn.exec_driver_sql("PRAGMA secure_delete").scalar()) == 1
        await say(client, sender, "/deletemydata")
        await say(client, sender, "erase")
        await named.say("/deletemydata")
        await named.say("/yes delete")
        assert not found(typed)
        assert not found(name)
        await say(client, "someone-else", "/start cx-pulse")  # the store goes on as before
    assert not found(typed)
    assert not found(name)
