"""Reminders through real channels, with the scheduler's clock moved on by days: at most the set
number per person and never within the set gap (the defaults, and a campaign's own limits); and a
reminder waiting to go reaches nobody who finished, left or blocked the bot meanwhile, whether it
is pushed (a webhook callback URL, Telegram through the fake Bot API) or shown when they write."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot import scheduler
from bot.scheduler import SCHEDULER
from dialogs import codes
from dialogs.campaign_dialogue import DEFAULT_MAX_REMINDERS, DEFAULT_REMINDER_GAP_HOURS, new_campaign
from dialogs.engine import Engine
from storage import campaign_admin as admin
from storage import campaign_reads as reads
from storage.campaign_records import REMIND_JOB, CampaignRecord
from storage.campaign_repository import campaign_by_code
from tests.telegram_fake.server import FakeBotAPI
from tests.telegram_fake.user import FakeUser
from tests.test_campaign_telegram import answer_with_buttons, last_id, said_after
from tests.test_campaign_webhook import create, settings_with_test_frameworks
from tests.test_telegram_harness import BotUnderTest, button_rows, running_bot
from tests.test_webhook_callbacks import Receiver, receiving
from tests.webhook_support import running_app, say, texts

Client = TestClient[web.Request, web.Application]


async def admin_campaign(engine: Engine, max_reminders: int, gap_hours: int) -> CampaignRecord:
    """A pulse-test campaign made as `cxbot campaign create` makes it, with these reminder limits."""
    framework = engine.context.frameworks.get("pulse-test")
    assert framework is not None
    change = new_campaign(
        framework.id,
        framework.version,
        "Slow team",
        max_reminders=max_reminders,
        reminder_gap_hours=gap_hours,
    )
    return await engine.store.run(partial(admin.create, change=change, owner_channel="test", owner="owner"))


async def outcomes(engine: Engine, code: str) -> dict[str, int]:
    campaign = await engine.store.read(partial(campaign_by_code, code=codes.canonical(code) or ""))
    assert campaign is not None
    return await engine.store.read(partial(reads.nudge_outcomes, campaign=campaign))


def pushed_now(receiver: Receiver) -> list[list[dict[str, Any]]]:
    """Everything the receiver has been sent so far (a tick awaits its pushes, so nothing is late)."""
    found = []
    while not receiver.delivered.empty():
        found.append(receiver.delivered.get_nowait())
    return found


@pytest.mark.parametrize(
    ("limits", "reminded_on_days"),
    [
        ((DEFAULT_MAX_REMINDERS, DEFAULT_REMINDER_GAP_HOURS), [1, 3, 5]),  # 3 reminders, 2 days apart
        ((2, 72), [1, 4]),
    ],
)
async def test_a_daily_reminder_keeps_to_the_limit_and_the_gap(
    tmp_path: Path, limits: tuple[int, int], reminded_on_days: list[int]
) -> None:
    receiver = Receiver()
    settings = settings_with_test_frameworks(tmp_path, callback_allow_private=True, scheduler_seconds=3600)
    async with receiving(receiver) as hook, running_app(settings) as (client, engine):
        made = await admin_campaign(engine, *limits)
        code = codes.shown(made.code)
        for text in (f"/join {code}", "3"):  # joined, and stopped after question 1
            await say(client, "slow-1", text, metadata={"callback_url": hook})
            await receiver.next()
        start = datetime.now(UTC)
        await engine.store.run(partial(admin.schedule_every, campaign=made, kind=REMIND_JOB, days=1))
        work = client.app[SCHEDULER]
        reminded = []
        for day in range(1, 9):
            work.clock = partial(lambda moment: moment, start + timedelta(days=day, minutes=1))
            await work.tick()
            pushes = pushed_now(receiver)
            if pushes:
                assert [m["recipient_id"] for m in pushes[0]] == ["slow-1"]
                assert pushes[0][0]["text"].startswith("A reminder from Slow team")
                reminded.append(day)
            assert len(pushes) <= 1
        assert reminded == reminded_on_days
        assert await outcomes(engine, code) == {"sent": len(reminded_on_days)}


async def test_a_waiting_reminder_skips_who_finished_or_left_meanwhile(tmp_path: Path) -> None:
    """Six people stop after question 1 and are reminded; before the reminder goes out, two finish and
    two leave (one of each with a callback URL, one of each answered in the HTTP response): neither
    sees it as they finish or leave, and it is pushed to, or shown to, only the two still waiting."""
    receiver = Receiver()
    settings = settings_with_test_frameworks(tmp_path, callback_allow_private=True, scheduler_seconds=3600)
    async with receiving(receiver) as hook, running_app(settings) as (client, engine):
        code, _ = await create(client)
        pushed = {"metadata": {"callback_url": hook}}
        people: dict[str, dict[str, Any]] = {
            "finisher": pushed,
            "leaver": pushed,
            "waiting": pushed,
            "inline-finisher": {},
            "inline-leaver": {},
            "inline-waiting": {},
        }

        async def said(sender: str, text: str) -> str:
            """What the person was told, in the HTTP answer or at their callback URL."""
            answer = await say(client, sender, text, **people[sender])
            return texts(await receiver.next()) if people[sender] else texts(answer)

        for sender in people:
            assert "Question 1 of 3" in await said(sender, f"/join {code}")
            assert "Question 2 of 3" in await said(sender, "3")
        queued = texts(await say(client, "facilitator-1", f"/campaign remind {code}"))
        assert "Reminding 6 people" in queued

        for sender in ("finisher", "inline-finisher"):
            told = [await said(sender, value) for value in "34"]
            assert "count towards Service desk check" in told[-1]
            assert not any("A reminder" in text for text in told), told
        for sender in ("leaver", "inline-leaver"):
            told_leaving = await said(sender, f"/leave {code}")
            assert "You&#x27;ve left Service desk check" in told_leaving
            assert "A reminder" not in told_leaving

        await client.app[SCHEDULER].tick()
        pushes = pushed_now(receiver)
        assert [[m["recipient_id"] for m in push] for push in pushes] == [["waiting"]]
        assert pushes[0][0]["text"].startswith("A reminder from Service desk check")
        assert (await said("inline-waiting", "/help")).startswith("A reminder from Service desk check")
        for sender in ("finisher", "inline-finisher", "leaver", "inline-leaver"):
            assert "A reminder" not in await said(sender, "/help")
        assert pushed_now(receiver) == []
        status = texts(await say(client, "facilitator-1", f"/campaign status {code}"))
        assert "Reminders: 2 reached, 0 waiting to be seen, 0 couldn&#x27;t be delivered." in status


# --- Telegram -------------------------------------------------------------------------------------


async def create_in_telegram(bot: BotUnderTest, owner: FakeUser, title: str) -> str:
    mark = last_id(owner)
    await owner.send_text(f"/campaign new cx-pulse {title}")
    created = await said_after(bot, owner, f"Campaign created: {title}", after=mark)
    code = (created.text or "").split("Join code: ", 1)[1][:9]
    assert codes.canonical(code), created.text
    return code


async def join_and_stop(bot: BotUnderTest, user: FakeUser, code: str, title: str) -> None:
    """Join by the deep link's `/start CODE`, answer question 1 with its button, and stop there."""
    mark = last_id(user)
    await user.send_text(f"/start {code}")
    await said_after(bot, user, title, after=mark)
    question = await bot.wait_for(user, "Question 1 of 5", after=mark)
    label = next(row[0] for row in button_rows(question) if row[0].startswith("3 - "))
    await user.press(label, message=question)
    await user.wait_for_callback_answer()
    await bot.wait_for(user, "Question 2 of 5", after=question.message_id)


def attempts_to(fake: FakeBotAPI, user: FakeUser) -> list[int]:
    """The status of every message the bot tried to send the user, refused ones included."""
    return [
        call.status
        for call in fake.calls()
        if call.method in ("sendMessage", "sendPhoto")
        and str(call.params.get("chat_id", call.raw_params.get("chat_id"))) == str(user.id)
    ]


@pytest.mark.parametrize("batch", [1, scheduler.PUSH_BATCH])
async def test_telegram_reminders_skip_who_finished_left_or_blocked_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    """Reminders are queued while the server's scheduler is not looking (it looks at start, then once
    an hour); then one person finishes, one leaves and one, reminded by two campaigns, blocks the bot.
    After a restart the scheduler pushes: the first push to the blocker gets 403 and marks them
    inactive, and the second is never tried, whether it came in the same batch or in a later one."""
    monkeypatch.setattr(scheduler, "PUSH_BATCH", batch)
    async with FakeBotAPI() as fake:
        owner = FakeUser(fake, 500, "Fatima")
        finisher, leaver, blocker, waiting = (FakeUser(fake, 601 + n, f"P{n}") for n in range(4))
        async with running_bot(tmp_path, server=fake, scheduler_seconds=3600) as bot:
            first = await create_in_telegram(bot, owner, "Desk one")
            second = await create_in_telegram(bot, owner, "Desk two")
            for user in (finisher, leaver, blocker, waiting):
                await join_and_stop(bot, user, first, "Desk one")
            await join_and_stop(bot, blocker, second, "Desk two")
            for code, count in ((first, 4), (second, 1)):
                mark = last_id(owner)
                await owner.send_text(f"/campaign remind {code}")
                await said_after(bot, owner, f"Reminding {count} people", after=mark)

            mark = last_id(finisher)
            await answer_with_buttons(bot, finisher, [3, 3, 3, 3], first=2)
            await said_after(bot, finisher, "Your answers now count towards Desk one", after=mark)
            mark = last_id(leaver)
            await leaver.send_text(f"/leave {first}")
            await said_after(bot, leaver, "You've left Desk one", after=mark)
            blocker.block_bot()
        marks = {user.id: last_id(user) for user in (finisher, leaver, blocker)}

        async with running_bot(tmp_path, server=fake, scheduler_seconds=0.05) as bot:
            await said_after(bot, waiting, "A reminder from Desk one")
            await fake.wait_until(lambda: 403 in attempts_to(fake, blocker), what="a push to the blocker")
            await asyncio.sleep(0.5)  # ten more looks of the scheduler
            assert attempts_to(fake, blocker).count(403) == 1
            for user in (finisher, leaver):
                later = [m.text or "" for m in user.bot_messages() if m.message_id > marks[user.id]]
                assert later == []
            assert not any(
                "A reminder" in (m.text or "") for m in finisher.bot_messages() + leaver.bot_messages()
            )
            assert await outcomes(bot.engine, first) == {"sent": 1, "unreachable": 1, "dropped": 2}
            assert (await bot.participant(blocker)) == ("P2", True)


async def test_a_waiting_reminder_of_a_campaign_closed_meanwhile_goes_to_nobody(tmp_path: Path) -> None:
    receiver = Receiver()
    settings = settings_with_test_frameworks(tmp_path, callback_allow_private=True, scheduler_seconds=3600)
    async with receiving(receiver) as hook, running_app(settings) as (client, engine):
        code, _ = await create(client)
        pushed = {"metadata": {"callback_url": hook}}
        for text in (f"/join {code}", "3"):
            await say(client, "pushed", text, **pushed)
            await receiver.next()
            await say(client, "inline", text)
        assert "Reminding 2 people" in texts(await say(client, "facilitator-1", f"/campaign remind {code}"))
        assert "is closed" in texts(await say(client, "facilitator-1", f"/campaign close {code}"))
        await client.app[SCHEDULER].tick()
        assert pushed_now(receiver) == []
        told = texts(await say(client, "inline", "/help"))
        assert "Service desk check has closed" in told
        assert "A reminder" not in told
        assert await outcomes(engine, code) == {"pending": 1, "dropped": 1}  # unclaimed, not sent
        await say(client, "pushed", "/help", **pushed)
        assert "A reminder" not in texts(await receiver.next())
        assert await outcomes(engine, code) == {"dropped": 2}
