"""Campaigns through the engine on SQLite and PostgreSQL: create, join, finish, report, privacy."""

from __future__ import annotations

import re
from collections import Counter
from functools import partial
from typing import Any

from sqlalchemy import Connection, select

from dialogs import codes
from dialogs.campaign_dialogue import new_campaign
from dialogs.campaign_queries import group_report
from dialogs.engine import Engine
from dialogs.report_csv import answer_sets_csv
from dialogs.report_json import report_json
from dialogs.types import ReplyKind
from frameworks.registry import FrameworkRegistry
from storage import campaign_admin as admin
from storage.campaign_repository import campaign_by_code
from storage.response_rows import answer_sets
from storage.store import Store
from storage.tables import campaign_tallies, tallied_runs
from tests.chat import Chat

CODE = re.compile(r"Join code: ([A-Z2-9]{4}-[A-Z2-9]{4})")


async def create(owner: Chat, framework: str = "pulse-test", title: str = "Team check") -> str:
    """A new campaign; its join code."""
    text = await owner.text(f"/campaign new {framework} {title}")
    found = CODE.search(text)
    assert found, text
    return found.group(1)


async def finish(chat: Chat, code: str, answers: list[str]) -> str:
    """Join and answer every question; everything said after the last answer."""
    await chat.say(f"/join {code}")
    said = ""
    for value in answers:
        said = await chat.text(value)
    return said


async def test_a_campaign_from_creation_to_report(store: Store, frameworks: FrameworkRegistry) -> None:
    engine = Engine(frameworks, store)
    owner = Chat(engine, "owner")
    code = await create(owner)
    people = [Chat(engine, f"p{n}") for n in range(6)]
    for person in people[:4]:
        said = await finish(person, code, ["2", "3", "4"])
        assert "count towards Team check" in said
    withheld = await owner.text(f"/campaign report {code}")
    assert "4 have so far, so 1 more needed" in withheld
    assert "Group stage" not in withheld
    await finish(people[4], code, ["1", "1", "1"])
    report = await owner.text(f"/campaign report {code}")
    assert "Group stage:" in report
    assert "from 5 people who finished" in report
    halfway = Chat(engine, "halfway")
    await halfway.say(f"/join {code}")
    await halfway.say("3")
    status = await owner.text(f"/campaign status {code}")
    assert "6 joined; 5 finished, 1 part-way through, 0 not started yet; 0 left." in status
    assert "In the report: 5 finished answer set(s)." in status
    assert "Not in the report yet" not in status


async def test_only_the_people_who_run_a_campaign_see_it(store: Store, frameworks: FrameworkRegistry) -> None:
    engine = Engine(frameworks, store)
    code = await create(Chat(engine, "owner"))
    stranger = Chat(engine, "stranger")
    for command in ("status", "report", "remind", "close"):
        refused = await stranger.say(f"/campaign {command} {code}")
        assert refused[0].text == f"You don't run a campaign with the code {code}."
        assert refused[0].kind is ReplyKind.NOTICE
    unknown = await stranger.say("/campaign report ZZZZ-ZZZZ")
    assert unknown[0].text == "You don't run a campaign with the code ZZZZ-ZZZZ."


async def admin_campaign(
    store: Store, frameworks: FrameworkRegistry, groups: tuple[str, ...] = (), min_group: int = 5
) -> str:
    """A campaign made as `cxbot campaign create` makes it (groups are set there); its code."""
    framework = frameworks.get("pulse-test")
    assert framework is not None
    change = new_campaign(framework.id, framework.version, "Team check", min_group, groups)
    made = await store.run(partial(admin.create, change=change, owner_channel="test", owner="owner"))
    return codes.shown(made.code)


async def report_of(store: Store, frameworks: FrameworkRegistry, code: str) -> dict[str, Any]:
    engine = Engine(frameworks, store)
    campaign = await store.read(partial(campaign_by_code, code=codes.canonical(code) or ""))
    assert campaign is not None
    report = await store.read(partial(group_report, context=engine.context, campaign=campaign))
    assert report is not None
    return report_json(engine.context.cat, report)


async def test_a_withheld_group_cannot_be_recovered_by_subtraction(
    store: Store, frameworks: FrameworkRegistry
) -> None:
    engine = Engine(frameworks, store)
    code = await admin_campaign(store, frameworks, groups=("North", "South", "East"))
    sizes = {"1": 6, "2": 5, "3": 2}
    for group, size in sizes.items():
        for n in range(size):
            person = Chat(engine, f"g{group}-{n}")
            await person.say(f"/join {code}")
            await person.say(group)  # the group's number, typed
            for value in ("2", "3", "4") if group == "3" else ("1", "1", "1"):
                await person.say(value)
    data = await report_of(store, frameworks, code)
    # each group's answers go in 5 at a time: North's sixth and East's two are not in the report
    assert (data["completed"], data["pending"]) == (10, 3)
    assert data["overall"]["score"] == 1.0  # East answered 2, 3, 4: none of it is in the figures
    groups = {g["name"]: g for g in data["groups"]}
    assert [(groups[name]["completed"], groups[name]["pending"]) for name in ("North", "South")] == [
        (5, 1),
        (5, 0),
    ]
    assert groups["North"]["overall"]["score"] == 1.0
    assert groups["East"]["withheld"] is True
    assert (groups["East"]["completed"], groups["East"]["pending"]) == (None, 2)
    assert groups["East"]["overall"]["score"] is None
    assert groups["East"]["dimensions"] == []
    assert data["pending_groups"] == [{"name": "North", "pending": 1}, {"name": "East", "pending": 2}]
    # nothing is left after subtracting the groups shown from the total: East is in neither
    shown = sum(g["completed"] for g in data["groups"] if not g["withheld"])
    assert data["completed"] == shown

    # an erasure leaves South with 4 published: it is withheld, and North, the next smallest, with it
    await Chat(engine, "g2-0").say("/deletemydata")
    await Chat(engine, "g2-0").say("/yes delete")
    after = await report_of(store, frameworks, code)
    assert after["completed"] == 9
    groups = {g["name"]: g for g in after["groups"]}
    for name in ("North", "South", "East"):
        assert groups[name]["withheld"] is True
        assert groups[name]["overall"]["score"] is None
        assert groups[name]["dimensions"] == []
    shown = sum(g["completed"] for g in after["groups"] if not g["withheld"])
    assert after["completed"] - shown >= 5  # what is hidden covers 9 people, never South's 4 alone


async def test_erasure_takes_a_person_out_of_the_report(store: Store, frameworks: FrameworkRegistry) -> None:
    engine = Engine(frameworks, store)
    code = await admin_campaign(store, frameworks)
    people = [Chat(engine, f"e{n}") for n in range(5)]
    for person in people:
        await finish(person, code, ["4", "4", "4"])
    assert (await report_of(store, frameworks, code))["overall"]["score"] == 4.0
    await people[0].say("/deletemydata")
    await people[0].say("/yes delete")
    after = await report_of(store, frameworks, code)
    assert after["withheld"] is True
    assert after["completed"] == 4
    assert after["overall"]["score"] is None
    assert await store.run(tallies_match_runs)


KEY = ("campaign_id", "round", "framework_version", "group_id", "kind", "part", "a", "b")


def tallies_match_runs(conn: Connection) -> bool:
    """The tallies are exactly the sum of what each remaining published run added (a pending run
    is not counted until its batch is complete)."""
    expected: Counter[tuple[Any, ...]] = Counter()
    for row in conn.execute(select(tallied_runs).where(tallied_runs.c.batch.is_not(None))):
        for kind, part, a, b in row.rows:
            expected[(row.campaign_id, row.round, row.framework_version, row.group_id, kind, part, a, b)] += 1
    actual = Counter(
        {
            tuple(r[name] for name in KEY): r["count"]
            for r in conn.execute(select(campaign_tallies)).mappings()
            if r["count"]
        }
    )
    return expected == actual


async def test_a_pulse_with_three_rounds_shows_its_trend(store: Store, frameworks: FrameworkRegistry) -> None:
    engine = Engine(frameworks, store)
    owner = Chat(engine, "owner")
    code = await create(owner)
    people = [Chat(engine, f"t{n}") for n in range(5)]
    for round_, value in ((1, "1"), (2, "2"), (3, "4")):
        if round_ > 1:
            opened = await owner.text(f"/campaign round {code}")
            assert f"Round {round_} of Team check is open" in opened
        for person in people:
            said = await person.text(f"/start {code}")
            assert "Question 1 of 3" in said, said
            for _ in range(3):
                await person.say(value)
    data = await report_of(store, frameworks, code)
    assert [point["round"] for point in data["trend"]] == [1, 2, 3]
    assert [point["overall"]["score"] for point in data["trend"]] == [1.0, 2.0, 4.0]
    assert [point["dimensions"][0]["score"] for point in data["trend"]] == [1.0, 2.0, 4.0]
    text = await owner.text(f"/campaign report {code}")
    assert "Trend across rounds" in text
    assert "People: 1.0 -> 2.0 -> 4.0" in text
    again = await people[0].text(f"/start {code}")
    assert "already finished Team check for round 3" in again


async def test_reminders_reach_only_the_unfinished(store: Store, frameworks: FrameworkRegistry) -> None:
    engine = Engine(frameworks, store)
    owner = Chat(engine, "owner")
    code = await create(owner)
    done = [Chat(engine, f"d{n}") for n in range(5)]
    for person in done:
        await finish(person, code, ["3", "3", "3"])
    joined, halfway = Chat(engine, "joined"), Chat(engine, "halfway")
    await joined.say(f"/join {code}")
    await halfway.say(f"/join {code}")
    await halfway.say("2")
    queued = await owner.text(f"/campaign remind {code}")
    assert "Reminding 2 people" in queued
    assert "Nobody to remind" in await owner.text(f"/campaign remind {code}")  # not again so soon
    for person in done:
        assert "A reminder from" not in await person.text("/help")
    reminded = await halfway.say("/help")
    assert reminded[0].text.startswith("A reminder from Team check")
    assert reminded[0].buttons[0].payload == f"/start {code}"
    assert "A reminder from" not in await halfway.text("/help")  # shown once
    resumed = await halfway.text(reminded[0].buttons[0].payload)
    assert "question 2 of 3" in resumed
    status = await owner.text(f"/campaign status {code}")
    assert "Reminders: 1 reached, 1 waiting to be seen" in status


async def test_a_second_attempt_shows_the_change_since_last_time(chat: Chat) -> None:
    await chat.say("/start pulse-test")
    for value in ("2", "2", "2"):
        await chat.say(value)
    await chat.say("/start pulse-test")
    replies = []
    for value in ("3", "4", "2"):
        replies = await chat.say(value)
    summary = next(r for r in replies if r.kind is ReplyKind.RESULT)
    assert "Since last time" in summary.text
    assert "People: 2.0 -> 3.0" in summary.text
    assert "Delivery: 2.0 -> 3.0" in summary.text


async def test_a_co_facilitator_joins_by_one_time_invitation(
    store: Store, frameworks: FrameworkRegistry
) -> None:
    engine = Engine(frameworks, store)
    owner, helper, other = Chat(engine, "owner"), Chat(engine, "helper"), Chat(engine, "other")
    code = await create(owner)
    invited = await owner.text(f"/campaign add-facilitator {code}")
    invitation = re.search(r"code to your co-facilitator: ([A-Z2-9-]{14})", invited)
    assert invitation, invited
    accepted = await helper.text(f"/start {invitation.group(1)}")
    assert f"You're now a facilitator of Team check (code {code})" in accepted
    assert f"Team check ({code}): progress" in await helper.text(f"/campaign status {code}")
    assert "isn't valid" in await other.text(f"/campaign accept {invitation.group(1)}")
    assert "You don't run a campaign" in await other.text(f"/campaign status {code}")
    assert "Only the owner" in await helper.text(f"/campaign add-facilitator {code}")


async def test_joining_says_clearly_what_is_wrong(store: Store, frameworks: FrameworkRegistry) -> None:
    engine = Engine(frameworks, store)
    owner, person = Chat(engine, "owner"), Chat(engine, "person")
    code = await create(owner)
    assert "can't find a campaign with the code ZZZZ-ZZZZ" in await person.text("/join ZZZZ-ZZZZ")
    assert "Send /join followed by the code" in await person.text("/join")
    joined = await person.text(f"/join {code.lower().replace('-', ' ')}")  # typed loosely
    assert "Whoever runs it sees group results and answers without names" in joined
    assert "Question 1 of 3" in joined
    await owner.say(f"/campaign close {code}")
    closed = await person.text("2")
    assert "Team check has closed" in closed
    assert "has closed" in await Chat(engine, "late").text(f"/join {code}")


async def test_leaving_stops_reminders(store: Store, frameworks: FrameworkRegistry) -> None:
    engine = Engine(frameworks, store)
    owner, person = Chat(engine, "owner"), Chat(engine, "leaver")
    code = await create(owner)
    await person.say(f"/join {code}")
    left = await person.text(f"/leave {code}")
    assert "You've left Team check" in left
    assert "Nobody to remind" in await owner.text(f"/campaign remind {code}")
    assert "left" in await owner.text(f"/campaign status {code}")


async def test_the_csv_holds_answers_but_no_identity(store: Store, frameworks: FrameworkRegistry) -> None:
    engine = Engine(frameworks, store)
    code = await admin_campaign(store, frameworks)
    names = [f"secret-sender-{n}" for n in range(6)]
    for name in names:
        await finish(Chat(engine, name), code, ["1", "2", "3"])
    campaign = await store.read(partial(campaign_by_code, code=codes.canonical(code) or ""))
    assert campaign is not None
    sets = await store.read(partial(answer_sets, campaign_id=campaign.id, round_=1, min_group=5))
    assert sets is not None
    framework = frameworks.get("pulse-test")
    assert framework is not None
    text = answer_sets_csv(framework, sets)
    lines = text.strip().split("\n")
    assert lines[0] == "pseudonym,round,framework_version,group,morale,pace,quality"
    assert len(lines) == 6  # the five published; the sixth waits for four more
    assert all(line.split(",")[4:] == ["1", "2", "3"] for line in lines[1:])
    assert not any(name in text for name in names)
    assert [line.split(",")[0] for line in lines[1:]] == sorted(line.split(",")[0] for line in lines[1:])


async def test_my_data_shows_campaigns_joined_and_run(store: Store, frameworks: FrameworkRegistry) -> None:
    engine = Engine(frameworks, store)
    code = await admin_campaign(store, frameworks, groups=("North", "South"))
    person = Chat(engine, "member")
    await person.say(f"/join {code}")
    await person.say("South")
    await person.say("3")
    shown = await person.text("/mydata")
    assert "Campaign Team check: group South; started (round 1)." in shown
    owner = await Chat(engine, "owner").text("/mydata")
    assert f"You run the campaign Team check ({code}) as owner." in owner
