"""A campaign end to end through the REST webhook and the dashboard, on the real app over SQLite:
create, join by code, finish, the report withheld then shown (and unchanged by one more finisher),
reminders pushed to the unfinished, refusals, exports without identity, groups, and a pulse's trend
over three rounds."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.settings import Settings
from tests.conftest import DATA
from tests.test_webhook_callbacks import Receiver, receiving
from tests.webhook_support import running_app, say, settings_for, texts

Client = TestClient[web.Request, web.Application]


def settings_with_test_frameworks(tmp_path: Path, **overrides: Any) -> Settings:
    """The app's settings with the tests' small frameworks installed too (pulse-test: 3 questions)."""
    return settings_for(tmp_path, frameworks_path=str(DATA / "frameworks"), **overrides)


async def create(
    client: Client, owner: str = "facilitator-1", framework: str = "pulse-test"
) -> tuple[str, str]:
    """(join code, dashboard path) of a new campaign made in the chat."""
    created = texts(await say(client, owner, f"/campaign new {framework} Service desk check"))
    code = re.search(r"Join code: ([A-Z2-9]{4}-[A-Z2-9]{4})", created)
    dashboard = re.search(r"\((https?://[^)]+/dashboard/[A-Za-z0-9_-]+)\)", created)
    assert code, created
    assert dashboard, created
    return code.group(1), dashboard.group(1).split("/", 3)[3]


async def finish(client: Client, sender: str, code: str, values: str = "234", **extra: Any) -> str:
    said = texts(await say(client, sender, f"/join {code}", **extra))
    assert "answers without names" in said, said
    for value in values:
        said = texts(await say(client, sender, value, **extra))
    return said


async def report(client: Client, dashboard: str) -> dict[str, Any]:
    response = await client.get(f"/{dashboard}/report.json")
    assert response.status == 200
    data: dict[str, Any] = await response.json()
    return data


async def test_a_campaign_through_the_webhook(tmp_path: Path) -> None:
    receiver = Receiver()
    settings = settings_with_test_frameworks(tmp_path, callback_allow_private=True, scheduler_seconds=0.1)
    async with receiving(receiver) as hook, running_app(settings) as (client, _):
        code, dashboard = await create(client)
        for n in range(1, 5):
            assert "count towards Service desk check" in await finish(client, f"crm-contact-{n}", code)
        withheld = await report(client, dashboard)
        assert (withheld["completed"], withheld["withheld"], withheld["overall"]["score"]) == (0, True, None)
        assert (withheld["pending"], withheld["needed"], withheld["progress"]["completed"]) == (4, 1, 4)
        assert withheld["questions"] == []
        assert "1 more needed" in texts(await say(client, "facilitator-1", f"/campaign report {code}"))
        assert (await client.get(f"/{dashboard}/responses.csv")).status == 409

        await finish(client, "crm-contact-5", code)
        shown = await report(client, dashboard)
        assert (shown["completed"], shown["withheld"], shown["overall"]["stage"]) == (5, False, "high")
        assert shown["overall"]["score"] == 3.0
        assert [d["score"] for d in shown["dimensions"]] == [2.0, 3.5]
        chat_report = await say(client, "facilitator-1", f"/campaign report {code}")
        assert "Group stage: High (3.0 of 4), from 5 people who finished." in texts(chat_report)
        images = [m["image"] for m in chat_report if "image" in m]
        assert images
        for image in images:
            picture = await client.get("/" + image.split("/", 3)[3])
            assert picture.status == 200
            assert picture.content_type == "image/png"

        await finish(client, "crm-contact-6", code)
        sixth = await report(client, dashboard)  # the sixth waits for four more: nothing else changed
        assert (sixth["completed"], sixth["pending"], sixth["overall"]) == (5, 1, shown["overall"])
        assert "Not in the report yet: 1 finished answer set(s)." in sixth["pending_note"]
        halfway = {"metadata": {"callback_url": hook}}
        await say(client, "crm-contact-7", f"/join {code}", **halfway)
        await say(client, "crm-contact-7", "3", **halfway)
        for _ in range(2):  # the acknowledgements of those two messages
            await receiver.next()

        refused = texts(await say(client, "crm-contact-2", f"/campaign report {code}"))
        assert refused == f"You don&#x27;t run a campaign with the code {code}."
        queued = texts(await say(client, "facilitator-1", f"/campaign remind {code}"))
        assert "Reminding 1 people" in queued
        pushed = await receiver.next()  # the scheduler pushes it to the bridge, unasked
        assert pushed[0]["recipient_id"] == "crm-contact-7"
        assert "A reminder from Service desk check" in pushed[0]["text"]
        assert pushed[0]["buttons"] == [{"title": "Continue Service desk check", "payload": f"/start {code}"}]
        await asyncio.sleep(0.3)
        assert receiver.delivered.empty()  # nobody else was nudged
        status = texts(await say(client, "facilitator-1", f"/campaign status {code}"))
        assert "7 joined; 6 finished, 1 part-way through" in status
        assert "In the report: 5 finished answer set(s)." in status
        assert "Not in the report yet: 1 finished answer set(s)." in status
        assert "Reminders: 1 reached" in status

        csv = await client.get(f"/{dashboard}/responses.csv")
        body = await csv.text()
        assert body.startswith("pseudonym,round,framework_version,group,morale,pace,quality\n")
        assert len(body.strip().split("\n")) == 6  # the five in the report
        assert "crm-contact" not in body
        assert "facilitator" not in body


async def test_a_pulse_shows_its_trend_over_three_rounds(tmp_path: Path) -> None:
    async with running_app(settings_with_test_frameworks(tmp_path)) as (client, _):
        code, dashboard = await create(client)
        team = [f"team-{n}" for n in range(5)]
        for round_, values in ((1, "111"), (2, "222"), (3, "444")):
            if round_ > 1:
                opened = texts(await say(client, "facilitator-1", f"/campaign round {code}"))
                assert f"Round {round_} of Service desk check is open" in opened
            for person in team:
                notice = texts(await say(client, person, f"/start {code}"))
                assert "Question 1 of 3" in notice
                for value in values:
                    await say(client, person, value)
        data = await report(client, dashboard)
        assert [(p["round"], p["overall"]["score"]) for p in data["trend"]] == [(1, 1.0), (2, 2.0), (3, 4.0)]
        text = texts(await say(client, "facilitator-1", f"/campaign report {code}"))
        assert "Delivery: 1.0 -&gt; 2.0 -&gt; 4.0" in text  # HTML-safe Markdown
        trend = await client.get(f"/{dashboard}/trend.png")
        assert trend.status == 200
        assert (await trend.read()).startswith(b"\x89PNG")
        first = await report_round(client, dashboard, 1)
        assert (first["campaign"]["round"], first["overall"]["score"]) == (1, 1.0)


async def report_round(client: Client, dashboard: str, number: int) -> dict[str, Any]:
    response = await client.get(f"/{dashboard}/report.json", params={"round": str(number)})
    assert response.status == 200
    data: dict[str, Any] = await response.json()
    return data


async def test_an_unknown_dashboard_says_nothing(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        for path in (
            "/dashboard/nope/report.json",
            "/dashboard/nope/responses.csv",
            "/dashboard/nope/levels.png",
        ):
            response = await client.get(path)
            assert response.status == 404
            assert response.headers["Cache-Control"] == "no-store"
            assert (await response.json()) == {"error": "there is no dashboard at this address"}
        page = await client.get("/dashboard/nope")  # the page itself says the link does not work
        assert (page.status, page.content_type) == (404, "text/html")
        assert page.headers["Referrer-Policy"] == "no-referrer"
