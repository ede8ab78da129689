"""The failure-demand calculator (`/start failure-demand`) through the terminal and the webhook: the
questions in the issue's order, every figure of the summary against the hand-worked examples of
`tests.calculator_support`, `/channels`, `/csv` and the CSV link, `/results`, and restarts."""

from __future__ import annotations

import csv
import html
import io
import re
import uuid
from pathlib import Path
from typing import Any

from dialogs.engine import Engine
from frameworks.registry import FrameworkRegistry
from storage.store import open_store
from tests.calculator_support import (
    BY_CHANNEL,
    CALCULATOR,
    CHANNEL_ORDER,
    CHANNELS,
    INPUT_ORDER,
    NEVER,
    PAYS_BACK,
    Example,
    check_summary,
)
from tests.chat import Chat
from tests.test_terminal import cxbot
from tests.webhook_support import running_app, say, settings_for
from tests.webhook_support import texts as escaped_texts

CSV_LINK = re.compile(r"\[These figures as a CSV file\]\((http://[^)\s]+)\)")
TERMINAL_CSV_LINK = re.compile(r"These figures as a CSV file: (http://\S+)")
HEADINGS = re.compile(r"Figure (\d+) of (\d+): ([^=*\n]+?)(?: ==|\*\*)")


def texts(messages: list[dict[str, Any]]) -> str:
    """The webhook's texts as a widget shows them (the Markdown is HTML-escaped: `you&#x27;re`)."""
    return html.unescape(escaped_texts(messages))


def asked(text: str) -> list[tuple[int, int, str]]:
    """Each question heading in the order it was shown: (number, count, short name)."""
    return [(int(n), int(count), short) for n, count, short in HEADINGS.findall(text)]


def csv_rows(text: str) -> dict[tuple[str, str], dict[str, str]]:
    """The export's rows by (section, id)."""
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["section", "id", "label", "value", "shown", "formula"]
    return {(row["section"], row["id"]): row for row in rows}


def check_csv(text: str, example: Example) -> None:
    """The export holds every input and figure as the summary shows it, each figure with its exact
    value and formula, and names its calculator and rounding."""
    rows = csv_rows(text)
    assert rows["about", "calculator"]["label"] == "The cost of failure demand"
    assert re.fullmatch(r"[0-9a-f]{12}", rows["about", "calculator"]["value"])
    assert rows["about", "rounding"]["value"] == "half-up"
    shown_inputs = {row["label"]: row["shown"] for key, row in rows.items() if key[0] == "input"}
    shown_figures = {row["label"]: row["shown"] for key, row in rows.items() if key[0] == "figure"}
    assert shown_inputs == example.inputs
    assert shown_figures == example.figures


# --- the terminal --------------------------------------------------------------------------


def test_the_terminal_asks_in_order_and_works_out_a_payback(tmp_path: Path) -> None:
    done = cxbot(tmp_path, [f"/start {CALCULATOR}", *PAYS_BACK.typed, "/csv"])
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    out = done.stdout
    assert asked(out) == [(n, 6, short) for n, short in enumerate(INPUT_ORDER, start=1)]
    check_summary(out, PAYS_BACK)
    assert "== The cost of failure demand: your figures ==" in out
    assert "Send /channels to refine it with a cost by channel." in out
    exported = out.split("== The cost of failure demand: CSV ==\n", 1)[1].split("\n\n", 1)[0]
    check_csv(exported, PAYS_BACK)
    rows = csv_rows(exported)
    assert rows["input", "failure_share"]["value"] == "0.15"  # exact, for a spreadsheet
    assert rows["figure", "roi_3"]["value"] == "0.636364"  # 10,500 / 16,500 to six places
    assert rows["figure", "payback"]["value"] == "19.2"


def test_the_terminal_says_never_when_the_saving_does_not_cover_the_running_cost(tmp_path: Path) -> None:
    done = cxbot(tmp_path, [f"/start {CALCULATOR}", *NEVER.typed])
    assert done.returncode == 0, done.stderr
    check_summary(done.stdout, NEVER)
    assert "- Payback: never\n" in done.stdout


def test_inputs_survive_a_restart_halfway_and_results_after_it(tmp_path: Path) -> None:
    first = cxbot(tmp_path, [f"/start {CALCULATOR}", *PAYS_BACK.typed[:3]])
    assert first.returncode == 0, first.stderr
    assert asked(first.stdout)[-1] == (4, 6, "Reduction aimed for")

    second = cxbot(tmp_path, list(PAYS_BACK.typed[3:]))  # `cxbot chat` sends /start first
    assert second.returncode == 0, second.stderr
    assert "Welcome back: you're on figure 4 of 6 of The cost of failure demand." in second.stdout
    check_summary(second.stdout, PAYS_BACK)

    third = cxbot(tmp_path, ["/results"])
    assert third.returncode == 0, third.stderr
    check_summary(third.stdout, PAYS_BACK)


def test_the_terminal_refines_by_channel(tmp_path: Path) -> None:
    done = cxbot(tmp_path, [f"/start {CALCULATOR}", *PAYS_BACK.typed, "/channels", *CHANNELS.typed])
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "== Cost by channel ==" in out
    refined = [short for _, count, short in asked(out) if count == 13]
    assert refined == list(CHANNEL_ORDER)
    check_summary(out, CHANNELS, by_channel=True)
    assert "Send /channels" not in out.rsplit("What you told me:", 1)[1]  # offered until it is given


def test_the_terminal_goes_back_through_every_step_and_keeps_each_value(tmp_path: Path) -> None:
    keeps = [f"Keep {PAYS_BACK.inputs[short]}" for short in INPUT_ORDER[:5]]  # typed button titles
    session = [f"/start {CALCULATOR}", "/back", *PAYS_BACK.typed[:5], *["/back"] * 5, *keeps]
    done = cxbot(tmp_path, [*session, PAYS_BACK.typed[5]])
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.count("This is the first figure, so there is nothing to go back to.") == 1
    numbers = [number for number, _, _ in asked(out)]
    assert numbers == [1, 1, 2, 3, 4, 5, 6, 5, 4, 3, 2, 1, 2, 3, 4, 5, 6]
    for short in INPUT_ORDER[:5]:
        assert f"So far: {PAYS_BACK.inputs[short]}. Tap Keep to leave it, or type a new value." in out
    check_summary(out, PAYS_BACK)


async def test_the_terminal_link_downloads_the_csv_from_the_server(tmp_path: Path) -> None:
    done = cxbot(tmp_path, [f"/start {CALCULATOR}", *NEVER.typed])
    assert done.returncode == 0, done.stderr
    link = TERMINAL_CSV_LINK.search(done.stdout)
    assert link is not None, done.stdout
    path = "/" + link.group(1).split("/", 3)[3]  # the server beside the terminal, on the same database
    settings = settings_for(tmp_path, database_url=f"sqlite:///{tmp_path / 'chat.db'}")
    async with running_app(settings) as (client, _):
        response = await client.get(path)
        assert response.status == 200, await response.text()
        check_csv(await response.text(), NEVER)


# --- the webhook ---------------------------------------------------------------------------


async def fill_in(client: Any, sender: str, typed: tuple[str, ...]) -> list[dict[str, Any]]:
    """Start the calculator and type each value; the last answer."""
    messages = await say(client, sender, f"/start {CALCULATOR}")
    shown = [texts(messages)]
    for value in typed:
        messages = await say(client, sender, value)
        shown.append(texts(messages))
    assert asked("\n".join(shown)) == [(n, 6, short) for n, short in enumerate(INPUT_ORDER, start=1)]
    return messages


async def download(client: Any, messages: list[dict[str, Any]]) -> str:
    """The CSV behind the summary's link, checked to be a private CSV attachment."""
    found = CSV_LINK.search(texts(messages))
    assert found is not None, texts(messages)
    async with client.session.get(found.group(1)) as response:
        assert response.status == 200
        assert response.content_type == "text/csv"
        assert response.charset == "utf-8"
        assert response.headers["Content-Disposition"] == f'attachment; filename="{CALCULATOR}.csv"'
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        return str(await response.text())


async def test_the_webhook_works_out_both_examples_and_exports_them(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        for sender, example in (("payer", PAYS_BACK), ("never", NEVER)):
            messages = await fill_in(client, sender, example.typed)
            check_summary(texts(messages), example)
            check_csv(await download(client, messages), example)
            exported = await say(client, sender, "/csv")
            assert "**The cost of failure demand: CSV**" in texts(exported)
            check_csv(await download(client, exported), example)


async def test_results_and_the_link_outlast_a_restart_of_the_server(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    async with running_app(settings) as (client, _):
        messages = await fill_in(client, "keeper", NEVER.typed)
        link = CSV_LINK.search(texts(messages))
        assert link is not None
        path = "/" + link.group(1).split("/", 3)[3]
    async with running_app(settings) as (client, _):
        again = await say(client, "keeper", "/results")
        check_summary(texts(again), NEVER)
        response = await client.get(path)
        assert response.status == 200
        check_csv(await response.text(), NEVER)
        missing = await client.get(path.replace(path.split("/")[2][:4], "zzzz", 1))
        assert missing.status == 404
        assert "no figures at this address" in (await missing.json())["error"]


async def test_the_webhook_inputs_survive_a_restart_halfway(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    async with running_app(settings) as (client, _):
        await say(client, "halfway", f"/start {CALCULATOR}")
        for value in PAYS_BACK.typed[:4]:
            await say(client, "halfway", value)
    async with running_app(settings) as (client, _):
        resumed = await say(client, "halfway", "/start")
        assert "Welcome back: you're on figure 5 of 6" in texts(resumed)
        again = await say(client, "halfway", f"/start {CALCULATOR}")  # carries on, does not restart
        assert "Welcome back: you're on figure 5 of 6" in texts(again)
        for value in PAYS_BACK.typed[4:]:
            messages = await say(client, "halfway", value)
        check_summary(texts(messages), PAYS_BACK)


async def test_channels_refines_and_recomputes_and_the_first_result_stays(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        first = await fill_in(client, "channels", PAYS_BACK.typed)
        asking = await say(client, "channels", "/channels")
        assert "**Cost by channel**" in texts(asking)
        assert asked(texts(asking)) == [(7, 13, "Share by phone")]
        shown = []
        for value in CHANNELS.typed:
            messages = await say(client, "channels", value)
            shown.append(texts(messages))
        assert [short for _, _, short in asked("\n".join(shown))] == list(CHANNEL_ORDER[1:])
        check_summary(texts(messages), CHANNELS, by_channel=True)
        check_csv(await download(client, messages), CHANNELS)
        rows = csv_rows(await download(client, messages))
        assert rows["figure", "failure_cost"]["formula"] == BY_CHANNEL
        check_csv(await download(client, first), PAYS_BACK)  # the first link still gives the first result
        latest = await say(client, "channels", "/results")
        check_summary(texts(latest), CHANNELS, by_channel=True)


async def test_channel_shares_cannot_add_up_to_more_than_all(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        await fill_in(client, "shares", PAYS_BACK.typed)
        await say(client, "shares", "/channels")
        await say(client, "shares", "50%")
        await say(client, "shares", "8")
        refused = await say(client, "shares", "60%")
        assert "Share face to face can be at most 50% here, given the figures before it." in texts(refused)
        assert "Your other figures are kept as they were." in texts(refused)
        assert asked(texts(refused)) == [(9, 13, "Share face to face")]
        for value in ("0.2", "25"):
            await say(client, "shares", value)
        refused = await say(client, "shares", "31%")
        assert "Share by email can be at most 30% here" in texts(refused)
        for value in CHANNELS.typed[4:]:
            messages = await say(client, "shares", value)
        check_summary(texts(messages), CHANNELS, by_channel=True)


async def test_back_works_at_every_step(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        messages = await say(client, "back", f"/start {CALCULATOR}")
        first = await say(client, "back", "/back")
        assert "This is the first figure, so there is nothing to go back to." in texts(first)
        assert asked(texts(first)) == [(1, 6, INPUT_ORDER[0])]
        for value in PAYS_BACK.typed[:5]:
            messages = await say(client, "back", value)
        # from figure 6 back to 1, by the Back button and by typing /back in turn, each showing the
        # value given so far; nothing is lost on the way
        for number in range(6, 1, -1):
            back = button(messages, "Back") if number % 2 else "/back"
            messages = await say(client, "back", back)
            assert asked(texts(messages)) == [(number - 1, 6, INPUT_ORDER[number - 2])]
            shown = PAYS_BACK.inputs[INPUT_ORDER[number - 2]]
            assert f"So far: {shown}. Tap Keep to leave it, or type a new value." in texts(messages)
        assert "Back" not in [b["title"] for b in messages[-1].get("buttons", [])]  # none before figure 1
        # forward again: Keep four times, a new value for the fifth, then the last
        for number in range(1, 5):
            messages = await say(
                client, "back", button(messages, f"Keep {PAYS_BACK.inputs[INPUT_ORDER[number - 1]]}")
            )
        messages = await say(client, "back", "24k")
        messages = await say(client, "back", PAYS_BACK.typed[5])
        summary = texts(messages)
        assert "- One-off cost of the programme: 24,000" in summary
        assert "- Payback: 38.4 months" in summary  # 24,000 / ((9,000 - 1,500) / 12) = 24,000 / 625


async def test_back_in_the_refinement_reaches_every_step_and_the_inputs_before(
    tmp_path: Path,
) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        await fill_in(client, "back2", PAYS_BACK.typed)
        await say(client, "back2", "/channels")
        for value in CHANNELS.typed[:6]:
            messages = await say(client, "back2", value)
        assert asked(texts(messages)) == [(13, 13, "Cost of a web contact")]
        for number in range(13, 6, -1):
            messages = await say(client, "back2", "/back")
            assert asked(texts(messages))[-1][0] == number - 1
        assert asked(texts(messages)) == [(6, 13, "Yearly running cost")]
        for _ in range(6, 13):
            messages = await say(client, "back2", button(messages, next_keep(messages)))
        messages = await say(client, "back2", CHANNELS.typed[6])
        check_summary(texts(messages), CHANNELS, by_channel=True)


def button(messages: list[dict[str, Any]], title: str) -> str:
    """The payload of the button with this title in the last message that has buttons."""
    buttons = [message["buttons"] for message in messages if "buttons" in message][-1]
    return next(b["payload"] for b in buttons if b["title"] == title)


def next_keep(messages: list[dict[str, Any]]) -> str:
    buttons = [message["buttons"] for message in messages if "buttons" in message][-1]
    return next(b["title"] for b in buttons if b["title"].startswith("Keep "))


async def test_erasing_your_data_takes_the_figures_and_their_link_with_it(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        messages = await fill_in(client, "eraser", PAYS_BACK.typed)
        link = CSV_LINK.search(texts(messages))
        assert link is not None
        mine = texts(await say(client, "eraser", "/mydata"))
        assert "Contacts a year: 12,000" in mine
        assert "Payback: 19.2 months" in mine
        await say(client, "eraser", "/deletemydata")
        await say(client, "eraser", "erase")
        async with client.session.get(link.group(1)) as response:
            assert response.status == 404
        assert "You have no results yet." in texts(await say(client, "eraser", "/results"))
        assert "nothing to export" in texts(await say(client, "eraser", "/csv"))


async def test_the_calculator_is_stored_alike_on_sqlite_and_postgresql(
    database_url: str, frameworks: FrameworkRegistry
) -> None:
    """Halfway, a restart of the store, the rest, the summary; /results and the CSV after another."""
    sender = f"stored-{uuid.uuid4().hex[:8]}"
    store = await open_store(database_url)
    try:
        person = Chat(Engine(frameworks, store), sender=sender)
        await person.say(f"/start {CALCULATOR}")
        for value in NEVER.typed[:3]:
            await person.say(value)
    finally:
        await store.close()
    store = await open_store(database_url)
    try:
        person = Chat(Engine(frameworks, store), sender=sender)
        assert "Welcome back: you're on figure 4 of 6" in await person.text("/start")
        for value in NEVER.typed[3:-1]:
            await person.say(value)
        check_summary(await person.text(NEVER.typed[-1]), NEVER)
    finally:
        await store.close()
    store = await open_store(database_url)
    try:
        engine = Engine(frameworks, store)
        person = Chat(engine, sender=sender)
        check_summary(await person.text("/results"), NEVER)
        exported = await person.say("/csv")
        token = exported[0].links[0].url.split("/")[-1].split(".csv")[0]
        found = await engine.calculation_csv(token, "en")
        assert found is not None
        assert found.calculator_id == CALCULATOR
        assert exported[0].text == found.text
        check_csv(found.text, NEVER)
    finally:
        await store.close()
