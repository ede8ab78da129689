"""Signed requests: with CXBOT_WEBHOOK_SECRET set, only a fresh, matching HMAC gets through."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest

from bot.webhook_auth import signature, signature_problem
from tests.webhook_support import REST, running_app, settings_for

SECRET = "s3cret-for-tests"
BODY = json.dumps({"sender": "bridge-user", "message": "/help"}).encode()
JSON = {"Content-Type": "application/json"}


def signed(body: bytes, timestamp: int, secret: str = SECRET) -> dict[str, str]:
    """Headers signed as docs/webhook.md tells a bridge to, computed independently of cxbot's code."""
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {**JSON, "X-Cxbot-Request-Timestamp": str(timestamp), "X-Cxbot-Signature": f"v0={digest}"}


@pytest.mark.parametrize(
    ("headers", "words"),
    [
        pytest.param(JSON, "must be signed", id="missing both"),
        pytest.param(
            {**JSON, "X-Cxbot-Request-Timestamp": str(int(time.time()))}, "must be signed", id="no sig"
        ),
        pytest.param(signed(BODY, int(time.time()), "wrong-secret"), "does not match", id="wrong secret"),
        pytest.param(signed(BODY + b" ", int(time.time())), "does not match", id="other body"),
        pytest.param(signed(BODY, int(time.time()) - 301), "5 minutes", id="stale"),
        pytest.param(signed(BODY, int(time.time()) + 400), "5 minutes", id="from the future"),
        pytest.param(
            {**signed(BODY, int(time.time())), "X-Cxbot-Request-Timestamp": "yesterday"},
            "Unix time",
            id="bad time",
        ),
        pytest.param(
            {**signed(BODY, int(time.time())), "X-Cxbot-Signature": "v0=00"}, "does not match", id="short"
        ),
    ],
)
async def test_unsigned_or_badly_signed_requests_get_401(
    tmp_path: Path, headers: dict[str, str], words: str
) -> None:
    async with running_app(settings_for(tmp_path, webhook_secret=SECRET)) as (client, _):
        response = await client.post(REST, data=BODY, headers=headers)
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


def test_signature_matches_the_documented_scheme() -> None:
    expected = hmac.new(b"key", b"v0:1700000000:body", hashlib.sha256).hexdigest()
    assert signature("key", "1700000000", b"body") == f"v0={expected}"
    headers = {"X-Cxbot-Request-Timestamp": "1700000000", "X-Cxbot-Signature": f"v0={expected}"}
    assert signature_problem("key", headers, b"body", now=1700000000 + 299) is None
    assert signature_problem("key", headers, b"body", now=1700000000 + 301) is not None
    headers["X-Cxbot-Signature"] = "v0=\u00e9" + expected[2:]  # non-ASCII must not raise
    assert signature_problem("key", headers, b"body", now=1700000000) is not None
