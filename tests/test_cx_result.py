"""The CX result as people read it: through the REST webhook (the web chat's protocol) and the terminal.

The order of its messages, what would move you up, the resources, the chart's overall score, the
terminal's wrapping, and what a reloaded web chat shows after a finished assessment.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from bot.charts import draw_chart
from bot.terminal import TerminalChat
from dialogs.engine import Engine
from dialogs.types import Chart
from tests.chat import Chat
from tests.webhook_support import running_app, say, settings_for, texts

ONE_SHORT = [3] * 7 + [4] * 4
"""37 / 11 = 3.4, Targeted: one answer one level higher makes 38 / 11 = 3.5, Personalized."""
FOUR_SHORT = [3] * 10 + [4]
"""34 / 11 = 3.1: Personalized needs a sum of 38, so four answers one level higher."""
WEAKEST_FIRST = [1, 1, 1] + [5] * 8
"""Organizational self-awareness is weakest, so its resources (with long, hyphenated addresses) lead."""
MOVE_UP = "**What would move you up**"


async def finish(client: Any, sender: str, values: list[int]) -> list[dict[str, Any]]:
    """Take the CX assessment through the webhook with these answers; the result's messages."""
    await say(client, sender, "/start cx-maturity")
    for value in values:
        await say(client, sender, str(value))
    return await say(client, sender, "/submit")


def index_of(messages: list[dict[str, Any]], pattern: str) -> int:
    """The first message whose text matches `pattern`."""
    found = [i for i, message in enumerate(messages) if re.search(pattern, message.get("text", ""))]
    assert found, f"no message matches {pattern!r}: {texts(messages)}"
    return found[0]


def move_up_items(messages: list[dict[str, Any]]) -> list[str]:
    text = messages[index_of(messages, re.escape(MOVE_UP))]["text"]
    return [line.rstrip() for line in text.splitlines() if line.startswith("- ")]


async def test_linked_resources_come_first_and_titles_without_links_after_them(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        messages = await finish(client, "reader", WEAKEST_FIRST)
    linked = index_of(messages, r"\*\*Resources\*\*")
    unlinked = index_of(messages, r"Also worth")
    assert "](https://" in messages[linked]["text"]
    assert "Also worth" not in messages[linked]["text"]  # not a list the links seem to continue
    assert linked < unlinked
    assert "](http" not in messages[unlinked]["text"]


async def test_the_chart_follows_the_scores_not_what_would_move_you_up(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        messages = await finish(client, "viewer", FOUR_SHORT)
    image = next(i for i, message in enumerate(messages) if "image" in message)
    summary = messages[image - 1]["text"]
    assert summary.startswith("**Your CX maturity stage: Targeted (3.1 of 5)**")
    assert "Citizen context and trust: " in summary
    assert "move you up" not in summary
    assert index_of(messages, re.escape(MOVE_UP)) == image + 1


async def test_one_answer_to_raise_is_named_in_the_singular(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        messages = await finish(client, "single", ONE_SHORT)
    text = messages[index_of(messages, re.escape(MOVE_UP))]["text"]
    assert "Raising this answer by one level would take you to Personalized:" in text
    assert "these" not in text
    assert len(move_up_items(messages)) == 1


async def test_every_answer_it_takes_to_move_up_is_listed(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        messages = await finish(client, "four", FOUR_SHORT)
    text = messages[index_of(messages, re.escape(MOVE_UP))]["text"]
    assert "Raising these 4 answers by one level each would take you to Personalized:" in text
    items = move_up_items(messages)
    assert len(items) == 4
    assert all(item.endswith("(now 3 - Targeted)") for item in items)  # the lowest answers first


async def test_reloading_the_web_chat_after_finishing_shows_the_result(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        first_visit = await say(client, "returner", "/start")
        assert "stage:" not in texts(first_visit)  # nothing finished yet: the menu alone
        await finish(client, "returner", FOUR_SHORT)
        reloaded = await say(client, "returner", "/start")  # what chat.js sends when the page loads
        assert reloaded[0]["text"].startswith("**Your CX maturity stage: Targeted (3.1 of 5)**")
        assert "image" in reloaded[1]
        assert "/results shows all of it" in texts(reloaded)
        payloads = [b["payload"] for m in reloaded if "buttons" in m for b in m["buttons"]]
        assert "/start cx-maturity" in payloads  # and the assessments on offer, as before


async def test_a_run_in_progress_is_resumed_on_reload_not_replaced_by_the_result(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        await finish(client, "again", FOUR_SHORT)
        await say(client, "again", "/start cx-maturity")
        await say(client, "again", "2")
        reloaded = await say(client, "again", "/start")
        assert "stage:" not in texts(reloaded)
        assert "**Question 2 of 11" in texts(reloaded)


async def test_terminal_wrapping_never_breaks_an_address(engine: Engine) -> None:
    whole, wrapped = io.StringIO(), io.StringIO()
    for out, width in ((whole, None), (wrapped, 48)):
        chat = TerminalChat(engine, f"pat-{width}", out=out, width=width)
        for line in ["/start cx-maturity", *map(str, WEAKEST_FIRST), "/submit"]:
            await chat.send(line)
    addresses = re.findall(r"https?://\S+", whole.getvalue())
    assert any("-" in address and len(address) > 48 for address in addresses)
    for address in addresses:
        assert address in wrapped.getvalue()
    assert max(map(len, wrapped.getvalue().splitlines())) > 48  # only because addresses stay whole


async def test_terminal_chart_note_follows_the_scores(engine: Engine) -> None:
    out = io.StringIO()
    chat = TerminalChat(engine, "terminal-reader", out=out)
    for line in ["/start cx-maturity", *map(str, FOUR_SHORT), "/submit"]:
        await chat.send(line)
    lines = out.getvalue().splitlines()
    note = next(i for i, line in enumerate(lines) if line.startswith("(The chart of these scores"))
    assert lines[note - 1].startswith("Citizen context and trust: ")
    assert lines.index("== What would move you up ==") > note


async def test_the_chart_marks_the_overall_score(chat: Chat, engine: Engine) -> None:
    await chat.say("/start cx-maturity")
    for value in FOUR_SHORT:
        await chat.say(str(value))
    summary = (await chat.say("/submit"))[0]
    assert isinstance(summary.chart, Chart)
    assert summary.chart.overall == 3.1
    stored = await engine.chart(summary.chart.token)  # the picture the web chat fetches by URL
    assert stored is not None
    assert stored.overall == 3.1
    axes = Figure().add_subplot()
    draw_chart(axes, stored)
    marks = [line for line in axes.get_lines() if np.asarray(line.get_xdata()).tolist() == [3.1, 3.1]]
    assert len(marks) == 1
    assert "CX maturity: 3.1" in [text.get_text() for text in axes.texts]
