"""End to end: what Telegram and people throw at the bot besides button presses: repeated and
concurrent updates, flood control, a blocked bot, forged webhook calls, groups, stickers, deep
links and names full of HTML."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession

from bot.telegram.service import COMMANDS, SECRET_HEADER
from tests.telegram_fake.server import FakeBotAPI
from tests.telegram_fake.user import FakeUser
from tests.test_telegram_harness import WAIT, BotUnderTest, queued_text, running_bot

INVALID_PAYLOADS = ("<b>x</b>", "cx maturity", "a" * 65, "cx-maturity!")
"""Deep-link payloads Telegram would never send: each is read as a plain /start."""


async def eventually(check: Any, what: str) -> None:
    """Wait until an async check holds (for state kept in the database)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not await check():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


def first_question(bot: BotUnderTest) -> str:
    framework = bot.engine.context.frameworks.get("cx-maturity")
    assert framework is not None
    return framework.questions[0].id


async def test_commands_menu_is_set_at_start_up(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        assert bot.server.commands() == [
            {"command": name, "description": bot.text(f"telegram_command_{name}")} for name in COMMANDS
        ]
        assert bot.server.calls("deleteWebhook")  # polling needs no webhook left over


async def test_duplicate_update_is_applied_once_in_polling(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        user = FakeUser(bot.server, 10_001, "Alice")
        await user.send_text("/start cx-maturity")
        await bot.wait_for(user, "Question 1 of")
        update = queued_text(bot.server, user, "3")
        bot.server.enqueue_update(update)
        bot.server.enqueue_update(copy.deepcopy(update))  # the same update_id twice in one batch
        await bot.wait_for(user, "Question 2 of")
        await user.send_text("/help")
        await bot.wait_for(user, bot.text("help_title"))

        assert sum(1 for m in user.bot_messages() if (m.text or "").startswith("Question 2 of")) == 1
        assert not any((m.text or "").startswith("Question 3 of") for m in user.bot_messages())
        assert await bot.answers(user) == {first_question(bot): 3}


async def test_a_webhook_update_sent_again_is_applied_and_answered_once_after_restart(tmp_path: Path) -> None:
    async with FakeBotAPI() as server:
        user = FakeUser(server, 10_001, "Alice")
        async with running_bot(tmp_path, "webhook", server) as bot:
            await user.send_text("/start cx-maturity")
            await bot.wait_for(user, "Question 1 of")
            update = await user.send_text("3")
            await bot.wait_for(user, "Question 2 of")
            before = len(user.bot_messages())
            assert await server.deliver(update) == 200  # Telegram retrying: acknowledged, skipped
            assert len(user.bot_messages()) == before
        async with running_bot(tmp_path, "webhook", server) as bot:  # a new process: memory is gone
            before = len(user.bot_messages())
            assert await server.deliver(update) == 200  # its replies were all sent: none again
            assert len(user.bot_messages()) == before
            assert await bot.answers(user) == {first_question(bot): 3}
            await user.send_text("4")
            await bot.wait_for(user, "Question 3 of")
            assert sorted((await bot.answers(user)).values(), key=str) == [3, 4]


async def test_updates_from_one_person_are_applied_in_order(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        user = FakeUser(bot.server, 10_001, "Alice")
        texts = ["/start cx-maturity", "1", "2", "3", "4"]
        for update in [queued_text(bot.server, user, text) for text in texts]:
            bot.server.enqueue_update(update)  # all in one getUpdates batch: handled as parallel tasks
        await bot.wait_for(user, "Question 5 of")
        framework = bot.engine.context.frameworks.get("cx-maturity")
        assert framework is not None
        assert await bot.answers(user) == {q.id: n for n, q in enumerate(framework.questions[:4], start=1)}
        texts = [m.text or "" for m in user.bot_messages()]
        shown = [text.split(" - ")[0] for text in texts if text.startswith("Question")]
        assert shown == [f"Question {n} of 11" for n in range(1, 6)]


async def test_flood_control_is_waited_out(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        user = FakeUser(bot.server, 10_001, "Alice")
        bot.server.fail_next("sendMessage", 429, retry_after=1)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await user.send_text("/start")
        await bot.wait_for(user, "Hello, Alice!")
        assert loop.time() - started >= 1.0
        statuses = [call.status for call in bot.server.calls("sendMessage")]
        assert statuses[:2] == [429, 200]


async def test_blocked_bot_marks_the_participant_inactive(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        user = FakeUser(bot.server, 10_001, "Alice")
        await user.send_text("/start cx-maturity")
        await bot.wait_for(user, "Question 1 of")
        assert await bot.participant(user) == ("Alice", False)
        user.block_bot()
        await user.send_text("2")

        async def inactive() -> bool:
            return await bot.participant(user) == ("Alice", True)

        await eventually(inactive, "the participant marked inactive")
        assert bot.server.calls("editMessageText")[-1].status == 403
        assert await bot.answers(user) == {first_question(bot): 2}  # the answer itself was kept


async def test_webhook_refuses_a_wrong_or_missing_secret(tmp_path: Path) -> None:
    async with running_bot(tmp_path, "webhook") as bot:
        hook = bot.server.state.webhook
        assert hook is not None
        assert hook.url == bot.webhook_url
        assert hook.secret_token is not None
        assert len(hook.secret_token) >= 32
        user = FakeUser(bot.server, 10_001, "Alice")
        body = json.dumps(queued_text(bot.server, user, "/start cx-maturity"))
        async with ClientSession() as http:
            for headers in ({}, {SECRET_HEADER: "not-the-secret"}, {SECRET_HEADER: hook.secret_token + "x"}):
                headers = {"Content-Type": "application/json", **headers}
                async with http.post(bot.webhook_url, data=body, headers=headers) as response:
                    assert response.status == 401
            headers = {"Content-Type": "application/json", SECRET_HEADER: hook.secret_token}
            async with http.post(bot.webhook_url, data="{not json", headers=headers) as response:
                assert response.status == 400
        assert await bot.participant(user) is None
        assert user.bot_messages() == []


async def test_groups_are_told_once_that_the_bot_is_private(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        user = FakeUser(bot.server, 10_001, "Alice")
        group = bot.server.create_group("Team")
        await user.send_command("start", "cx-maturity", chat=group)
        await user.wait_for_reply(chat=group)
        await user.send_text("3", chat=group)
        await user.send_command("help", chat=group)
        await user.send_command("start")  # then privately, which works
        await bot.wait_for(user, "Hello, Alice!")

        assert [m.text for m in user.bot_messages(group)] == [bot.text("telegram_private_only")]
        assert await bot.answers(user) == {}


async def test_stickers_photos_and_voice_get_a_re_prompt(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        user = FakeUser(bot.server, 10_001, "Alice")
        await user.send_text("/start cx-maturity")
        question = await bot.wait_for(user, "Question 1 of")
        await user.send_sticker()
        await user.wait_for_reply()
        await user.send_photo(caption="3")
        await user.wait_for_reply()
        await user.send_voice()
        await user.wait_for_reply()

        after = [m.text for m in user.bot_messages() if m.message_id > question.message_id]
        assert after == [bot.text("telegram_text_only")] * 3
        assert question.inline_keyboard  # the question can still be answered with its buttons
        assert await bot.answers(user) == {}


async def test_deep_links_start_a_framework_only_with_a_valid_payload(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        framework = bot.engine.context.frameworks.get("cx-maturity")
        assert framework is not None
        valid = FakeUser(bot.server, 10_001, "Ann")
        await valid.send_text("/start cx-maturity")
        assert (await bot.wait_for(valid, framework.title)).text == f"{framework.title}\n{framework.intro}"
        await bot.wait_for(valid, "Question 1 of")

        for user_id, payload in enumerate(INVALID_PAYLOADS, start=20_001):
            person = FakeUser(bot.server, user_id, "Bo")
            await person.send_text(f"/start {payload}")
            greeting = await bot.wait_for(person, "Hello, Bo!")
            menu = "".join(f"\n- {f.title} (/start {f.id})" for f in bot.engine.context.frameworks.offered())
            assert greeting.text == f"Hello, Bo! {bot.text('welcome')}\n{bot.text('choose_framework')}{menu}"

        unknown = FakeUser(bot.server, 30_001, "Cy")
        await unknown.send_text("/start no_such-framework")  # valid payload: the engine says what exists
        reply = await bot.wait_for(unknown, "I don't know an assessment or campaign")
        assert bot.text("unknown_framework", name="no_such-framework") in (reply.text or "")


async def test_a_name_full_of_html_is_shown_as_text(tmp_path: Path) -> None:
    async with running_bot(tmp_path, "webhook") as bot:
        name = "<b>&</b><script>"
        user = FakeUser(bot.server, 10_001, name)
        await user.send_text("/start")
        greeting = await bot.wait_for(user, f"Hello, {name}!")
        assert not [e for e in greeting.entities if e["offset"] == 0]  # no markup from the name
        await user.send_text("/start cx-maturity")  # something to store: the person is created
        await bot.wait_for(user, "Question 1 of")
        assert await bot.participant(user) == (name, False)


async def test_logs_at_info_name_nobody(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with running_bot(tmp_path) as bot:
        user = FakeUser(bot.server, 7_654_321, "Zebedee")
        bot.server.fail_next("sendMessage", 400, description="Bad Request: can't parse entities: injected")
        await user.send_text("Quixotic words")
        await bot.server.wait_for_call("sendMessage")
        await user.send_text("/help")  # handled after the first: its reply means the first is done
        await bot.wait_for(user, bot.text("help_title"))
    logged = caplog.text
    for personal in ("Zebedee", "7654321", "Quixotic", "Hello", bot.text("help_title")):
        assert personal not in logged
    assert "Telegram sendMessage: Bad Request: can't parse entities: injected" in logged  # what went wrong


async def test_an_edited_answer_is_not_applied_and_the_person_is_told(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        user = FakeUser(bot.server, 10_001, "Alice")
        await user.send_text("/start cx-maturity")
        await bot.wait_for(user, "Question 1 of")
        update = await user.send_text("3")
        second = await bot.wait_for(user, "Question 2 of")
        typed = bot.server.message(user.chat.id, update["message"]["message_id"])
        assert typed is not None
        await user.edit_text(typed, "4")
        notice = await bot.wait_for(user, bot.text("telegram_edit_ignored"), after=second.message_id)

        assert [m.message_id for m in user.bot_messages()][-1] == notice.message_id  # nothing else
        assert second.inline_keyboard  # the question now asked keeps its buttons
        assert await bot.answers(user) == {first_question(bot): 3}


async def test_webhook_refuses_a_body_that_is_not_sent_as_json(tmp_path: Path) -> None:
    async with running_bot(tmp_path, "webhook") as bot:
        hook = bot.server.state.webhook
        assert hook is not None
        assert hook.secret_token is not None
        user = FakeUser(bot.server, 10_001, "Alice")
        body = json.dumps(queued_text(bot.server, user, "/start cx-maturity"))
        async with ClientSession() as http:
            for kind in ("text/plain", "application/x-www-form-urlencoded", None):
                headers = {SECRET_HEADER: hook.secret_token, **({"Content-Type": kind} if kind else {})}
                async with http.post(bot.webhook_url, data=body.encode(), headers=headers) as response:
                    assert response.status == 415
                    assert "application/json" in (await response.json())["error"]
        assert await bot.participant(user) is None
        assert user.bot_messages() == []
