"""Every command and bad input, through the engine on a real SQLite store."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from dialogs.engine import Engine
from dialogs.types import Chart, ReplyKind
from frameworks.registry import FrameworkRegistry
from storage.store import Store
from storage.tables import participants
from tests.chat import Chat

CX_QUESTIONS = 11


async def answer_all(chat: Chat, value: str = "3", count: int = CX_QUESTIONS) -> None:
    for _ in range(count):
        await chat.say(value)


async def test_start_offers_the_frameworks(chat: Chat) -> None:
    replies = await chat.say("/start")
    payloads = [b.payload for r in replies for b in r.buttons]
    assert "/start cx-maturity" in payloads
    assert "/start pulse-test" in payloads


async def test_start_framework_asks_question_one_with_progress_and_levels(chat: Chat) -> None:
    replies = await chat.say("/start cx-maturity")
    question = replies[-1]
    assert question.kind is ReplyKind.QUESTION
    assert question.title == "Question 1 of 11 - Organizational self-awareness"
    assert "1 - Passive:" in question.text
    assert "5 - Empathetic:" in question.text
    titles = [b.title for b in question.buttons]
    assert titles[:5] == [
        "1 - Passive",
        "2 - Impersonal",
        "3 - Targeted",
        "4 - Personalized",
        "5 - Empathetic",
    ]
    assert titles[5:] == ["Back", "Skip"]


async def test_answer_by_number_label_title_and_payload(chat: Chat) -> None:
    first = await chat.say("/start cx-maturity")
    payload = first[-1].buttons[3].payload  # 4 - Personalized on question 1
    replies = await chat.say(payload)
    assert replies[0].kind is ReplyKind.ANSWERED
    assert replies[0].text.endswith("4 - Personalized")
    assert replies[-1].title is not None
    assert replies[-1].title.startswith("Question 2 of 11")
    assert (await chat.say("targeted"))[0].text.endswith("3 - Targeted")
    assert (await chat.say("2 - Impersonal"))[0].text.endswith("2 - Impersonal")
    assert (await chat.say(" 5 "))[0].text.endswith("5 - Empathetic")


async def test_bad_input_reprompts_and_loses_nothing(chat: Chat) -> None:
    await chat.say("/start cx-maturity")
    await chat.say("2")
    for bad in ["7", "0", "hello", "3.5", "-1", "x" * 5000, "", "👍", "<b>4</b>"]:
        replies = await chat.say(bad)
        assert replies[0].kind is ReplyKind.NOTICE, bad
        assert "number from 1 to 5" in replies[0].text
        assert replies[-1].title is not None
        assert replies[-1].title.startswith("Question 2 of 11")
    review = await chat.text("/review")
    assert "1. Leadership and culture: 2 - Impersonal" in review


async def test_back_shows_the_answer_given_and_first_question_has_no_back(chat: Chat) -> None:
    await chat.say("/start cx-maturity")
    nothing = await chat.say("/back")
    assert "nothing to go back to" in nothing[0].text
    await chat.say("4")
    back = await chat.say("/back")
    assert back[-1].title is not None
    assert back[-1].title.startswith("Question 1 of 11")
    assert "Your answer so far: 4 - Personalized." in back[-1].text
    await chat.say("2")  # changes the answer and moves on
    review = await chat.text("/review")
    assert "1. Leadership and culture: 2 - Impersonal" in review


async def test_skip_is_recorded_and_listed_in_the_result(chat: Chat) -> None:
    await chat.say("/start cx-maturity")
    skipped = await chat.say("/skip")
    assert skipped[0].text.endswith("skipped")
    await answer_all(chat, "3", CX_QUESTIONS - 1)
    result = await chat.text("/submit")
    assert "Skipped: Leadership and culture." in result


async def test_review_after_last_question_waits_for_submit(chat: Chat) -> None:
    await chat.say("/start cx-maturity")
    await answer_all(chat, "3", CX_QUESTIONS - 1)
    replies = await chat.say("4")
    assert replies[-1].kind is ReplyKind.REVIEW
    assert "Send /submit to see your result" in replies[-1].text
    again = await chat.say("3")
    assert again[0].kind is ReplyKind.NOTICE  # typed numbers do not silently change answers here


async def test_review_change_returns_to_the_review(chat: Chat) -> None:
    await chat.say("/start cx-maturity")
    await answer_all(chat)
    change = await chat.say("/change 4")
    assert change[-1].title is not None
    assert change[-1].title.startswith("Question 4 of 11")
    back_to_review = await chat.say("1")
    assert back_to_review[-1].kind is ReplyKind.REVIEW
    assert "4. Collaboration with other departments and agencies: 1 - Passive" in back_to_review[-1].text
    stale = await chat.say("/change 99")
    assert "earlier question" in stale[0].text


async def test_submit_shows_a_readable_result(chat: Chat) -> None:
    await chat.say("/start cx-maturity")
    await answer_all(chat, "3")
    replies = await chat.say("/submit")
    assert replies[0].title == "Your CX maturity stage: Targeted (3.0 of 5)"
    assert "Organizational self-awareness: " in replies[0].text
    assert "3.0 Targeted" in replies[0].text
    assert isinstance(replies[0].chart, Chart)
    assert replies[0].chart.scores == (3.0, 3.0, 3.0, 3.0)
    titles = [r.title or "" for r in replies]
    assert titles[1] == "What would move you up"  # its own message, after the chart's scores
    assert "Recommendations for reaching the next stage" in titles
    assert any(link.url.startswith("https://") for r in replies for link in r.links)
    assert all(len(r.text) <= 3500 for r in replies)


async def test_results_shows_the_latest_result_again(chat: Chat) -> None:
    assert "no results yet" in await chat.text("/results")
    await chat.say("/start cx-maturity")
    await answer_all(chat, "2")
    submitted = await chat.say("/submit")
    again = await chat.say("/results")
    assert again[0].title == submitted[0].title == "Your CX maturity stage: Impersonal (2.0 of 5)"
    assert again[0].chart is not None
    assert submitted[0].chart is not None
    assert again[0].chart.token == submitted[0].chart.token


async def test_submit_needs_an_answer(chat: Chat) -> None:
    assert "no assessment in progress" in await chat.text("/submit")
    await chat.say("/start cx-maturity")
    await chat.say("/skip")
    assert "at least one question" in await chat.text("/submit")


async def test_start_resumes_the_open_run(chat: Chat) -> None:
    await chat.say("/start cx-maturity")
    await answer_all(chat, "3", 4)
    for command in ("/start", "/start cx-maturity"):
        replies = await chat.say(command)
        assert "Welcome back" in replies[0].text
        assert replies[-1].title is not None
        assert replies[-1].title.startswith("Question 5 of 11")


async def test_several_runs_and_frameworks(chat: Chat) -> None:
    await chat.say("/start cx-maturity")
    await answer_all(chat, "2", 3)
    pulse = await chat.say("/start pulse-test")
    assert pulse[-1].title == "Question 1 of 3 - People"
    assert [b.title for b in pulse[-1].buttons][:4] == [
        "1 - Developing",
        "2 - Practicing",
        "3 - Optimizing",
        "4 - Leading",
    ]
    await chat.say("4")
    await chat.say("4")
    done = await chat.say("3")  # review is off for this framework: the last answer submits
    assert any(r.title == "Your team pulse stage: High (3.7 of 4)" for r in done)
    back = await chat.say("/start cx-maturity")
    assert back[-1].title is not None
    assert back[-1].title.startswith("Question 4 of 11")
    await answer_all(chat, "2", 8)
    await chat.say("/submit")
    await chat.say("/start cx-maturity")  # a second attempt starts at question 1
    assert "Attempt 3" in await chat.text("/mydata")


async def test_unknown_framework_and_command(chat: Chat) -> None:
    unknown = await chat.text("/start no-such-thing")
    assert 'don\'t know an assessment or campaign called "no-such-thing"' in unknown
    assert "/start cx-maturity" in unknown
    assert "/help" in await chat.text("/frobnicate")


async def test_help_lists_every_command(chat: Chat) -> None:
    text = await chat.text("/help")
    for command in (
        "/start",
        "/back",
        "/skip",
        "/review",
        "/submit",
        "/results",
        "/restart",
        "/mydata",
        "/deletemydata",
    ):
        assert command in text


async def test_restart_after_confirmation(chat: Chat) -> None:
    await chat.say("/start cx-maturity")
    await answer_all(chat, "4", 3)
    confirm = await chat.say("/restart")
    assert confirm[0].kind is ReplyKind.CONFIRM
    assert "3 answer(s)" in confirm[0].text
    assert "yes or no" in await chat.text("maybe")
    cancelled = await chat.say("no")
    assert cancelled[0].text == "OK, nothing changed."
    assert cancelled[-1].title is not None
    assert cancelled[-1].title.startswith("Question 4 of 11")
    await chat.say("/restart")
    restarted = await chat.say(confirm[0].buttons[0].payload)
    assert restarted[-1].title is not None
    assert restarted[-1].title.startswith("Question 1 of 11")
    assert "Your answer so far" not in restarted[-1].text
    data = await chat.text("/mydata")
    assert "Attempt 1" in data
    assert "set aside" in data
    assert "Attempt 2" in data


async def test_mydata_and_deletemydata(chat: Chat) -> None:
    await chat.say("/start cx-maturity")
    await answer_all(chat, "5")
    await chat.say("/submit")
    data = await chat.text("/mydata")
    assert chat.sender in data
    assert "Leadership and culture: 5 - Empathetic" in data
    assert "Result: Empathetic (5.0)" in data
    confirm = await chat.say("/deletemydata")
    assert confirm[0].kind is ReplyKind.CONFIRM
    assert "nothing changed" in await chat.text("/no")
    assert "Leadership and culture" in await chat.text("/mydata")
    await chat.say("/deletemydata")
    assert "Nothing has been erased" in await chat.text("yes")
    assert "has been erased" in await chat.text("erase")
    after = await chat.text("/mydata")
    assert "Leadership and culture" not in after
    assert "no results yet" in await chat.text("/results")


async def test_stale_and_tampered_buttons_change_nothing(chat: Chat) -> None:
    start = await chat.say("/start cx-maturity")
    old_payload = start[-1].buttons[0].payload  # question 1, level 1
    await chat.say("3")
    for payload in [
        old_payload,
        "/answer 99 2 3",
        "/answer 1 2 9",
        "/answer x y z",
        "/answer 1 2",
        "/yes delete",
    ]:
        replies = await chat.say(payload)
        assert "earlier question" in replies[0].text, payload
    review = await chat.text("/review")
    assert "1. Leadership and culture: 3 - Targeted" in review
    assert "2. Road map and budget allocation: not answered yet" in review


async def test_repeated_message_id_is_applied_once(chat: Chat) -> None:
    await chat.say("/start cx-maturity")
    first = await chat.say("4", message_id="m-1")
    again = await chat.say("4", message_id="m-1")
    assert again == first
    review = await chat.text("/review")
    assert "2. Road map and budget allocation: not answered yet" in review


async def test_command_with_bot_name_suffix(chat: Chat) -> None:
    replies = await chat.say("/start@CxBot cx-maturity")
    assert replies[-1].kind is ReplyKind.QUESTION


async def test_commands_outside_a_run_explain_themselves(chat: Chat) -> None:
    for command in ("/back", "/skip", "/submit"):
        assert "no assessment in progress" in await chat.text(command), command
    assert "/start" in await chat.text("/review")
    assert "nothing changed" not in await chat.text("/no")


async def test_resume_names_the_first_question_left_open(chat: Chat) -> None:
    await chat.say("/start cx-maturity")
    await answer_all(chat, "3", 3)
    await chat.say("/review")
    await chat.say("/change 6")  # answer question 6 out of order, back to the review
    await chat.say("2")
    replies = await chat.say("/start")
    assert replies[0].text.startswith("Welcome back: you're on question 4 of 11")
    assert replies[-1].title is not None
    assert replies[-1].title.startswith("Question 4 of 11")


async def test_old_back_and_skip_buttons_change_nothing(chat: Chat) -> None:
    first = await chat.say("/start cx-maturity")
    old_back, old_skip = (b.payload for b in first[-1].buttons[-2:])
    assert (old_back, old_skip) == ("/back 1 1", "/skip 1 1")
    await chat.say("3")
    for payload in (old_skip, old_back, "/skip 1 x", "/back 2 2"):
        replies = await chat.say(payload)
        assert "earlier question" in replies[0].text, payload
    review = await chat.text("/review")
    assert "1. Leadership and culture: 3 - Targeted" in review
    assert "2. Road map and budget allocation: not answered yet" in review
    current = (await chat.say("/start"))[-1]
    assert "skipped" in (await chat.say(current.buttons[-1].payload))[0].text


async def test_message_ids_are_scoped_to_their_sender(engine: Engine) -> None:
    alice, bob = Chat(engine, "alice"), Chat(engine, "bob")
    await alice.say("/start cx-maturity", message_id="1")
    replies = await bob.say("/help", message_id="1")
    assert replies[0].title == "How this works"


async def test_a_retried_erasure_does_not_bring_the_person_back(engine: Engine) -> None:
    chat = Chat(engine)
    await chat.say("/start pulse-test")
    await chat.say("/deletemydata")
    first = await chat.say("/yes delete", message_id="erase-7")
    again = await chat.say("/yes delete", message_id="erase-7")
    assert again == first
    rows = await engine.store.run(
        lambda conn: conn.execute(
            select(participants.c.id).where(participants.c.external_id == chat.sender)
        ).all()
    )
    assert rows == []


async def test_numbers_are_plain_digits_and_answers_are_exact(chat: Chat) -> None:
    await chat.say("/start cx-maturity")
    for odd in ("²", "٣", "3 or 4", "1 - Empathetic", "2 3 4 5", "3 please", "/answer 1 1 ²", "/skip ² 1"):
        replies = await chat.say(odd)
        assert replies[0].kind is ReplyKind.NOTICE, odd
    for fine, stored in (
        ("3)", "3 - Targeted"),
        ("  4 - PERSONALIZED ", "4 - Personalized"),
        ("2 impersonal", "2"),
    ):
        replies = await chat.say(fine)
        assert replies[0].kind is ReplyKind.ANSWERED, fine
        assert stored in replies[0].text


async def test_start_resumes_another_open_run_after_one_finishes(chat: Chat) -> None:
    await chat.say("/start pulse-test")
    await chat.say("2")
    await chat.say("/start cx-maturity")
    await answer_all(chat, "3")
    await chat.say("/submit")
    replies = await chat.say("/start")
    assert replies[0].text.startswith("Welcome back: you're on question 2 of 3 of Team pulse (test)")


async def test_back_from_a_review_asked_for_midway_returns_to_the_same_question(chat: Chat) -> None:
    await chat.say("/start cx-maturity")
    await answer_all(chat, "3", 4)
    await chat.say("/review")
    back = await chat.say("/back")
    assert back[-1].title is not None
    assert back[-1].title.startswith("Question 5 of 11")


async def test_yes_and_no_with_nothing_to_confirm(chat: Chat) -> None:
    await chat.say("/start cx-maturity")
    for command in ("/yes", "/no"):
        assert f"{command} doesn't apply right now." in await chat.text(command)
    assert "earlier question" in await chat.text("/yes restart")


async def test_a_result_from_an_earlier_version_is_shown_as_it_was_stored(
    sqlite_store: Store, frameworks: FrameworkRegistry
) -> None:
    chat = Chat(Engine(frameworks, sqlite_store))
    await chat.say("/start pulse-test")
    for value in "222":
        await chat.say(value)  # 2.0: Mid
    pulse = frameworks.get("pulse-test")
    assert pulse is not None
    moved = [
        pulse.stages[0].model_copy(update={"max_score": Decimal("2.0")}),
        pulse.stages[1].model_copy(update={"min_score": Decimal("2.1")}),
        pulse.stages[2],
    ]
    changed = pulse.model_copy(update={"stages": tuple(moved), "version": "changed"})
    later = Chat(Engine(FrameworkRegistry([changed]), sqlite_store), chat.sender)
    replies = await later.say("/results")
    assert replies[0].title == "Your team pulse stage: Mid (2.0 of 4)"
    assert "earlier version" in replies[0].text


async def test_a_framework_removed_while_a_restart_is_confirmed(
    sqlite_store: Store, frameworks: FrameworkRegistry
) -> None:
    chat = Chat(Engine(frameworks, sqlite_store))
    await chat.say("/start pulse-test")
    await chat.say("2")
    await chat.say("/restart")
    cx = frameworks.get("cx-maturity")
    assert cx is not None
    without = Chat(Engine(FrameworkRegistry([cx]), sqlite_store), chat.sender)
    replies = await without.say("/yes restart")
    assert "earlier question" in replies[0].text
    assert (await without.say("/start"))[0].text.startswith("Hello")
