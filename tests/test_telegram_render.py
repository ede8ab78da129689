"""Rendering replies as Telegram HTML: escaped, within limits, split only between lines; checked with
the fake Bot API's HTML parser, which refuses what Telegram refuses."""

from __future__ import annotations

import logging

import pytest

from bot.telegram.channel import start_command
from bot.telegram.render import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    PhotoPiece,
    TextPiece,
    answered_html,
    keyboard,
    render_reply,
    utf16_len,
)
from dialogs.types import Band, Button, ButtonRole, Chart, Link, Reply, ReplyKind
from tests.telegram_fake.formatting import parse_html

CHART = Chart("tok", "CX", ("A", "B"), (2.0, None), (Band("Low", 1.0, 3.0), Band("High", 3.0, 5.0)), 1.0, 5.0)


def texts(pieces: list[TextPiece | PhotoPiece]) -> list[str]:
    """What a person sees of each piece (parsing also proves the HTML valid)."""
    return [parse_html(p.html if isinstance(p, TextPiece) else p.caption or "").text for p in pieces]


def test_every_text_is_escaped_and_only_our_tags_remain() -> None:
    url = 'https://example.org/a?x=1&y="2"'
    reply = Reply(
        text="a < b && c > d \"q\" 'x' <script>",
        title="<b>T&</b>",
        links=(Link("A&B <i>", url),),
    )
    [piece] = render_reply(reply)
    assert isinstance(piece, TextPiece)
    parsed = parse_html(piece.html)
    assert parsed.text == "<b>T&</b>\na < b && c > d \"q\" 'x' <script>\nA&B <i>"
    kinds = [(e["type"], e["offset"], e["length"]) for e in parsed.entities]
    assert kinds == [("bold", parsed.text.index("<b>T"), 9), ("text_link", parsed.text.index("A&B"), 7)]
    assert parsed.entities[1]["url"] == url


def test_long_text_is_split_between_lines_under_the_limit() -> None:
    lines = [f"line {n}: " + "word & " * (n % 40) for n in range(1500)]
    buttons = (Button("Go", "/submit"),)
    pieces = render_reply(Reply(text="\n".join(lines), title="Title", buttons=buttons))
    assert len(pieces) > 1
    assert all(isinstance(p, TextPiece) and utf16_len(p.html) <= TEXT_LIMIT for p in pieces)
    assert "\n".join(texts(pieces)).split("\n") == ["Title", *lines]  # nothing lost, no line cut
    assert [p.keyboard is not None for p in pieces] == [False] * (len(pieces) - 1) + [True]


@pytest.mark.parametrize("char", ["&", "\U0001f600", "é"])
def test_a_line_longer_than_a_message_is_cut_without_breaking_markup(char: str) -> None:
    line = char * 5000
    pieces = render_reply(Reply(text=line))
    assert len(pieces) >= 2
    assert all(isinstance(p, TextPiece) and utf16_len(p.html) <= TEXT_LIMIT for p in pieces)
    assert "".join(texts(pieces)) == line


def test_choices_get_a_row_each_and_navigation_shares_rows() -> None:
    choices = [Button(f"{n} - Level {n}", f"/answer 1 1 {n}") for n in range(1, 6)]
    navigation = [
        Button("Back", "/back 1 1", ButtonRole.NAVIGATION),
        Button("Skip", "/skip 1 1", ButtonRole.NAVIGATION),
    ]
    markup = keyboard([*choices, *navigation])
    assert markup is not None
    rows = [[(key.text, key.callback_data) for key in row] for row in markup.inline_keyboard]
    assert rows == [[(f"{n} - Level {n}", f"a:1:1:{n}")] for n in range(1, 6)] + [
        [("Back", "b:1:1"), ("Skip", "k:1:1")]
    ]

    changes = [Button(f"Change {n}", f"/change 1 {n}", ButtonRole.NAVIGATION) for n in range(1, 12)]
    markup = keyboard([*changes, Button("Submit", "/submit")])
    assert markup is not None
    assert [len(row) for row in markup.inline_keyboard] == [4, 4, 3, 1]


def test_a_button_without_a_callback_form_is_left_out(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="bot.telegram.render"):
        markup = keyboard([Button("Odd", "/frobnicate now"), Button("Help", "/help")])
    assert markup is not None
    assert [[key.text for key in row] for row in markup.inline_keyboard] == [["Help"]]
    assert "/frobnicate now" in caplog.text


def test_a_result_fitting_a_caption_is_one_photo() -> None:
    reply = Reply(text="Stage: <High>", title="Your stage", chart=CHART, kind=ReplyKind.RESULT)
    [photo] = render_reply(reply)
    assert isinstance(photo, PhotoPiece)
    assert photo.chart == CHART
    assert texts([photo]) == ["Your stage\nStage: <High>"]


def test_a_longer_result_gets_a_short_caption_and_the_text_after() -> None:
    body = "\n".join(f"Dimension {n}: score & more" for n in range(80))
    assert utf16_len(body) > CAPTION_LIMIT
    reply = Reply(text=body, title="Your stage", chart=CHART, kind=ReplyKind.RESULT)
    photo, *rest = render_reply(reply)
    assert isinstance(photo, PhotoPiece)
    assert texts([photo]) == ["Your stage"]
    assert rest
    assert all(isinstance(piece, TextPiece) for piece in rest)
    assert "\n".join(texts(rest)) == body


def test_answered_question_keeps_its_text_and_shows_the_answer() -> None:
    html = answered_html("<b>Question 1</b>\nHow?", "Your answer: 3 - <Targeted>")
    assert html is not None
    assert parse_html(html).text == "Question 1\nHow?\n\nYour answer: 3 - <Targeted>"
    assert answered_html("x" * TEXT_LIMIT, "Your answer: 1") is None


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("/start", "/start"),
        ("/start cx-maturity", "/start cx-maturity"),
        ("/start@cxbot_test_bot cx-maturity", "/start cx-maturity"),
        ("/start\tcx-maturity", "/start cx-maturity"),
        ("/start\n<b>x</b>", "/start"),
        ("/start not/valid", "/start"),
        ("/start " + "x" * 65, "/start"),
        ("/help", None),
        ("   ", None),
    ],
)
def test_deep_link_payloads_are_checked(text: str, command: str | None) -> None:
    assert start_command(text) == command
