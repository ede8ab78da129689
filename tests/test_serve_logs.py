"""`cxbot serve`'s log, as a log collector reads it: JSON lines on stderr (not a terminal), each
with the id of the request, update or background work it belongs to, and at the default level
nothing a person said or is called, even while things go wrong around them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.log_setup import JsonLines, TextLines, formatter_for
from tests.serve_process import serving
from tests.webhook_support import REST

PERSONAL = ("maria.silva@example.org", "Maria Silva", "s3cr3t-token")
"""Who the people are and what they said: none of it may reach the log."""
FIELDS = {"time", "level", "logger", "id", "message"}
ID = re.compile(r"r-[0-9a-f]+-[0-9a-f]+|tg-\d+|serve|scheduler|telegram-polling")
"""A request's id (`bot.log_setup`: the process's prefix and a number), a Telegram update's, or the
name of background work."""


class FlakyBridge:
    """A bridge that fails its first delivery, so the callback's retry is logged."""

    def __init__(self) -> None:
        self.calls = 0

    async def receive(self, request: web.Request) -> web.Response:
        self.calls += 1
        return web.json_response({}, status=500 if self.calls == 1 else 200)


async def test_the_log_is_json_lines_with_ids_and_no_personal_data(tmp_path: Path) -> None:
    app = web.Application()
    app.router.add_post("/in", FlakyBridge().receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    callback = f"http://127.0.0.1:{runner.addresses[0][1]}/in?key=s3cr3t-token"
    try:
        async with serving(tmp_path, CXBOT_CALLBACK_ALLOW_PRIVATE="true") as served:
            await talk(served.port, callback)
            await served.wait_for("a callback to .* failed")
            assert await served.stop() == 0
    finally:
        await runner.cleanup()
    assert {"r", "serve"} <= assert_clean(served.log, PERSONAL)
    assert "a callback to http://127.0.0.1:" in "".join(served.log)  # the receiver, by its origin only


def assert_clean(log: list[str], personal: tuple[str, ...]) -> set[str]:
    """Every line of a log is a JSON object with an id, and none names anything in `personal`; the
    kinds of id seen (`r`, `tg`, `serve`...). (Telegram's lines are checked by tests/test_shutdown.py,
    whose server has a bot: aiogram takes seconds to load, so one process with a bot does both.)"""
    lines = [json.loads(line) for line in log]  # every line is one JSON object
    assert all(set(line) >= FIELDS for line in lines), lines
    assert all(line["id"] and ID.fullmatch(line["id"]) for line in lines), [
        line for line in lines if not (line["id"] and ID.fullmatch(line["id"]))
    ]
    everything = "".join(log)
    assert not [word for word in personal if word in everything], everything
    return {line["id"].split("-")[0] for line in lines}


async def talk(port: int, callback: str) -> None:
    """A person through the webhook: free text, answers, a callback; and a malformed request."""
    url = f"http://127.0.0.1:{port}{REST}"
    async with aiohttp.ClientSession() as session:
        for text in ("/start cx-pulse", "My name is Maria Silva", "3", "/mydata"):
            message = {"sender": "maria.silva@example.org", "message": text}
            async with session.post(url, json=message) as response:
                assert response.status == 200
        metadata = {"callback_url": callback}
        body: dict[str, object] = {"sender": "maria.silva@example.org", "message": "4", "metadata": metadata}
        async with session.post(url, json=body) as response:
            assert response.status == 200
        broken = '{"sender": "maria.silva@example.org", "message": "Maria Silva'
        async with session.post(url, data=broken, headers={"Content-Type": "application/json"}) as response:
            assert response.status == 400


def test_text_on_a_terminal_json_otherwise() -> None:
    assert isinstance(formatter_for("auto", terminal=True), TextLines)
    assert isinstance(formatter_for("auto", terminal=False), JsonLines)
    assert isinstance(formatter_for("json", terminal=True), JsonLines)
    assert isinstance(formatter_for("text", terminal=False), TextLines)
