"""What a person may type into the calculator: the forgiving forms are understood, the rest refused
with a reason and the question asked again, every earlier input kept. Through the webhook and the
terminal, and `frameworks.amounts` on its own."""

from __future__ import annotations

import html
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from frameworks.amounts import AmountError, parse_amount
from tests.calculator_support import CALCULATOR, INPUT_ORDER, PAYS_BACK, check_summary
from tests.test_terminal import cxbot
from tests.webhook_support import REST, running_app, say, settings_for
from tests.webhook_support import texts as escaped_texts

KEPT = "Your other figures are kept as they were."
UNREADABLE = "I couldn't read that as a number."
EXPONENT = "Please type the number in full, without an exponent"
NOT_A_NUMBER = "That isn't a figure I can work with"
POINT = "A point before groups of three digits (such as 12.000) could mean twelve thousand or twelve."


def texts(messages: list[dict[str, Any]]) -> str:
    return html.unescape(escaped_texts(messages))


@pytest.mark.parametrize(
    ("step", "typed", "shown"),
    [
        (1, "12000", "12,000"),
        (1, "12,000", "12,000"),
        (1, "12k", "12,000"),
        (1, "12 000", "12,000"),
        (1, "12K", "12,000"),
        (1, "1.2m", "1,200,000"),
        (1, "  12,000  ", "12,000"),
        (2, "15%", "15%"),
        (2, "0.15", "15%"),
        (2, "15 %", "15%"),
        (2, "150 of 1,000", "15%"),
        (2, "150 out of 1000", "15%"),
        (2, "3/20", "15%"),
        (2, "1 of 3", "33.33%"),
        (3, "4.50", "4.50"),
        (3, "£4.50", "4.50"),
        (3, "$12,000", "12,000"),
        (3, "0", "0"),
        (4, "100%", "100%"),
        (4, "0", "0%"),
    ],
)
async def test_the_forgiving_forms_are_understood(tmp_path: Path, step: int, typed: str, shown: str) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        await say(client, "forgiving", f"/start {CALCULATOR}")
        for value in PAYS_BACK.typed[: step - 1]:
            await say(client, "forgiving", value)
        messages = await say(client, "forgiving", typed)
        assert texts(messages).startswith(f"\u2713 {INPUT_ORDER[step - 1]}: {shown}\n")
        assert f"Figure {step + 1} of 6" in texts(messages)


REFUSALS = [
    # (step, typed, what the reply says)
    (1, "-5", "Contacts a year can't be negative."),
    (1, "\u221212000", "Contacts a year can't be negative."),
    (1, "(12,000)", "Contacts a year can't be negative."),
    (1, "1e400", EXPONENT),
    (1, "1.2E+05", EXPONENT),
    (1, "NaN", NOT_A_NUMBER),
    (1, "inf", NOT_A_NUMBER),
    (1, "Infinity", NOT_A_NUMBER),
    (1, "lots", UNREADABLE),
    (1, "about twelve thousand", UNREADABLE),
    (1, "12,5", UNREADABLE),
    (1, "10-20k", UNREADABLE),
    (1, "12.5", "Contacts a year is a count of whole things: please type it without decimals."),
    (1, "12.000", POINT),
    (1, "15%", "Contacts a year isn't a share, so please type it without a % sign."),
    (1, "0", "Contacts a year has to be at least 1."),
    (1, "9" * 16, "That number is longer than any real figure for Contacts a year: please check it."),
    (2, "150%", "That's more than 100%: a share can be at most all of them."),
    (2, "40 of 30", "That's more than 100%: a share can be at most all of them."),
    (2, "1.5", "I can't tell whether that is a percentage or a fraction."),
    (2, "15", "I can't tell whether that is a percentage or a fraction."),
    (2, "-10%", "Share that is failure demand can't be negative."),
    (2, "5 of 0", "In N of M, M has to be more than zero (such as 150 of 1,000)."),
    (2, "1e400%", EXPONENT),
    (2, "NaN%", NOT_A_NUMBER),
    (2, "a fifth", UNREADABLE),
    (3, "-4.50", "Cost of one contact can't be negative."),
    (3, "1e400", EXPONENT),
    (3, "nan", NOT_A_NUMBER),
    (3, "-inf", "Cost of one contact can't be negative."),
    (3, "four pounds", UNREADABLE),
    (3, "4.500", POINT),
    (3, "4.1234567", "That number is longer than any real figure for Cost of one contact: please check it."),
    (5, "1e400", EXPONENT),
    (6, "-1", "Yearly running cost can't be negative."),
]


async def test_every_refusal_asks_again_and_keeps_what_was_given(tmp_path: Path) -> None:
    """All the refusals in one person's session: after each, the same figure is asked again, and at
    the end the summary is the one their good answers give, as if nothing had been refused."""
    async with running_app(settings_for(tmp_path)) as (client, _):
        await say(client, "strict", f"/start {CALCULATOR}")
        for step in range(1, 7):
            for _, typed, why in (r for r in REFUSALS if r[0] == step):
                messages = await say(client, "strict", typed)
                shown = texts(messages)
                assert shown.startswith(why), (typed, shown)
                assert KEPT in shown.split("\n")[0]
                assert f"Figure {step} of 6: {INPUT_ORDER[step - 1]}" in shown
                assert "\u2713" not in shown
            if step > 1:  # the one before is still there
                back = await say(client, "strict", "/back")
                assert f"So far: {PAYS_BACK.inputs[INPUT_ORDER[step - 2]]}." in texts(back)
                keep = [m for m in back if "buttons" in m][-1]["buttons"][0]
                assert keep["title"] == f"Keep {PAYS_BACK.inputs[INPUT_ORDER[step - 2]]}"
                await say(client, "strict", keep["payload"])
            messages = await say(client, "strict", PAYS_BACK.typed[step - 1])
        check_summary(texts(messages), PAYS_BACK)


async def test_an_empty_message_is_refused_by_the_webhook_and_nothing_is_lost(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        await say(client, "empty", f"/start {CALCULATOR}")
        await say(client, "empty", "12k")
        for empty in ("", "   ", "\u00a0"):
            response = await client.post(REST, json={"sender": "empty", "message": empty})
            assert response.status == 400
            assert (await response.json())["error"] == '"message" is empty: send some text'
        resumed = await say(client, "empty", "/start")
        assert "Welcome back: you're on figure 2 of 6" in texts(resumed)


async def test_the_engine_asks_again_for_an_empty_message(tmp_path: Path) -> None:
    """A channel that hands the engine an empty text (none of ours does) gets the step again."""
    from tests.chat import Chat

    async with running_app(settings_for(tmp_path)) as (_, engine):
        person = Chat(engine)
        await person.say(f"/start {CALCULATOR}")
        await person.say("12k")
        answered = await person.text("")
        assert f"{UNREADABLE} Please type digits" in answered
        assert KEPT in answered
        assert "Figure 2 of 6: Share that is failure demand" in answered
        back = await person.text("/back")
        assert "So far: 12,000." in back


def test_the_terminal_refuses_and_keeps_every_input(tmp_path: Path) -> None:
    session = [
        f"/start {CALCULATOR}",
        "12k",
        "150%",
        "NaN",
        "15%",
        "-4.50",
        "12.50",
        "0.4",
        "1e400",
        "12 000",
    ]
    done = cxbot(tmp_path, [*session, "inf", "1,500"])
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.count(KEPT) == 5
    assert "That's more than 100%: a share can be at most all of them. " + KEPT in out
    assert "Cost of one contact can't be negative. " + KEPT in out
    assert out.count(NOT_A_NUMBER) == 2
    assert out.count(EXPONENT) == 1
    check_summary(out, PAYS_BACK)


# --- the reader on its own -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kind", "value"),
    [
        ("12000", "count", Fraction(12000)),
        ("12,000", "count", Fraction(12000)),
        ("12 000", "count", Fraction(12000)),
        ("12\u202f000", "count", Fraction(12000)),
        ("12k", "count", Fraction(12000)),
        ("1.5k", "count", Fraction(1500)),
        ("2bn", "money", Fraction(2 * 10**9)),
        ("0.1", "money", Fraction(1, 10)),  # exact: one tenth, not the float nearest it
        ("R$ 4,500", "money", Fraction(4500)),
        ("15%", "share", Fraction(15, 100)),
        ("0.15", "share", Fraction(15, 100)),
        ("37 of 180", "share", Fraction(37, 180)),
        ("1", "share", Fraction(1)),
        ("12.5%", "share", Fraction(1, 8)),
    ],
)
def test_amounts_read_exactly(typed: str, kind: str, value: Fraction) -> None:
    assert parse_amount(typed, kind) == value


@pytest.mark.parametrize(
    ("typed", "kind", "reason"),
    [
        ("", "count", "unreadable"),
        ("   ", "money", "unreadable"),
        ("1e400", "count", "exponent"),
        ("1e400", "share", "exponent"),
        ("NaN", "money", "not_a_number"),
        ("inf", "count", "not_a_number"),
        ("-0.5", "share", "negative"),
        ("101%", "share", "over_whole"),
        ("2", "share", "share_form"),
        ("12.000", "count", "point_thousands"),
        ("1.250.000", "money", "point_thousands"),
        ("12,00", "money", "unreadable"),
        ("1" * 41, "count", "too_long"),
        ("0x10", "count", "unreadable"),
        ("1_000", "count", "unreadable"),
    ],
)
def test_amounts_are_refused_with_their_reason(typed: str, kind: str, reason: str) -> None:
    with pytest.raises(AmountError) as refused:
        parse_amount(typed, kind)
    assert refused.value.reason == reason
