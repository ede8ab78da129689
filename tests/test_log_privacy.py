"""Logs at the default level (INFO) name what went wrong, never a person: no sender id, name or
message text, even when callbacks fail, the engine fails, or a dashboard link is used."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from dialogs.engine import Engine
from dialogs.types import Inbound, Reply
from tests.test_webhook_callbacks import Receiver, receiving
from tests.webhook_support import REST, running_app, say, settings_for

SENDER = "crm-contact-MARKER-981"
TEXT = "my secret answer MARKER"


def leaked(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Log lines at INFO or above that name the person or what they wrote."""
    lines = []
    for record in caplog.records:
        # the test servers' access logs are aiohttp's (here the receiver's); `cxbot serve` has none
        if record.levelno < logging.INFO or record.name == "aiohttp.access":
            continue
        shown = record.getMessage() + (caplog.handler.format(record) if record.exc_info else "")
        if "MARKER" in shown:
            lines.append(shown)
    return lines


@asynccontextmanager
async def malformed_receiver() -> AsyncIterator[str]:
    """A receiver whose answers are not valid HTTP (aiohttp's error for them quotes the whole URL);
    yields its origin."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


async def test_failing_callbacks_log_no_sender(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # captured at every level; only INFO and above must be clean
    receiver = Receiver(failures=50, status=500)
    settings = settings_for(tmp_path, callback_allow_private=True)
    async with receiving(receiver) as url, malformed_receiver() as bad, running_app(settings) as (client, _):
        origins = [url.rsplit("/hook", 1)[0]] * 3 + [bad]
        for n, origin in enumerate(origins):  # a bridge whose callback URLs name the contact in the path
            callback_url = f"{origin}/hook/contacts/{SENDER}-{n}?token=MARKER"
            await say(client, f"{SENDER}-{n}", TEXT, metadata={"callback_url": callback_url})
    for origin in origins:  # scheme, host and port, and nothing after
        assert f"gave up delivering 1 message(s) to {origin}\n" in caplog.text
    assert "ClientResponseError: 400" in caplog.text
    assert any(
        "MARKER" in record.getMessage() for record in caplog.records if record.levelno == logging.DEBUG
    )
    assert leaked(caplog) == []


async def test_an_engine_failure_logs_no_text_and_says_nothing_was_applied(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing(self: Engine, inbound: Inbound) -> list[Reply]:
        raise ValueError(f"cannot handle {inbound.text!r} from {inbound.sender}")  # a message that quotes

    caplog.set_level(logging.INFO)
    async with running_app(settings_for(tmp_path)) as (client, _):
        monkeypatch.setattr(Engine, "handle", failing)
        response = await client.post(REST, json={"sender": SENDER, "message": TEXT})
        assert response.status == 500
        assert "nothing was applied" in (await response.json())["error"]
    assert "ValueError at test_log_privacy.py" in caplog.text
    assert leaked(caplog) == []


async def test_an_error_on_a_dashboard_logs_no_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.web.dashboard as dashboard

    def failing(*_: object, **__: object) -> None:
        raise RuntimeError("report failed")

    caplog.set_level(logging.INFO)
    async with running_app(settings_for(tmp_path)) as (client, _):
        made = await say(client, "facilitator-1", "/campaign new cx-pulse Desk")
        link = next(
            word for message in made for word in message.get("text", "").split() if "/dashboard/" in word
        )
        token = link.rstrip(").").rsplit("/dashboard/", 1)[1].split(")")[0]
        monkeypatch.setattr(dashboard, "report_json", failing)
        response = await client.get(f"/dashboard/{token}/report.json")
        assert response.status == 500
    assert "/dashboard/{token}" in caplog.text
    # the test server's access log is aiohttp's; `cxbot serve` runs without one
    assert not [r for r in caplog.records if r.name != "aiohttp.access" and token in r.getMessage()]
