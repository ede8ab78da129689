"""What the HTTP app tells a caller who has no business knowing: nothing about the private network
behind it, nothing about its software versions, and errors in the one JSON shape everywhere."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.serve_process import http_exchange, serving
from tests.webhook_support import REST, running_app, settings_for

INTERNAL = ["10.1.2.3", "169.254.169.254", "intranet", "rebind", "unknown.invalid", "private", "metadata"]


@pytest.mark.parametrize("host", ["intranet.test", "rebind.test", "localhost", "unknown.invalid"])
async def test_a_refused_callback_host_is_not_described_to_the_caller(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, host: str
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.web.callbacks")
    async with running_app(settings_for(tmp_path)) as (client, _):
        metadata = {"callback_url": f"http://{host}:8000/hook"}
        response = await client.post(REST, json={"sender": "x", "message": "/help", "metadata": metadata})
        assert response.status == 400
        error = (await response.json())["error"]
    assert error.startswith("refused callback URL")
    assert "public" in error  # why, in general terms
    for word in INTERNAL + ["loopback", "127.0.0.1", "could not", "localhost"]:
        assert word not in error, error
    assert host in caplog.text  # the detail is for the operator, at DEBUG


STATIC_MISSES = ["/static/nothing.js", "/static/", "/static/../server.py", "/static/%2e%2e/x"]


@pytest.mark.parametrize("path", STATIC_MISSES)
async def test_static_misses_are_json(tmp_path: Path, path: str) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        response = await client.get(path)
        assert response.status == 404
        assert response.content_type == "application/json"
        assert "error" in await response.json()
        page = await client.get("/static/chat.js")
        assert page.status == 200
        assert page.content_type in ("application/javascript", "text/javascript")


async def test_the_server_header_names_no_versions(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        for path in ("/healthz", "/nothing-here", "/static/chat.js", "/"):
            response = await client.get(path)
            assert response.headers.get("Server", "cxbot") == "cxbot", path


async def test_the_running_server_names_no_versions_even_to_malformed_requests(tmp_path: Path) -> None:
    async with serving(tmp_path) as served:
        for request in (
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nthis is not a header\r\n\r\n",
        ):
            _, headers, _ = await http_exchange(served.port, request)
            assert headers.get("server", "cxbot") == "cxbot"
