"""Bad requests: each gets a 4xx with a JSON error saying what is wrong, and never reaches the engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dialogs.types import Inbound
from tests.webhook_support import REST, running_app, say, settings_for

JSON = {"Content-Type": "application/json"}
GOOD = {"sender": "s-1", "message": "/help"}


def body(value: Any) -> bytes:
    return json.dumps(value).encode()


BAD_REQUESTS = [
    # (what, body, headers, status, words the error must contain)
    ("malformed JSON", b'{"sender": "a", "message": ', JSON, 400, "not valid JSON"),
    ("not UTF-8", b'{"sender": "\xff", "message": "hi"}', JSON, 400, "UTF-8"),
    ("empty body", b"", JSON, 400, "not valid JSON"),
    ("NaN", b'{"sender": "a", "message": "hi", "x": NaN}', JSON, 400, "not valid JSON"),
    ("deep nesting", b"[" * 20000 + b"]" * 20000, JSON, 400, "not valid JSON"),
    ("an array", body([GOOD]), JSON, 400, "must be a JSON object"),
    ("a string", body("hello"), JSON, 400, "must be a JSON object"),
    ("null", b"null", JSON, 400, "must be a JSON object"),
    ("sender missing", body({"message": "hi"}), JSON, 400, '"sender" is missing'),
    ("message missing", body({"sender": "a"}), JSON, 400, '"message" is missing'),
    ("sender null", body({"sender": None, "message": "hi"}), JSON, 400, '"sender" is missing'),
    ("sender empty", body({"sender": "", "message": "hi"}), JSON, 400, '"sender" is empty'),
    ("sender blank", body({"sender": "  ", "message": "hi"}), JSON, 400, '"sender" is empty'),
    ("message empty", body({"sender": "a", "message": ""}), JSON, 400, '"message" is empty'),
    ("message blank", body({"sender": "a", "message": "\n\t "}), JSON, 400, '"message" is empty'),
    (
        "sender a number",
        body({"sender": 42, "message": "hi"}),
        JSON,
        400,
        '"sender" must be a string, not a number',
    ),
    ("message a list", body({"sender": "a", "message": ["hi"]}), JSON, 400, '"message" must be a string'),
    ("message an object", body({"sender": "a", "message": {"text": "hi"}}), JSON, 400, "not an object"),
    ("message a boolean", body({"sender": "a", "message": True}), JSON, 400, "not a boolean"),
    ("sender too long", body({"sender": "x" * 129, "message": "hi"}), JSON, 400, "the limit is 128"),
    ("message too long", body({"sender": "a", "message": "x" * 4001}), JSON, 400, "the limit is 4000"),
    ("sender with NUL", body({"sender": "a\x00b", "message": "hi"}), JSON, 400, "control characters"),
    ("sender with newline", body({"sender": "a\nb", "message": "hi"}), JSON, 400, "control characters"),
    ("message with NUL", body({"sender": "a", "message": "hi\x00"}), JSON, 400, "control characters"),
    ("lone surrogate", b'{"sender": "a", "message": "\\ud800"}', JSON, 400, "not valid Unicode"),
    ("metadata a list", body({**GOOD, "metadata": [1]}), JSON, 400, '"metadata" must be a JSON object'),
    ("metadata a string", body({**GOOD, "metadata": "x"}), JSON, 400, '"metadata" must be a JSON object'),
    ("message_id a boolean", body({**GOOD, "metadata": {"message_id": True}}), JSON, 400, "message_id"),
    ("message_id empty", body({**GOOD, "metadata": {"message_id": ""}}), JSON, 400, "message_id"),
    ("message_id too long", body({**GOOD, "metadata": {"message_id": "m" * 129}}), JSON, 400, "at most 128"),
    ("message_id a float", body({**GOOD, "metadata": {"message_id": 1.5}}), JSON, 400, "message_id"),
    ("callback_url a number", body({**GOOD, "metadata": {"callback_url": 5}}), JSON, 400, "callback_url"),
    (
        "callback_url not http",
        body({**GOOD, "metadata": {"callback_url": "ftp://x.test/"}}),
        JSON,
        400,
        "http",
    ),
    ("no content type", body(GOOD), {}, 415, "Content-Type: application/json"),
    (
        "form content type",
        b"sender=a&message=hi",
        {"Content-Type": "application/x-www-form-urlencoded"},
        415,
        "JSON",
    ),
    ("text content type", body(GOOD), {"Content-Type": "text/plain"}, 415, "text/plain"),
    ("latin-1 charset", body(GOOD), {"Content-Type": "application/json; charset=latin-1"}, 415, "JSON"),
]


@pytest.mark.parametrize(
    ("raw", "headers", "status", "words"),
    [case[1:] for case in BAD_REQUESTS],
    ids=[case[0] for case in BAD_REQUESTS],
)
async def test_bad_requests_are_refused_with_a_clear_json_error(
    tmp_path: Path, engine_calls: list[Inbound], raw: bytes, headers: dict[str, str], status: int, words: str
) -> None:
    async with running_app(settings_for(tmp_path, max_body_bytes=1024 * 1024)) as (client, _):
        response = await client.post(REST, data=raw, headers=headers)
        assert response.status == status
        assert response.content_type == "application/json"
        error = (await response.json())["error"]
        assert words in error
    assert engine_calls == []


async def test_an_oversized_body_is_refused_with_413(tmp_path: Path, engine_calls: list[Inbound]) -> None:
    async with running_app(settings_for(tmp_path, max_body_bytes=2048)) as (client, _):
        padded = body({**GOOD, "metadata": {"padding": "x" * 3000}})
        response = await client.post(REST, data=padded, headers=JSON)
        assert response.status == 413
        assert "limit of 2048 bytes" in (await response.json())["error"]

        async def chunks() -> Any:  # no Content-Length: the limit holds while reading
            for _ in range(4):
                yield b" " * 1000

        response = await client.post(REST, data=chunks(), headers=JSON)
        assert response.status == 413
        response = await client.post(REST, json=GOOD)  # the limit leaves room for real messages
        assert response.status == 200
    assert [call.text for call in engine_calls] == ["/help"]


async def test_a_good_request_after_bad_ones_is_answered(tmp_path: Path, engine_calls: list[Inbound]) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        await client.post(REST, data=b"{", headers=JSON)
        messages = await say(client, "s-1", "/help", metadata={"message_id": 12, "other": {"ignored": True}})
        assert messages
        assert all(message["recipient_id"] == "s-1" for message in messages)
    assert len(engine_calls) == 1
    assert engine_calls[0].channel == "web"  # unsigned: a web visitor
    assert engine_calls[0].message_id == "12"  # a number is taken as its text; the engine scopes it


async def test_sender_and_message_at_their_limits_are_accepted(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        messages = await say(client, "é" * 128, "x" * 4000)
        assert messages[0]["recipient_id"] == "é" * 128
        assert "text" in messages[0]


async def test_a_bad_idempotency_key_is_refused_even_beside_a_message_id(
    tmp_path: Path, engine_calls: list[Inbound]
) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        payload = {**GOOD, "metadata": {"message_id": "m-1"}}
        response = await client.post(REST, json=payload, headers={"Idempotency-Key": "x" * 200})
        assert response.status == 400
        assert "Idempotency-Key" in (await response.json())["error"]
    assert engine_calls == []
