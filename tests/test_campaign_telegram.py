"""A campaign end to end in Telegram (aiogram against the fake Bot API): a facilitator creates it in
the chat, people join with the deep link's /start CODE and answer with buttons, the report is
withheld then shown with its charts, a reminder is pushed only to the one who has not finished,
groups are chosen with buttons, and a pulse's trend shows over three rounds."""

from __future__ import annotations

import csv
import io
import re
from functools import partial
from pathlib import Path

from dialogs import codes
from dialogs.campaign_dialogue import new_campaign
from dialogs.report_csv import answer_sets_csv
from storage import campaign_admin as admin
from storage.campaign_repository import campaign_by_code
from storage.response_rows import answer_sets
from tests.telegram_fake.models import StoredMessage
from tests.telegram_fake.user import FakeUser
from tests.test_telegram_harness import BotUnderTest, button_rows, running_bot

PULSE = "cx-pulse"


async def said_after(bot: BotUnderTest, user: FakeUser, starts: str, after: int = 0) -> StoredMessage:
    return await bot.wait_for(user, starts, after=after)


def last_id(user: FakeUser) -> int:
    messages = user.bot_messages()
    return messages[-1].message_id if messages else 0


async def create(bot: BotUnderTest, owner: FakeUser) -> str:
    await owner.send_text(f"/campaign new {PULSE} Service desk")
    created = await bot.wait_for(owner, "Campaign created: Service desk")
    found = re.search(r"Join code: ([A-Z2-9]{4}-[A-Z2-9]{4})", created.text or "")
    assert found, created.text
    return found.group(1)


async def answer_with_buttons(bot: BotUnderTest, user: FakeUser, levels: list[int], first: int = 1) -> None:
    """Press one level on each question from question `first` on."""
    for number, level in enumerate(levels, start=first):
        question = await bot.wait_for(user, f"Question {number} of 5", after=0)
        label = next(row[0] for row in button_rows(question) if row[0].startswith(f"{level} - "))
        await user.press(label, message=question)
        await user.wait_for_callback_answer()


async def join(bot: BotUnderTest, user: FakeUser, code: str) -> None:
    """Join as the deep link does (`/start CODE`)."""
    mark = last_id(user)
    await user.send_text(f"/start {code}")
    notice = await said_after(bot, user, "Service desk", after=mark)
    assert "answers without names" in (notice.text or "")


async def test_a_campaign_in_telegram(tmp_path: Path) -> None:
    async with running_bot(tmp_path, scheduler_seconds=0.1) as bot:
        owner = FakeUser(bot.server, 500, "Fatima")
        code = await create(bot, owner)
        created = await bot.wait_for(owner, "Campaign created")
        links = [entity.get("url") for entity in created.entities if entity["type"] == "text_link"]
        assert f"https://t.me/{bot.server.state.bot_username}?start={code}" in links
        assert "Your dashboard (private): /dashboard/" in (created.text or "")  # no public URL set
        people = [FakeUser(bot.server, 601 + n, f"Person{n}") for n in range(6)]
        for person in people[:4]:
            await join(bot, person, code)
            await answer_with_buttons(bot, person, [2, 3, 4, 3, 3])
            await said_after(bot, person, "Your answers now count towards Service desk")

        mark = last_id(owner)
        await owner.send_text(f"/campaign report {code}")
        withheld = await said_after(bot, owner, "Service desk: group report", after=mark)
        assert "4 have so far, so 1 more needed" in (withheld.text or "")
        photos_before = len(owner.photos())

        await join(bot, people[4], code)
        await answer_with_buttons(bot, people[4], [2, 3, 4, 3, 3])
        await said_after(bot, people[4], "Your answers now count towards Service desk")
        mark = last_id(owner)
        await owner.send_text(f"/campaign report {code}")
        shown = await said_after(bot, owner, "Service desk: group report", after=mark)
        assert "Group stage: Targeted (3.0 of 5), from 5 people who finished." in (shown.text or "")
        await said_after(bot, owner, "Road map: quick wins first", after=mark)
        assert len(owner.photos()) >= photos_before + 2  # the profile and the answers per level
        await join(bot, people[5], code)
        await answer_with_buttons(bot, people[5], [2, 3, 4, 3, 3])
        await said_after(bot, people[5], "Your answers now count towards Service desk")
        exported = await csv_of(bot, code)
        assert len(exported.strip().split("\n")) == 6  # the sixth waits until four more have finished
        assert_no_identity(exported, people)
        mark = last_id(owner)
        await owner.send_text(f"/campaign report {code}")
        again = await said_after(bot, owner, "Service desk: group report", after=mark)
        assert "Group stage: Targeted (3.0 of 5), from 5 people who finished." in (again.text or "")
        assert "Not in the report yet: 1 finished answer set(s)." in (again.text or "")

        halfway = FakeUser(bot.server, 700, "Halfway")
        await join(bot, halfway, code)
        await answer_with_buttons(bot, halfway, [4])
        await bot.wait_for(halfway, "Question 2 of 5")

        stranger = people[0]
        mark = last_id(stranger)
        await stranger.send_text(f"/campaign status {code}")
        refused = await said_after(bot, stranger, "You don't run", after=mark)
        assert refused.text == f"You don't run a campaign with the code {code}."

        marks = {person.id: last_id(person) for person in people}
        mark = last_id(halfway)
        await owner.send_text(f"/campaign remind {code}")
        await said_after(bot, owner, "Reminding 1 people")
        reminder = await said_after(bot, halfway, "A reminder from Service desk", after=mark)
        assert button_rows(reminder) == [["Continue Service desk"]]
        await halfway.press("Continue Service desk", message=reminder)
        await bot.wait_for(halfway, "Question 2 of 5", after=reminder.message_id)
        for person in people:  # nobody who finished was nudged
            assert not any(
                "A reminder" in (m.text or "")
                for m in person.bot_messages()
                if m.message_id > marks[person.id]
            )


def assert_no_identity(exported: str, people: list[FakeUser]) -> None:
    """No cell of the CSV is a person's chat id or name, in any column (compared cell by cell: a
    random pseudonym may well contain the digits of a chat id)."""
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[0][:4] == ["pseudonym", "round", "framework_version", "group"]
    identities = {str(p.id) for p in people} | {p.first_name for p in people}
    cells = {cell for row in rows[1:] for cell in row}
    assert not cells & identities, cells & identities
    assert not any(p.first_name in exported for p in people)


async def csv_of(bot: BotUnderTest, code: str) -> str:
    """The campaign's CSV export, as the dashboard and the CLI make it."""
    campaign = await bot.engine.store.read(partial(campaign_by_code, code=codes.canonical(code) or ""))
    assert campaign is not None
    sets = await bot.engine.store.read(partial(answer_sets, campaign_id=campaign.id, round_=1, min_group=5))
    framework = bot.engine.context.frameworks.get(PULSE)
    assert sets is not None
    assert framework is not None
    return answer_sets_csv(framework, sets)


async def test_groups_are_chosen_with_buttons(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        framework = bot.engine.context.frameworks.get(PULSE)
        assert framework is not None
        change = new_campaign(
            PULSE, framework.version, "Service desk", groups=("Front office", "Back office")
        )
        made = await bot.engine.store.run(
            partial(admin.create, change=change, owner_channel="telegram", owner="500")
        )
        person = FakeUser(bot.server, 800, "Grace")
        await person.send_text(f"/start {codes.shown(made.code)}")
        choice = await bot.wait_for(person, "Service desk")
        assert "Which group are you in?" in (choice.text or "")
        assert button_rows(choice) == [["Front office"], ["Back office"]]
        await person.press("Back office", message=choice)
        await bot.wait_for(person, "Question 1 of 5", after=choice.message_id)


async def test_a_pulse_trend_in_telegram(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        owner = FakeUser(bot.server, 500, "Fatima")
        code = await create(bot, owner)
        team = [FakeUser(bot.server, 901 + n, f"T{n}") for n in range(5)]
        for round_, level in ((1, "1"), (2, "3"), (3, "5")):
            if round_ > 1:
                await owner.send_text(f"/campaign round {code}")
                await said_after(bot, owner, f"Round {round_} of Service desk is open")
            for person in team:
                mark = last_id(person)
                await person.send_text(f"/start {code}")
                for number in range(1, 6):
                    question = await said_after(bot, person, f"Question {number} of 5", after=mark)
                    mark = question.message_id
                    await person.send_text(level)
                await said_after(bot, person, "Your answers now count", after=mark)
        mark = last_id(owner)
        await owner.send_text(f"/campaign report {code}")
        trend = await said_after(bot, owner, "Trend across rounds", after=mark)
        assert "CX pulse: 1.0 -> 3.0 -> 5.0" in (trend.text or "")
