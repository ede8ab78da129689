"""An outside HTTP client takes the whole CX assessment through the REST webhook."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from storage.tables import answers
from tests.webhook_support import REST, running_app, say, settings_for, texts

ANSWERS = [3, 4, 2, 3, 4, 5, 1, 2, 3, 4, 5]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def button_payload(messages: list[dict[str, Any]], title: str) -> str:
    """The payload of the button with this title in the last message that has buttons."""
    buttons = [message["buttons"] for message in messages if "buttons" in message][-1]
    return next(button["payload"] for button in buttons if button["title"] == title)


async def test_an_outside_client_completes_the_assessment(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        messages = await say(client, "visitor-1", "/start cx-maturity")
        assert "**Question 1 of 11" in texts(messages)
        for number, value in enumerate(ANSWERS, start=1):
            if number % 2:  # odd questions typed as a number, even ones by pressing the button
                messages = await say(client, "visitor-1", str(value))
            else:
                title = next(
                    b["title"] for b in messages[-1]["buttons"] if b["title"].startswith(f"{value} - ")
                )
                messages = await say(client, "visitor-1", button_payload(messages, title))
            assert all(message["recipient_id"] == "visitor-1" for message in messages)
            assert messages[0]["text"].startswith("\u2713 ")  # the answer is acknowledged
        assert "**Your answers to Citizen experience (CX) maturity**" in texts(messages)

        result = await say(client, "visitor-1", button_payload(messages, "Submit"))
        await check_result(client, result)
        again = await say(client, "visitor-1", "/results")
        await check_result(client, again)


async def check_result(client: Any, messages: list[dict[str, Any]]) -> None:
    stage = re.search(r"\*\*Your CX maturity stage: (\w+) \((\d\.\d) of 5\)\*\*", texts(messages))
    assert stage is not None, texts(messages)
    assert stage.group(1) == "Targeted"  # ANSWERS average a little over 3 however they are grouped
    images = [message["image"] for message in messages if "image" in message]
    assert len(images) == 1
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/charts/[A-Za-z0-9_-]{16,}\.png", images[0])
    async with client.session.get(images[0]) as picture:
        assert picture.status == 200
        assert picture.content_type == "image/png"
        assert (await picture.read()).startswith(PNG_SIGNATURE)
    links = re.findall(r"\[([^\]]+)\]\((https?://[^)\s]+)\)", texts(messages))
    assert len(links) >= 3
    assert all(message.keys() <= {"recipient_id", "text", "buttons", "image"} for message in messages)


async def test_a_retried_delivery_is_applied_once_and_answered_the_same(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path)) as (client, engine):
        await say(client, "visitor-2", "/start cx-maturity")
        first = await say(client, "visitor-2", "3", metadata={"message_id": "m-1"})
        retried = await say(client, "visitor-2", "3", metadata={"message_id": "m-1"})
        assert retried == first
        assert "**Question 2 of 11" in texts(retried)  # not moved on to question 3

        response = await client.post(
            REST, json={"sender": "visitor-2", "message": "4"}, headers={"Idempotency-Key": "k-7"}
        )
        by_header = await response.json()
        response = await client.post(
            REST, json={"sender": "visitor-2", "message": "4"}, headers={"Idempotency-Key": "k-7"}
        )
        assert await response.json() == by_header
        stored = await engine.store.run(
            lambda conn: conn.execute(select(func.count()).select_from(answers)).scalar()
        )
        assert stored == 2


async def test_message_ids_are_scoped_to_their_sender(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        await say(client, "alice", "/start cx-maturity")
        await say(client, "bob", "/start cx-maturity")
        alice = await say(client, "alice", "5", metadata={"message_id": 1})
        bob = await say(client, "bob", "2", metadata={"message_id": 1})
        assert "5 - Empathetic" in alice[0]["text"]
        assert "2 - Impersonal" in bob[0]["text"]  # not alice's stored replies
        assert all(message["recipient_id"] == "bob" for message in bob)


async def test_status_health_and_openapi(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        response = await client.get("/webhooks/rest/")
        assert (response.status, await response.json()) == (200, {"status": "ok"})
        response = await client.get("/healthz")
        assert (response.status, await response.json()) == (200, {"status": "ok", "database": "sqlite"})
        response = await client.get("/openapi.json")
        document = await response.json()
        assert document["openapi"].startswith("3.")
        assert {"/webhooks/rest/", REST, "/charts/{token}.png", "/healthz"} <= document["paths"].keys()


async def test_health_reports_a_database_that_does_not_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unavailable(job: object) -> None:
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))

    async with running_app(settings_for(tmp_path)) as (client, engine):
        monkeypatch.setattr(engine.store, "run", unavailable)
        response = await client.get("/healthz")
        assert response.status == 503
        assert (await response.json())["status"] == "error"


async def test_unknown_chart_tokens_and_paths_answer_json_404(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        for path in ("/charts/not-a-real-token-at-all.png", "/charts/..%2Fsecret.png", "/nowhere"):
            response = await client.get(path)
            assert response.status == 404
            assert "error" in await response.json()
        response = await client.delete(REST)
        assert response.status == 405
        assert "POST" in (await response.json())["error"]


async def test_cors_preflight_and_headers(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, cors_origins="https://www.example.org, https://intranet.example.org")
    async with running_app(settings) as (client, _):
        preflight = {"Origin": "https://www.example.org", "Access-Control-Request-Method": "POST"}
        response = await client.options(
            REST, headers={**preflight, "Access-Control-Request-Headers": "content-type"}
        )
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == "https://www.example.org"
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]

        response = await client.options(REST, headers={**preflight, "Origin": "https://evil.example"})
        assert response.status == 403
        assert "Access-Control-Allow-Origin" not in response.headers

        response = await client.post(
            REST, json={"sender": "s", "message": "/help"}, headers={"Origin": "https://intranet.example.org"}
        )
        assert response.headers["Access-Control-Allow-Origin"] == "https://intranet.example.org"
        assert "Origin" in response.headers.getall("Vary")
        response = await client.post(REST, data=b"{", headers={"Origin": "https://intranet.example.org"})
        assert response.status == 415  # errors carry the header too, so the widget can read them
        assert response.headers["Access-Control-Allow-Origin"] == "https://intranet.example.org"


async def test_any_origin_by_default(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        response = await client.post(
            REST, json={"sender": "s", "message": "/help"}, headers={"Origin": "https://x.org"}
        )
        assert response.headers["Access-Control-Allow-Origin"] == "*"


async def test_chart_urls_use_the_public_url_when_set(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, public_url="https://bot.example.org/")
    async with running_app(settings) as (client, _):
        await say(client, "v", "/start cx-maturity")
        await say(client, "v", "4")
        messages = await say(client, "v", "/submit")
        images = [message["image"] for message in messages if "image" in message]
        assert len(images) == 1
        assert images[0].startswith("https://bot.example.org/charts/")
        path = images[0].removeprefix("https://bot.example.org")
        response = await client.get(path)
        assert response.status == 200
        assert (await response.read()).startswith(PNG_SIGNATURE)


def numbered_payload(messages: list[dict[str, Any]], value: int) -> str:
    """The payload of the answer button for `value` in the last message that has buttons."""
    buttons = [message["buttons"] for message in messages if "buttons" in message][-1]
    return next(button["payload"] for button in buttons if button["title"].startswith(f"{value} - "))


async def test_a_stale_button_gets_the_live_question_again_with_its_buttons(tmp_path: Path) -> None:
    """A web page shows only the latest buttons as live: after a press of an old one, the person must
    not be left without any to press (Telegram keeps the live keyboard on screen instead)."""
    async with running_app(settings_for(tmp_path)) as (client, _):
        first = await say(client, "stale-1", "/start cx-maturity")
        old_press = numbered_payload(first, 3)
        await say(client, "stale-1", numbered_payload(first, 4))
        again = await say(client, "stale-1", old_press)
        assert "earlier question" in again[0]["text"]
        assert "Question 2 of 11" in again[-1]["text"]
        titles = [button["title"] for button in again[-1]["buttons"]]
        assert [title.split(" - ")[0] for title in titles[:5]] == ["1", "2", "3", "4", "5"]
        assert numbered_payload(again, 3) == "/answer 1 2 3"  # live: for question 2 of run 1
        review = texts(await say(client, "stale-1", "/review"))
        assert "1. Leadership and culture: 4 - " in review  # the old press changed nothing
        stale_change = await say(client, "stale-1", "/change 9 1")  # from a run long gone
        assert "earlier question" in stale_change[0]["text"]
        assert "Your answers to" in stale_change[-1]["text"]  # the review again, with its buttons
        assert stale_change[-1].get("buttons")
