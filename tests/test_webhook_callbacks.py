"""Callback mode: replies POSTed to a receiver on 127.0.0.1, retried, in order; the SSRF guard."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer

from bot.web.auth import signed_headers
from bot.web.callbacks import CallbackSender, Delivery, callback_sender
from bot.web.url_guard import CallbackRefused, GuardedResolver, check_callback_url
from dialogs.types import Inbound
from tests.webhook_support import REST, OfflineResolver, resolved, running_app, say, settings_for, texts

CALLBACK = "/webhooks/callback/webhook"


class Receiver:
    """An integration's callback endpoint: records every POST; fails the first `failures` of them."""

    def __init__(self, failures: int = 0, status: int = 500) -> None:
        self.failures = failures
        self.status = status
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.delivered: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append((dict(request.headers), body))
        if self.failures:
            self.failures -= 1
            return web.Response(status=self.status)
        await self.delivered.put(json.loads(body))
        return web.Response(status=204)

    async def next(self) -> list[dict[str, Any]]:
        return await asyncio.wait_for(self.delivered.get(), timeout=5)


@asynccontextmanager
async def receiving(receiver: Receiver) -> AsyncIterator[str]:
    """The receiver served on 127.0.0.1; yields its URL."""
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    app.router.add_post("/hook/{path:.*}", receiver.handle)  # a bridge's per-contact callback URLs
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("/hook"))
    finally:
        await server.close()


async def test_replies_are_posted_to_the_callback_url_in_order(tmp_path: Path) -> None:
    receiver = Receiver()
    settings = settings_for(tmp_path, callback_allow_private=True)
    async with receiving(receiver) as url, running_app(settings) as (client, _):
        metadata = {"callback_url": url}
        acks = [
            await say(client, "int-1", text, metadata=metadata) for text in ("/start cx-maturity", "3", "4")
        ]
        assert [ack["status"] for ack in acks] == ["accepted"] * 3
        first, second, third = [await receiver.next() for _ in range(3)]
        assert acks[0]["messages"] == len(first)
        assert "**Question 1 of 11" in texts(first)
        assert "**Question 2 of 11" in texts(second)
        assert "**Question 3 of 11" in texts(third)
        assert all(message["recipient_id"] == "int-1" for message in first + second + third)
        assert {"title": "3 - Targeted", "payload": "/answer 1 3 3"} in third[-1]["buttons"]
        headers = receiver.requests[0][0]
        assert headers["Content-Type"] == "application/json"
        assert "X-Cxbot-Signature" not in headers  # no secret set


async def test_a_failing_receiver_gets_the_delivery_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = Receiver(failures=1, status=503)
    settings = settings_for(tmp_path, callback_allow_private=True)
    async with receiving(receiver) as url, running_app(settings) as (client, _):
        await say(client, "int-2", "/help", metadata={"callback_url": url})
        delivered = await receiver.next()
        assert delivered
        assert len(receiver.requests) == 2
        assert receiver.requests[0][1] == receiver.requests[1][1]  # the same messages, resent
    assert "answered 503" in caplog.text
    assert "retrying" in caplog.text


async def test_a_receiver_refusing_the_delivery_is_not_retried(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = Receiver(failures=5, status=404)
    settings = settings_for(tmp_path, callback_allow_private=True)
    async with receiving(receiver) as url, running_app(settings) as (client, _):
        await say(client, "int-3", "/help", metadata={"callback_url": url})
    # leaving the app drains the delivery under way
    assert len(receiver.requests) == 1
    assert "gave up delivering" in caplog.text
    assert "answered 404" in caplog.text


async def test_the_callback_route_uses_the_configured_url_and_signs(tmp_path: Path) -> None:
    receiver = Receiver()
    async with receiving(receiver) as url:
        settings = settings_for(tmp_path, callback_url=url, callback_allow_private=True, webhook_secret="k")
        async with running_app(settings) as (client, _):
            body = json.dumps({"sender": "int-4", "message": "/help"}).encode()
            headers = {"Content-Type": "application/json", **signed_headers("k", body, time.time())}
            response = await client.post(CALLBACK, data=body, headers=headers)
            assert response.status == 200
            assert (await response.json())["status"] == "accepted"
            delivered = await receiver.next()
            assert delivered[0]["recipient_id"] == "int-4"
    sent_headers, sent_body = receiver.requests[0]
    timestamp = sent_headers["X-Cxbot-Request-Timestamp"]
    expected = hmac.new(b"k", f"v0:{timestamp}:".encode() + sent_body, hashlib.sha256).hexdigest()
    assert sent_headers["X-Cxbot-Signature"] == f"v0={expected}"


async def test_the_callback_route_needs_a_url(tmp_path: Path, engine_calls: list[Inbound]) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        response = await client.post(CALLBACK, json={"sender": "int-5", "message": "/help"})
        assert response.status == 400
        assert "no callback URL" in (await response.json())["error"]
    assert engine_calls == []


@pytest.mark.parametrize(
    ("host", "words"),
    [
        ("127.0.0.1", "loopback"),
        ("localhost", "public addresses"),  # a name: what it resolves to is not told (test_http_leaks)
        ("[::1]", "loopback"),
        ("[::ffff:127.0.0.1]", "loopback"),
        ("10.0.0.7", "private"),
        ("192.168.1.20", "private"),
        ("intranet.test", "public addresses"),
        ("169.254.169.254", "metadata"),
        ("rebind.test", "public addresses"),
        ("[fd00:ec2::254]", "metadata"),
        ("[fe80::1]", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
    ],
)
async def test_private_and_metadata_callbacks_are_refused(
    tmp_path: Path, engine_calls: list[Inbound], host: str, words: str
) -> None:
    receiver = Receiver()
    async with receiving(receiver) as live, running_app(settings_for(tmp_path)) as (client, _):
        port = live.rsplit(":", 1)[1].split("/")[0]  # the live receiver's port: nothing may reach it
        url = f"http://{host}:{port}/hook"
        response = await client.post(
            REST, json={"sender": "x", "message": "/help", "metadata": {"callback_url": url}}
        )
        assert response.status == 400
        error = (await response.json())["error"]
        assert "refused callback URL" in error
        assert words in error
    assert receiver.requests == []
    assert engine_calls == []


async def test_metadata_addresses_stay_refused_when_private_ones_are_allowed(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path, callback_allow_private=True)) as (client, _):
        for url in (
            "http://169.254.169.254/latest/meta-data/",
            "http://[fd00:ec2::254]/",
            "http://0.0.0.0:1/",
        ):
            metadata = {"callback_url": url}
            response = await client.post(REST, json={"sender": "x", "message": "/help", "metadata": metadata})
            assert response.status == 400, url


async def test_unresolvable_and_malformed_callback_urls_are_refused(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        for url, words in [
            ("http://unknown.invalid/hook", "public addresses"),
            ("not a url", "absolute http"),
            ("javascript:alert(1)", "absolute http"),
            ("http://:80/", "not a valid URL"),
        ]:
            metadata = {"callback_url": url}
            response = await client.post(REST, json={"sender": "x", "message": "/help", "metadata": metadata})
            assert response.status == 400, url
            assert words in (await response.json())["error"], url


async def test_a_public_callback_host_passes_the_guard() -> None:
    resolver = OfflineResolver()
    await check_callback_url("https://public.test/hooks?token=1", allow_private=False, resolver=resolver)
    assert resolver.lookups == ["public.test"]  # resolution only: nothing was sent anywhere


class Rebinding(AbstractResolver):
    """A name that resolves to a public address when checked, then to loopback when connecting."""

    def __init__(self) -> None:
        self.answers = ["93.184.215.14", "127.0.0.1"]

    async def resolve(self, host: str, port: int = 0, family: Any = socket.AF_INET) -> list[ResolveResult]:
        address = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return [resolved(host, address, port)]

    async def close(self) -> None:
        pass


async def test_dns_rebinding_is_refused_at_connection_time(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = Receiver()
    async with receiving(receiver) as live, callback_sender(settings_for(tmp_path), Rebinding()) as sender:
        port = live.rsplit(":", 1)[1].split("/")[0]
        assert not await sender.deliver(
            Delivery("x", f"http://rebound.test:{port}/hook", [{"recipient_id": "x"}])
        )
    assert receiver.requests == []
    assert "loopback" in caplog.text


async def test_guarded_resolver_refuses_forbidden_answers() -> None:
    guarded = GuardedResolver(allow_private=False, inner=OfflineResolver())
    with pytest.raises(CallbackRefused) as refused:
        await guarded.resolve("intranet.test")
    assert "private address (10.1.2.3)" in refused.value.detail  # for the log only
    assert (await guarded.resolve("public.test"))[0]["host"] == "93.184.215.14"
    allowing = GuardedResolver(allow_private=True, inner=OfflineResolver())
    assert (await allowing.resolve("intranet.test"))[0]["host"] == "10.1.2.3"


async def test_an_unreachable_receiver_is_retried_then_given_up(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    async with aiohttp.ClientSession() as session:
        sender = CallbackSender(session, OfflineResolver(), allow_private=True, first_delay=0.01)
        sender.submit(Delivery("y", f"http://127.0.0.1:{port}/hook", [{"recipient_id": "y"}]))
        await sender.close()
    assert caplog.text.count("cannot connect") == 5
    assert "gave up delivering 1 message(s)" in caplog.text


async def test_shutdown_abandons_deliveries_that_take_too_long(caplog: pytest.LogCaptureFixture) -> None:
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", slow)
    async with TestServer(app, host="127.0.0.1") as server, aiohttp.ClientSession() as session:
        sender = CallbackSender(session, OfflineResolver(), allow_private=True)
        sender.submit(Delivery("z", str(server.make_url("/hook")), [{"recipient_id": "z"}]))
        await asyncio.sleep(0.05)
        await sender.close(grace=0.1)
        release.set()
    assert caplog.records[-1].levelno == logging.ERROR
    assert "abandoned unsent" in caplog.text
