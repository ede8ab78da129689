"""Campaigns through the engine on SQLite and PostgreSQL: create, join, finish, report, privacy."""

from __future__ import annotations

import re

from dialogs.engine import Engine
from dialogs.types import ReplyKind
from frameworks.registry import FrameworkRegistry
from storage.store import Store
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
