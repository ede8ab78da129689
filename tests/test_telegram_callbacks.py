"""Callback data: every payload the engine puts on a button fits in 64 bytes and comes back intact;
anything else is refused."""

from __future__ import annotations

import pytest

from bot.telegram.callbacks import (
    MAX_BYTES,
    UnknownPayload,
    answered_question,
    decode,
    encode,
    is_confirmation,
)
from bot.telegram.channel import TOAST_LIMIT, toast
from dialogs.commands import answer_payload
from tests.chat import Chat

PAYLOADS = [
    answer_payload(3, 3, 2),
    answer_payload(999_999, 999_998, 0),
    "/change 3 4",
    "/change 1 11",
    "/yes restart",
    "/yes delete",
    "/no",
    "/back",
    "/skip",
    "/back 3 4",
    "/skip 999999 11",
    "/submit",
    "/start",
    "/start cx-maturity",
    "/start " + "x" * 62,
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_round_trip_within_64_bytes(payload: str) -> None:
    data = encode(payload)
    assert len(data.encode()) <= MAX_BYTES
    assert decode(data) == payload


def test_the_documented_forms() -> None:
    assert encode("/answer 3 4 2") == "a:3:4:2"
    assert encode("/change 3 4") == "c:3:4"
    assert encode("/back") == "n:back"
    assert encode("/back 3 4") == "b:3:4"
    assert encode("/skip 3 4") == "k:3:4"
    assert encode("/yes restart") == "y:restart"
    assert encode("/start cx-maturity") == "s:cx-maturity"


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "a:1:2",
        "a:1:2:3:4",
        "a:01:2:3",
        "a:1:2:-3",
        "a:1:2:1234567",
        "a:1:2:3 ",
        "c:",
        "c:x",
        "y:everything",
        "n:rm",
        "n:back:1",
        "b:3",
        "k:3:x",
        "b:1:2:3",
        "n",
        "s:bad id",
        "s:" + "x" * 63,
        "s:caf\u00e9",
        "x:1",
        "/answer 1 2 3",
        "a:1:2:3\n",
    ],
)
def test_anything_else_is_refused(data: str | None) -> None:
    assert decode(data) is None


@pytest.mark.parametrize("payload", ["/answer 1 2", "/start two words", "/frobnicate", "hello", "/yes maybe"])
def test_payloads_without_a_form_are_not_encoded(payload: str) -> None:
    with pytest.raises(UnknownPayload):
        encode(payload)


def test_answer_and_confirmation_helpers() -> None:
    assert answered_question("/answer 3 4 2") == (3, 3)
    assert answered_question("/change 3 4") is None
    assert is_confirmation("/yes delete")
    assert is_confirmation("/no")
    assert not is_confirmation("/next")


async def test_every_button_of_a_whole_assessment_has_a_form(chat: Chat) -> None:
    """Walk the engine through a run (menu, questions, review, restart and delete confirmations) and
    encode every button it offers."""
    seen: set[str] = set()
    script = [
        "/start",
        "/start cx-maturity",
        *["3"] * 11,
        "/change 2",
        "4",
        "/restart",
        "no",
        "/deletemydata",
    ]
    for text in script:
        for reply in await chat.say(text):
            for button in reply.buttons:
                assert decode(encode(button.payload)) == button.payload
                seen.add(button.payload.split(" ")[0])
    assert {"/answer", "/back", "/skip", "/change", "/submit", "/yes", "/no", "/start"} <= seen


@pytest.mark.parametrize(
    "text", ["short", "x" * 200, "x" * 201, "\U0001f600" * 100, "\U0001f600" * 101, "a" + "\U0001f600" * 150]
)
def test_toasts_fit_telegrams_limit_in_utf16_units(text: str) -> None:
    cut = toast(text)
    assert len(cut.encode("utf-16-le")) // 2 <= TOAST_LIMIT
    if len(text.encode("utf-16-le")) // 2 <= TOAST_LIMIT:
        assert cut == text
    else:
        assert cut.endswith("\u2026")
        assert text.startswith(cut.removesuffix("\u2026"))
