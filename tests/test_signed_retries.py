"""A signed request refused for now (503, 429, 400) may be sent again as the same bytes and is then
applied once; only a request that was applied is refused as a replay (409), and two copies of one
signed request at once never both apply."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from tests import webhook_support
from tests.test_webhook_callbacks import Receiver, receiving
from tests.test_webhook_signatures import signed
from tests.test_webhook_trust import SECRET, bridge_says
from tests.webhook_support import REST, running_app, settings_for, texts

ANSWER: dict[str, Any] = {"sender": "crm-retry", "message": "4", "metadata": {"message_id": "answer-1"}}


def body_of(content: dict[str, Any]) -> bytes:
    return json.dumps(content).encode()


@contextmanager
def locked(path: Path) -> Iterator[sqlite3.Connection]:
    """The SQLite file held by another connection (as another process would), until the end."""
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        yield blocker
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


async def post(client: TestClient[Any, Any], body: bytes, headers: dict[str, str]) -> ClientResponse:
    response = await client.post(REST, data=body, headers=headers)
    await response.read()
    return response


async def review(tmp_path: Path, sender: str = "crm-retry") -> str:
    """The sender's review, asked through a fresh app without rate limits."""
    async with running_app(settings_for(tmp_path, webhook_secret=SECRET)) as (client, _):
        return texts(await bridge_says(client, sender, "/review"))


def answered_once(shown: str) -> bool:
    return (
        "1. Leadership and culture: 4 - Personalized" in shown
        and "2. Road map and budget allocation: not answered yet" in shown
    )


async def test_the_same_signed_bytes_after_a_503_are_applied_once(tmp_path: Path) -> None:
    body = body_of(ANSWER)
    async with running_app(settings_for(tmp_path, webhook_secret=SECRET)) as (client, _):
        await bridge_says(client, "crm-retry", "/start cx-maturity")
        headers = signed(body, int(time.time()), SECRET)
        with locked(tmp_path / "t.db"):
            busy = await post(client, body, headers)
            assert busy.status == 503
            assert "nothing was applied" in (await busy.json())["error"]
        again = await post(client, body, headers)  # the bridge resends what it sent
        assert again.status == 200, await again.text()
        assert "Question 2 of 11" in texts(await again.json())
        replay = await post(client, body, headers)
        assert replay.status == 409  # now it was applied: a replay is refused
        assert "already accepted" in (await replay.json())["error"]
    assert answered_once(await review(tmp_path))


async def test_the_same_signed_bytes_after_a_429_are_applied_once(tmp_path: Path) -> None:
    body = body_of(ANSWER)
    settings = settings_for(tmp_path, webhook_secret=SECRET, rate_per_sender="2/second")
    async with running_app(settings) as (client, _):
        await bridge_says(client, "crm-retry", "/start cx-maturity")
        await bridge_says(client, "crm-retry", "/help")
        headers = signed(body, int(time.time()), SECRET)
        refused = await post(client, body, headers)
        assert refused.status == 429
        await asyncio.sleep(int(refused.headers["Retry-After"]))
        again = await post(client, body, headers)
        assert again.status == 200, await again.text()
        assert "Question 2 of 11" in texts(await again.json())
        assert (await post(client, body, headers)).status == 409
    assert answered_once(await review(tmp_path))


async def test_the_same_signed_bytes_after_a_400_are_judged_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A callback URL whose name does not resolve yet is a 400; once it does, the same bytes are
    taken. A body that is wrong stays a 400: never "already accepted"."""
    receiver = Receiver()
    settings = settings_for(tmp_path, webhook_secret=SECRET, callback_allow_private=True)
    async with receiving(receiver) as live, running_app(settings) as (client, _):
        await bridge_says(client, "crm-retry", "/start cx-maturity")
        port = live.rsplit(":", 1)[1].split("/")[0]
        metadata = {**ANSWER["metadata"], "callback_url": f"http://bridge.test:{port}/hook"}
        body = body_of({**ANSWER, "metadata": metadata})
        headers = signed(body, int(time.time()), SECRET)
        refused = await post(client, body, headers)
        assert refused.status == 400
        assert "refused callback URL" in (await refused.json())["error"]
        monkeypatch.setitem(webhook_support.KNOWN_NAMES, "bridge.test", "127.0.0.1")  # DNS caught up
        again = await post(client, body, headers)
        assert again.status == 200, await again.text()
        assert (await again.json())["status"] == "accepted"
        assert "Question 2 of 11" in texts(await receiver.next())
        assert (await post(client, body, headers)).status == 409

        wrong = b'{"sender": "crm-retry", "message": 4}'
        wrong_headers = signed(wrong, int(time.time()), SECRET)
        for _ in range(2):
            response = await post(client, wrong, wrong_headers)
            assert response.status == 400
            assert '"message" must be a string' in (await response.json())["error"]
    assert answered_once(await review(tmp_path))


async def test_two_copies_at_once_apply_once(tmp_path: Path) -> None:
    """A copy that arrives while the first is being handled is not applied: it gets a 503 (never a
    409, which would say it was accepted before the first is known to be), so the bridge sends it
    again and learns the outcome."""
    body = body_of(ANSWER)
    async with running_app(settings_for(tmp_path, webhook_secret=SECRET)) as (client, _):
        await bridge_says(client, "crm-retry", "/start cx-maturity")
        headers = signed(body, int(time.time()), SECRET)
        with locked(tmp_path / "t.db"):  # held throughout: the first copy cannot be stored either
            both = await asyncio.gather(post(client, body, headers), post(client, body, headers))
        assert [response.status for response in both] == [503, 503]
        errors = sorted([(await response.json())["error"] for response in both])
        assert "being handled" in errors[0]
        assert "database is busy" in errors[1]
        assert all(response.headers["Retry-After"] for response in both)

        with locked(tmp_path / "t.db") as blocker:  # let go while both copies are in: the first applies
            loop = asyncio.get_running_loop()
            loop.call_later(0.5, blocker.execute, "ROLLBACK")
            both = await asyncio.gather(post(client, body, headers), post(client, body, headers))
            blocker.execute("BEGIN")  # so that the context's ROLLBACK has a transaction to end
        assert sorted(response.status for response in both) == [200, 503]
        assert (await post(client, body, headers)).status == 409
    assert answered_once(await review(tmp_path))
