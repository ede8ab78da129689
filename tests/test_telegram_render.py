"""Rendering replies as Telegram HTML: escaped, within limits, split only between lines; checked with
the fake Bot API's HTML parser, which refuses what Telegram refuses."""

from __future__ import annotations

import logging

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.types import BufferedInputFile

from bot.telegram.channel import start_command
from bot.telegram.render import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    PhotoPiece,
    TextPiece,
    answered_html,
    keyboard,
    render_reply,
)
from dialogs.types import Band, Button, ButtonRole, Chart, Link, Reply, ReplyKind
from tests.telegram_fake.formatting import parse_html
from tests.telegram_fake.media import make_png
from tests.telegram_fake.server import FakeBotAPI
from tests.telegram_fake.user import FakeUser


def units(text: str) -> int:
    """Telegram's unit of length (UTF-16 code units), counted without the module under test."""
    return len(text.encode("utf-16-le")) // 2


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
    assert all(isinstance(p, TextPiece) and units(p.html) <= TEXT_LIMIT for p in pieces)
    assert "\n".join(texts(pieces)).split("\n") == ["Title", *lines]  # nothing lost, no line cut
    assert [p.keyboard is not None for p in pieces] == [False] * (len(pieces) - 1) + [True]


@pytest.mark.parametrize("char", ["&", "\U0001f600", "é"])
def test_a_line_longer_than_a_message_is_cut_without_breaking_markup(char: str) -> None:
    line = char * 5000
    pieces = render_reply(Reply(text=line))
    assert len(pieces) >= 2
    assert all(isinstance(p, TextPiece) and units(p.html) <= TEXT_LIMIT for p in pieces)
    assert "".join(texts(pieces)) == line


ASTRAL = "\U0001f600\U0001f680\U00010348"
"""Three characters outside the BMP: two UTF-16 units each."""


async def send(server: FakeBotAPI, chat_id: int, pieces: list[TextPiece | PhotoPiece]) -> None:
    """Send pieces through aiogram's real session to the fake Bot API, which counts like Telegram."""
    session = AiohttpSession(api=server.api_server())
    bot = Bot(server.token, session=session)
    try:
        for piece in pieces:
            if isinstance(piece, TextPiece):
                await bot.send_message(chat_id, piece.html, parse_mode="HTML", reply_markup=piece.keyboard)
            else:
                photo = BufferedInputFile(make_png(8, 8), "chart.png")
                await bot.send_photo(chat_id, photo, caption=piece.caption, parse_mode="HTML")
    finally:
        await session.close()


@pytest.mark.parametrize("chart", [None, CHART], ids=["text", "chart"])
async def test_astral_heavy_replies_stay_within_telegrams_limits(chart: Chart | None) -> None:
    lines = [ASTRAL * 700, "a & b <c> " + ASTRAL * 300, *(f"{n} {ASTRAL * n}" for n in range(0, 420, 7))]
    reply = Reply(text="\n".join(lines), title=ASTRAL * 40, chart=chart, buttons=(Button("Go", "/submit"),))
    pieces = render_reply(reply)
    for piece in pieces:
        shown = parse_html(piece.html if isinstance(piece, TextPiece) else piece.caption or "").text
        assert units(shown) <= (TEXT_LIMIT if isinstance(piece, TextPiece) else CAPTION_LIMIT)
    assert "\n".join(texts(pieces)).replace("\n", "") == (ASTRAL * 40 + reply.text).replace("\n", "")
    async with FakeBotAPI() as server:
        user = FakeUser(server, 10_001, "Alice")
        await send(server, user.id, pieces)
        server.assert_no_rejections()
        assert len(user.bot_messages()) == len(pieces)


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
    assert units(body) > CAPTION_LIMIT
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
