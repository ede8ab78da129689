"""Who a webhook sender is: signed bridges and web visitors side by side and kept apart, visitor ids
the server issues, signed requests that cannot be replayed, and rate limits that refuse a flood
before anything is stored."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from tests.test_webhook_signatures import JSON, signed
from tests.webhook_support import REST, running_app, say, settings_for, texts

SECRET = "bridge-secret"
VISITORS = "/webhooks/rest/visitors"
ISSUED = re.compile(r"v1\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}")


async def bridge_says(client: TestClient[Any, Any], sender: str, message: str, **metadata: Any) -> Any:
    """A message from a signed bridge (the JSON answer; must be 200)."""
    body = json.dumps({"sender": sender, "message": message, "metadata": metadata}).encode()
    response = await client.post(REST, data=body, headers=signed(body, int(time.time()), SECRET))
    assert response.status == 200, await response.text()
    return await response.json()


async def new_visitor(client: TestClient[Any, Any], **headers: str) -> str:
    response = await client.post(VISITORS, headers=headers)
    assert response.status == 201, await response.text()
    sender = (await response.json())["sender"]
    assert isinstance(sender, str)
    return sender


async def test_an_unsigned_request_cannot_act_as_a_bridges_person(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path, webhook_secret=SECRET)) as (client, _):
        await bridge_says(client, "crm-contact-981", "/start cx-maturity")
        await bridge_says(client, "crm-contact-981", "4")
        mine = texts(await say(client, "crm-contact-981", "/mydata"))
        assert "Nothing is stored about you yet" in mine
        await say(client, "crm-contact-981", "/deletemydata")
        await say(client, "crm-contact-981", "/yes delete")
        review = texts(await bridge_says(client, "crm-contact-981", "/review"))
        assert "1. Leadership and culture: 4 - Personalized" in review
        theirs = texts(await bridge_says(client, "crm-contact-981", "/mydata"))
        assert "Leadership and culture" in theirs


async def test_the_web_chat_and_signed_bridges_work_side_by_side(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path, webhook_secret=SECRET)) as (client, _):
        visitor = await new_visitor(client)
        assert "Question 1 of 11" in texts(await say(client, visitor, "/start cx-maturity"))
        assert "Question 2 of 11" in texts(await say(client, visitor, "3"))
        assert "Question 1 of 11" in texts(await bridge_says(client, visitor, "/start cx-maturity"))
        assert "3 - " in texts(await say(client, visitor, "/review"))  # each kept their own run


async def test_issued_visitor_ids_are_unguessable_and_distinct(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        ids = {await new_visitor(client) for _ in range(20)}
        assert len(ids) == 20
        assert all(ISSUED.fullmatch(sender) for sender in ids)


async def test_only_issued_ids_are_taken_when_so_configured(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, web_visitors="issued")
    async with running_app(settings) as (client, _):
        made_up = await client.post(REST, json={"sender": "visitor-1", "message": "/help"})
        assert made_up.status == 401
        assert VISITORS in (await made_up.json())["error"]
        visitor = await new_visitor(client)
        tampered = visitor[:-2] + ("AA" if not visitor.endswith("AA") else "BB")
        assert (await client.post(REST, json={"sender": tampered, "message": "/help"})).status == 401
        assert await say(client, visitor, "/help")
    async with running_app(settings) as (client, _):  # a restart keeps the key: the id still works
        assert await say(client, visitor, "/help")


async def test_with_visitors_refused_no_visitor_id_is_issued(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, webhook_secret=SECRET, web_visitors="none")
    async with running_app(settings) as (client, _):
        assert (await client.post(VISITORS)).status == 403


async def test_a_replayed_signed_request_is_refused_and_applied_once(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, webhook_secret=SECRET)
    body = json.dumps({"sender": "crm-7", "message": "4"}).encode()
    async with running_app(settings) as (client, _):
        await bridge_says(client, "crm-7", "/start cx-maturity")
        headers = signed(body, int(time.time()), SECRET)
        first = await client.post(REST, data=body, headers=headers)
        assert "Question 2 of 11" in texts(await first.json())
        replay = await client.post(REST, data=body, headers=headers)
        assert replay.status == 409
        assert "already accepted" in (await replay.json())["error"]
    async with running_app(settings) as (client, _):  # another process, which never saw it
        again = await client.post(REST, data=body, headers=headers)
        assert again.status == 200
        assert "Question 2 of 11" in texts(await again.json())  # the first answer's replies, not a new one
        review = texts(await bridge_says(client, "crm-7", "/review"))
        assert "2. Road map and budget allocation: not answered yet" in review


async def test_a_sender_over_the_limit_gets_429_and_nothing_applied(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path, rate_per_sender="3/minute")) as (client, _):
        await say(client, "fast-1", "/start cx-maturity")
        await say(client, "fast-1", "4")
        await say(client, "fast-1", "4")
        refused = await client.post(REST, json={"sender": "fast-1", "message": "4"})
        assert refused.status == 429
        wait = int(refused.headers["Retry-After"])
        assert 1 <= wait <= 60
        assert "nothing was applied" in (await refused.json())["error"]
        assert (await client.post(REST, json={"sender": "calm-2", "message": "/help"})).status == 200
    async with running_app(settings_for(tmp_path)) as (client, _):
        review = texts(await say(client, "fast-1", "/review"))
        assert "3. Employee empowerment to deploy CX initiatives: not answered yet" in review


async def test_new_senders_from_one_address_are_limited_but_signed_bridges_are_not(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, webhook_secret=SECRET, rate_per_address="5/minute")
    async with running_app(settings) as (client, engine):
        statuses = [
            (await client.post(REST, json={"sender": f"flood-{n}", "message": "/start cx-maturity"})).status
            for n in range(8)
        ]
        assert statuses == [200] * 5 + [429] * 3
        assert (await client.post(VISITORS)).status == 429  # issuing ids counts too
        for n in range(8):  # a bridge speaks for many people from one address
            await bridge_says(client, f"crm-{n}", "/help")
        other = await client.post(
            REST, json={"sender": "flood-9", "message": "/help"}, headers={"X-Forwarded-For": "203.0.113.9"}
        )
        assert other.status == 200  # another client behind the (trusted, local) proxy
        stored = await engine.store.read(_participants)
    assert sorted(stored) == [f"flood-{n}" for n in range(5)]


async def test_a_forwarded_address_is_believed_only_from_a_trusted_proxy(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, rate_per_address="2/minute", trusted_proxies="10.0.0.0/8")
    async with running_app(settings) as (client, _):
        for n in range(3):  # the test client is not a trusted proxy: its own address is counted
            response = await client.post(
                REST,
                json={"sender": f"s-{n}", "message": "/help"},
                headers={"X-Forwarded-For": f"198.51.100.{n}"},
            )
        assert response.status == 429


def _participants(conn: Any) -> list[str]:
    from sqlalchemy import select

    from storage.tables import participants

    rows = conn.execute(select(participants.c.external_id).where(participants.c.channel == "web"))
    return [row.external_id for row in rows]


async def test_unsigned_requests_use_json(tmp_path: Path) -> None:
    """The signature headers stay optional for visitors (Rasa widgets send plain JSON)."""
    async with running_app(settings_for(tmp_path, webhook_secret=SECRET)) as (client, _):
        response = await client.post(REST, data=b'{"sender": "w-1", "message": "/help"}', headers=JSON)
        assert response.status == 200


def test_the_limiter_allows_a_burst_then_one_per_interval() -> None:
    from bot.web.rate_limits import Limiter, parse_rates

    now = [1000.0]
    limiter = Limiter(parse_rates("3/minute"), clock=lambda: now[0])
    assert [limiter.wait("a") for _ in range(3)] == [None, None, None]
    assert limiter.wait("a") == 20  # one more comes back every 20 s
    assert limiter.wait("b") is None  # keys are counted apart
    now[0] += 20
    assert limiter.wait("a") is None
    assert limiter.wait("a") == 20
    now[0] += 3600  # idle keys are forgotten at the next sweep
    limiter.wait("c")
    assert set(limiter.busy_until) == {("c",)}
    two = Limiter(parse_rates("10/second;12/minute"), clock=lambda: now[0])
    assert [two.wait("x") for _ in range(11)] == [None] * 10 + [1]  # the second's allowance is used up
    now[0] += 1
    assert [two.wait("x") for _ in range(2)] == [None, None]
    assert two.wait("x") == 4  # now the minute's is: one comes back every 5 s
