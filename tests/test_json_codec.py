"""The HTTP channels' JSON: the same results with orjson (the `fast` extra) and without it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot import json_codec
from bot.web.request import BadRequest, parse_rest_request
from tests.webhook_support import REST, running_app, settings_for

VALUES = [
    {"recipient_id": "ü", "text": "3 - Targeted \u2713", "buttons": [{"title": "<b>", "payload": "/x"}]},
    12,
]


@pytest.fixture(params=["orjson", "standard library"])
def codec(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "standard library":
        monkeypatch.setattr(json_codec, "orjson", None)
    elif json_codec.orjson is None:
        pytest.skip("orjson is not installed")
    return str(request.param)


def test_encoding_is_compact_utf8_json(codec: str) -> None:
    encoded = json_codec.dumps(VALUES)
    assert json.loads(encoded) == VALUES
    assert "ü".encode() in encoded  # not \\u escapes
    assert b", " not in encoded


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"sender": "a", "message": NaN}', "NaN is not a JSON value"),
        (b'{"sender": "a", "message": "x"', "not valid JSON"),
        (b'\xff{"sender": "a"}', "not valid UTF-8"),
        (b'["a"]', "must be a JSON object"),
        (b'{"sender": "a", "message": "\\ud800"}', "lone surrogate"),
    ],
)
def test_bad_bodies_get_the_same_message_either_way(codec: str, body: bytes, words: str) -> None:
    with pytest.raises(BadRequest, match=words):
        parse_rest_request(body, None)


async def test_the_webhook_answers_the_same_either_way(codec: str, tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        response = await client.post(REST, json={"sender": "json-codec", "message": "/help"})
        assert response.status == 200
        assert response.content_type == "application/json"
        assert "How this works" in (await response.json())[0]["text"]
