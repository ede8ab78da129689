"""Signed requests: with CXBOT_WEBHOOK_SECRET set, a request that claims a signature gets through
only with a fresh, matching HMAC (an unsigned one is a web visitor: tests/test_webhook_trust.py)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest

from bot.web.auth import signature, signature_problem
from tests.webhook_support import REST, running_app, settings_for

SECRET = "s3cret-for-tests"
BODY = json.dumps({"sender": "bridge-user", "message": "/help"}).encode()
JSON = {"Content-Type": "application/json"}


def signed(body: bytes, timestamp: int, secret: str = SECRET) -> dict[str, str]:
    """Headers signed as docs/webhook.md tells a bridge to, computed independently of cxbot's code."""
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {**JSON, "X-Cxbot-Request-Timestamp": str(timestamp), "X-Cxbot-Signature": f"v0={digest}"}


def _headers_at(kind: str, now: int) -> dict[str, str]:
    """The request headers of each case, signed relative to `now` (taken when the test runs, never at
    collection: a suite that takes minutes to reach a case must not turn "fresh" into "stale")."""
    cases = {
        "no sig": lambda: {**JSON, "X-Cxbot-Request-Timestamp": str(now)},
        "wrong secret": lambda: signed(BODY, now, "wrong-secret"),
        "other body": lambda: signed(BODY + b" ", now),
        "stale": lambda: signed(BODY, now - 301),
        "from the future": lambda: signed(BODY, now + 400),
        "bad time": lambda: {**signed(BODY, now), "X-Cxbot-Request-Timestamp": "yesterday"},
        "short": lambda: {**signed(BODY, now), "X-Cxbot-Signature": "v0=00"},
    }
    return cases[kind]()


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("no sig", "must be signed"),
        ("wrong secret", "does not match"),
        ("other body", "does not match"),
        ("stale", "5 minutes"),
        ("from the future", "5 minutes"),
        ("bad time", "Unix time"),
        ("short", "does not match"),
    ],
)
async def test_unsigned_or_badly_signed_requests_get_401(tmp_path: Path, kind: str, words: str) -> None:
    async with running_app(settings_for(tmp_path, webhook_secret=SECRET)) as (client, _):
        response = await client.post(REST, data=BODY, headers=_headers_at(kind, int(time.time())))
        assert response.status == 401
        assert words in (await response.json())["error"]


async def test_a_correctly_signed_request_is_answered(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path, webhook_secret=SECRET)) as (client, _):
        response = await client.post(REST, data=BODY, headers=signed(BODY, int(time.time()) - 200))
        assert response.status == 200
        messages = await response.json()
        assert messages[0]["recipient_id"] == "bridge-user"


async def test_without_a_secret_signatures_are_not_required(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        response = await client.post(REST, data=BODY, headers=JSON)
        assert response.status == 200


async def test_a_signed_request_to_a_server_without_a_secret_is_refused(tmp_path: Path) -> None:
    """Not taken as a visitor: the bridge's people would land where anyone can reach them."""
    async with running_app(settings_for(tmp_path)) as (client, _):
        response = await client.post(REST, data=BODY, headers=signed(BODY, int(time.time())))
        assert response.status == 401
        assert "no CXBOT_WEBHOOK_SECRET" in (await response.json())["error"]


async def test_with_visitors_refused_an_unsigned_request_gets_401(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, webhook_secret=SECRET, web_visitors="none")
    async with running_app(settings) as (client, _):
        response = await client.post(REST, data=BODY, headers=JSON)
        assert response.status == 401
        assert "signed requests only" in (await response.json())["error"]


def test_signature_matches_the_documented_scheme() -> None:
    expected = hmac.new(b"key", b"v0:1700000000:body", hashlib.sha256).hexdigest()
    assert signature("key", "1700000000", b"body") == f"v0={expected}"
    headers = {"X-Cxbot-Request-Timestamp": "1700000000", "X-Cxbot-Signature": f"v0={expected}"}
    assert signature_problem("key", headers, b"body", now=1700000000 + 299) is None
    assert signature_problem("key", headers, b"body", now=1700000000 + 301) is not None
    headers["X-Cxbot-Signature"] = "v0=\u00e9" + expected[2:]  # non-ASCII must not raise
    assert signature_problem("key", headers, b"body", now=1700000000) is not None
