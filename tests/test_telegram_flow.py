"""End to end: a person takes the CX assessment in Telegram with inline buttons (polling and webhook),
and the keyboards stay tidy: answered questions are edited in place, stale presses change nothing."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from frameworks.schema import Framework
from frameworks.scoring import score
from tests.telegram_fake.media import image_size
from tests.telegram_fake.models import StoredMessage
from tests.telegram_fake.user import FakeUser
from tests.test_telegram_harness import BotUnderTest, button_rows, press_data, running_bot

LEVELS = (3, 4, 2, 5, 1)
"""The levels the test person picks, question by question (round robin)."""


@pytest.fixture(params=["polling", "webhook"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def cx(bot: BotUnderTest) -> Framework:
    framework = bot.engine.context.frameworks.get("cx-maturity")
    assert framework is not None
    return framework


def with_keyboard(user: FakeUser) -> list[int]:
    """Ids of the bot messages that still show an inline keyboard."""
    return [message.message_id for message in user.bot_messages() if message.inline_keyboard]


async def wait_edited(bot: BotUnderTest, message: StoredMessage) -> StoredMessage:
    current = bot.server.message(message.chat_id, message.message_id)
    await bot.server.wait_until(lambda: current is not None and current.edited, what="the question edited")
    assert current is not None
    return current


async def answer_by_button(bot: BotUnderTest, user: FakeUser, number: int, value: int) -> str:
    """Press level `value` on question `number`; check the press is acknowledged and the question
    message edited in place; returns the button's label."""
    count = len(cx(bot).questions)
    message = await bot.wait_for(user, f"Question {number} of {count}")
    assert with_keyboard(user) == [message.message_id]  # only the question now asked has buttons
    rows = button_rows(message)
    assert rows[-1] == [bot.text("button_back"), bot.text("button_skip")]
    assert all(len(row) == 1 for row in rows[:-1])  # one level per row
    question = cx(bot).questions[number - 1]
    labels = [row[0] for row in rows[:-1]]
    assert [label.split(" - ")[0] for label in labels] == [str(level.value) for level in question.levels]
    label = next(label for label in labels if label.startswith(f"{value} - "))
    await user.press(label, message=message)
    assert "text" not in await user.wait_for_callback_answer()  # accepted: no notice
    edited = await wait_edited(bot, message)
    assert edited.text is not None
    assert edited.text.startswith(message.text or "")
    assert edited.text.endswith(bot.text("telegram_your_answer", answer=label))
    assert edited.inline_keyboard is None
    return label


async def test_whole_assessment_with_buttons(tmp_path: Path, mode: str) -> None:
    async with running_bot(tmp_path, mode) as bot:
        user = FakeUser(bot.server, 10_001, "Alice")
        framework = cx(bot)
        await user.send_text("/start cx-maturity")
        chosen: dict[str, int | None] = {}
        for index, question in enumerate(framework.questions):
            value = LEVELS[index % len(LEVELS)]
            await answer_by_button(bot, user, index + 1, value)
            chosen[question.id] = value

        review = await bot.wait_for(user, bot.text("review_title", title=framework.title))
        await user.press(bot.text("button_submit"), message=review)
        await user.wait_for_callback_answer()
        footer = await bot.wait_for(user, bot.text("result_footer"))

        result = score(framework, chosen)
        assert result.stage is not None
        assert result.score is not None
        stage_line = bot.text(
            "result_stage_line",
            short_title=framework.short_title or framework.title,
            stage=result.stage.name,
            score=f"{result.score:.1f}",
            max=framework.scale_values[-1],
        )
        sent = [m for m in user.bot_messages() if m.message_id > review.message_id and m.text]
        photos = [m for m in sent if m.kind == "photo"]
        assert len(photos) == 1
        assert photos[0].attachment is not None
        assert image_size(photos[0].attachment) == (800, 450)
        assert (photos[0].text or "").startswith(stage_line)
        assert any(m.text and m.text.startswith(bot.text("result_recommendations_title")) for m in sent)
        links = [e for m in sent for e in m.entities if e["type"] == "text_link"]
        assert links
        assert all(link["url"].startswith("https://") for link in links)
        assert sent[-1].message_id == footer.message_id
        assert with_keyboard(user) == []  # the review's keyboard went with the press
        assert await bot.answers(user) == chosen


async def test_typed_answers_edit_the_question_and_leave_one_keyboard(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        user = FakeUser(bot.server, 10_001, "Alice")
        await user.send_text("/start cx-maturity")
        first = await bot.wait_for(user, "Question 1 of")
        await user.send_text("2")
        edited = await wait_edited(bot, first)
        assert edited.inline_keyboard is None
        second = await bot.wait_for(user, "Question 2 of")
        assert with_keyboard(user) == [second.message_id]

        await user.send_text("/help")
        await bot.wait_for(user, bot.text("help_title"))
        assert with_keyboard(user) == [second.message_id]  # help changes nothing: the question stays live

        await user.press(bot.text("button_back"), message=second)
        again = await bot.wait_for(user, "Question 1 of", after=second.message_id)
        assert with_keyboard(user) == [again.message_id]
        assert await bot.answers(user) == {cx(bot).questions[0].id: 2}


async def test_stale_and_tampered_presses_change_nothing(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        user = FakeUser(bot.server, 10_001, "Alice")
        await user.send_text("/start cx-maturity")
        first = await bot.wait_for(user, "Question 1 of")
        as_first_seen = copy.deepcopy(first)  # what a second tap on the same message still carries
        await answer_by_button(bot, user, 1, 3)
        second = await bot.wait_for(user, "Question 2 of")
        count = len(user.bot_messages())

        await user.press("4 - Personalized", message=as_first_seen)  # double tap on the old question
        assert (await user.wait_for_callback_answer()) == {
            "text": bot.text("stale_button"),
            "show_alert": False,
        }
        for data in ("zzz", "a:1:2", "a:01:2:3", "n:rm", "a:1:2:3:4", "s:bad id"):
            await press_data(user, second, data)
            assert (await user.wait_for_callback_answer())["text"] == bot.text("telegram_unknown_button")
        await press_data(user, second, "a:1:2:9")  # well formed, but no such level: the engine refuses
        assert (await user.wait_for_callback_answer())["text"] == bot.text("stale_button")
        await press_data(user, second, "a:7:2:3")  # another run
        assert (await user.wait_for_callback_answer())["text"] == bot.text("stale_button")

        assert all(query.answered for query in user.presses)
        assert len(user.bot_messages()) == count
        assert with_keyboard(user) == [second.message_id]  # the live question keeps its buttons
        assert await bot.answers(user) == {cx(bot).questions[0].id: 3}


async def test_forged_confirmation_presses_leave_the_live_question_alone(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        user = FakeUser(bot.server, 10_001, "Alice")
        await user.send_text("/start cx-maturity")
        question = await bot.wait_for(user, "Question 1 of")
        for data in ("y:delete", "y:restart", "n:no"):  # a modified client sends any button's data
            await press_data(user, question, data)
            assert (await user.wait_for_callback_answer()).get("text")  # refused, with a notice
        await user.send_text("/help")  # handled after the presses (one person, in order)
        await bot.wait_for(user, bot.text("help_title"))

        now = bot.server.message(question.chat_id, question.message_id)
        assert now is not None
        assert not now.edited
        assert with_keyboard(user) == [question.message_id]
        assert await bot.participant(user) == ("Alice", False)

        await user.send_text("/deletemydata")  # a real confirmation works once: used, its keyboard goes
        confirmation = await bot.wait_for(user, bot.text("confirm_delete"))
        await user.press(bot.text("button_no"), message=confirmation)
        await user.wait_for_callback_answer()
        await user.send_text("/help")
        await bot.wait_for(user, bot.text("help_title"), after=confirmation.message_id)
        assert confirmation.message_id not in with_keyboard(user)
        assert await bot.participant(user) == ("Alice", False)
