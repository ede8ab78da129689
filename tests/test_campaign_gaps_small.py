"""Smaller campaign promises, through the engine on SQLite and PostgreSQL: a campaign past its closing
date refuses joining before its close job has run; `/start` with two open campaign attempts offers
both; status times are to the hour; one person's pseudonyms differ between campaigns; a
co-facilitator invitation works once and only for 7 days. Time moves by a clock put in the
conversation's place (every step reads the time there)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from dialogs import codes
from dialogs import conversation as conversation_module
from dialogs.campaign_dialogue import new_campaign
from dialogs.engine import Engine
from dialogs.report_csv import answer_sets_csv
from frameworks.registry import FrameworkRegistry
from storage import campaign_admin as admin
from storage.campaign_records import CampaignRecord
from storage.campaign_repository import campaign_by_code
from storage.response_rows import answer_sets
from storage.store import Store
from tests.chat import Chat
from tests.test_campaigns import create, finish


class Clock:
    """Moves the time every conversation step sees (`dialogs.conversation.datetime`) on by `ahead`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.ahead = timedelta()
        clock = self

        class Later(datetime):
            @classmethod
            def now(cls, tz: object = None) -> Later:
                moment = datetime.now(UTC) + clock.ahead
                return cls.fromtimestamp(moment.timestamp(), UTC)

        monkeypatch.setattr(conversation_module, "datetime", Later)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


async def made_by_admin(store: Store, frameworks: FrameworkRegistry, **options: object) -> CampaignRecord:
    framework = frameworks.get("pulse-test")
    assert framework is not None
    change = new_campaign(framework.id, framework.version, "Team check", **options)  # type: ignore[arg-type]
    return await store.run(partial(admin.create, change=change, owner_channel="test", owner="owner"))


async def reload(store: Store, code: str) -> CampaignRecord:
    found = await store.read(partial(campaign_by_code, code=codes.canonical(code) or ""))
    assert found is not None
    return found


async def test_a_campaign_past_its_closing_date_refuses_before_its_close_job_runs(
    store: Store, frameworks: FrameworkRegistry, clock: Clock
) -> None:
    engine = Engine(frameworks, store)
    made = await made_by_admin(store, frameworks, closes_at=datetime.now(UTC) + timedelta(days=1))
    code = codes.shown(made.code)
    early = Chat(engine, "early")
    await early.say(f"/join {code}")
    await early.say("2")  # part-way through
    await early.say("/start pulse-test")  # and now on an attempt of their own
    clock.ahead = timedelta(days=1, minutes=1)
    assert (await reload(store, code)).closed_at is None  # no scheduler has closed it
    closed = "Team check has closed, so it no longer takes answers."
    for typed in (f"/join {code}", f"/start {code}", f"/join {code.lower().replace('-', '')}"):
        told = await Chat(engine, "late").text(typed)
        assert closed in told, told
        assert "Question" not in told
    back = await early.text(f"/start {code}")  # their attempt there is not taken up again
    assert "Team check has closed, so your unfinished answers there no longer count." in back, back
    assert "Welcome back" not in back
    assert "Question 2 of 3" not in back


async def test_start_offers_both_open_campaign_attempts(store: Store, frameworks: FrameworkRegistry) -> None:
    engine = Engine(frameworks, store)
    owner = Chat(engine, "owner")
    first = await create(owner, title="North check")
    second = await create(owner, title="South check")
    person = Chat(engine, "both")
    for code in (first, second):
        assert "Question 1 of 3" in await person.text(f"/join {code}")
        assert "Question 2 of 3" in await person.text("3")
    told = await person.text("/start")
    assert "Welcome back to South check: you're on question 2 of 3." in told
    assert f"Also in progress: North check (/start {first})." in told
    switched = await person.text(f"/start {first}")
    assert "Welcome back to North check: you're on question 2 of 3." in switched
    assert f"Also in progress: South check (/start {second})." in switched


def to_the_hour(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:00 UTC")


async def test_status_times_are_to_the_hour(store: Store, frameworks: FrameworkRegistry) -> None:
    engine = Engine(frameworks, store)
    owner = Chat(engine, "owner")
    before = datetime.now(UTC)
    code = await create(owner)
    await finish(Chat(engine, "quick"), code, ["2", "3", "4"])
    slow = Chat(engine, "slow")
    await slow.say(f"/join {code}")
    await slow.say("2")
    status = await owner.text(f"/campaign status {code}")
    after = datetime.now(UTC)
    hours = {to_the_hour(before), to_the_hour(after)}
    found = re.search(r"Last joined: (.*)\. Last started: (.*)\. Last finished: (.*)\.", status)
    assert found, status
    assert set(found.groups()) <= hours, (found.groups(), hours)
    assert not re.search(r"\d\d:\d\d:\d\d|:[1-5]\d UTC|:0[1-9] UTC", status)  # no minutes or seconds


async def test_one_persons_pseudonyms_differ_between_campaigns(
    store: Store, frameworks: FrameworkRegistry
) -> None:
    engine = Engine(frameworks, store)
    owner = Chat(engine, "owner")
    first, second = await create(owner, title="North check"), await create(owner, title="South check")
    people = [Chat(engine, f"same-{n}") for n in range(5)]
    pseudonyms = []
    for code in (first, second):
        for person in people:
            await finish(person, code, ["2", "3", "4"])
        campaign = await reload(store, code)
        sets = await store.read(partial(answer_sets, campaign_id=campaign.id, round_=1, min_group=5))
        assert sets is not None
        framework = frameworks.get("pulse-test")
        assert framework is not None
        rows = list(csv.DictReader(io.StringIO(answer_sets_csv(framework, sets))))
        pseudonyms.append({row["pseudonym"] for row in rows})
    assert [len(found) for found in pseudonyms] == [5, 5]
    assert not pseudonyms[0] & pseudonyms[1]


INVITATION = re.compile(r"code to your co-facilitator: ([A-Z2-9-]{14})")


async def invite(owner: Chat, code: str) -> str:
    told = await owner.text(f"/campaign add-facilitator {code}")
    found = INVITATION.search(told)
    assert found, told
    assert "It works once, within 7 days." in told
    return found.group(1)


async def test_an_invitation_works_once_and_for_seven_days(
    store: Store, frameworks: FrameworkRegistry, clock: Clock
) -> None:
    engine = Engine(frameworks, store)
    owner = Chat(engine, "owner")
    code = await create(owner)
    refused = f"You don't run a campaign with the code {code}."
    kept, lapsed = await invite(owner, code), await invite(owner, code)

    clock.ahead = timedelta(days=7) - timedelta(minutes=1)
    helper, second_user = Chat(engine, "helper"), Chat(engine, "second")
    assert "You're now a facilitator of Team check" in await helper.text(f"/campaign accept {kept}")
    assert "isn't valid" in await second_user.text(f"/campaign accept {kept}")  # used once already
    assert "isn't valid" in await helper.text(f"/start {kept}")
    assert await second_user.text(f"/campaign status {code}") == f"\n{refused}"

    clock.ahead = timedelta(days=7, minutes=1)
    late = Chat(engine, "late")
    assert "That invitation has expired. Ask for a new one." in await late.text(f"/campaign accept {lapsed}")
    assert "That invitation has expired" in await late.text(f"/start {lapsed}")
    assert await late.text(f"/campaign status {code}") == f"\n{refused}"
    assert "Team check (" in await helper.text(f"/campaign status {code}")
