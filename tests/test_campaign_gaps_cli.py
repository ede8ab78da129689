"""`cxbot campaign create` from a shell: a minimum group under 3 and reminder limits out of range are
refused in one line with nothing stored; the output carries the web chat link and, once the
Telegram bot's username is known, the Telegram deep link; a campaign's own reminder limits are kept
and shown by `cxbot campaign status`."""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

from dialogs.campaign_view import TELEGRAM_USERNAME
from storage.campaign_repository import set_fact
from storage.store import open_store
from tests.test_campaign_cli import cxbot as run_cxbot
from tests.test_campaign_cli import environment

PUBLIC = "https://bot.example.org"
CREATE = ("campaign", "create", "--framework", "pulse-test", "--title", "Desk check")


async def cxbot(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    """`cxbot ARGS` as its own process on the test's SQLite file, with a public address set."""
    return await run_cxbot(tmp_path, *args, CXBOT_PUBLIC_URL=PUBLIC)


def join_code(out: str) -> str:
    found = re.search(r"^Join code: ([A-Z2-9]{4}-[A-Z2-9]{4})$", out, re.MULTILINE)
    assert found, out
    return found.group(1)


async def test_create_refuses_what_would_point_to_a_person_or_nag(tmp_path: Path) -> None:
    for extra, line in (
        (("--min-group", "2"), "cxbot: --min-group must be at least 3, so no result points to a person"),
        (("--max-reminders", "11"), "cxbot: --max-reminders must be from 0 to 10"),
        (("--max-reminders", "-1"), "cxbot: --max-reminders must be from 0 to 10"),
        (("--reminder-gap-days", "0"), "cxbot: --reminder-gap-days must be from 1 to 30"),
        (("--reminder-gap-days", "31"), "cxbot: --reminder-gap-days must be from 1 to 30"),
    ):
        status, out, err = await cxbot(tmp_path, *CREATE, *extra)
        assert (status, out, err) == (1, "", line + "\n"), extra
    status, out, _ = await cxbot(tmp_path, "campaign", "list")
    assert (status, out.strip()) == (
        0,
        "No campaigns yet: cxbot campaign create --framework ID --title TITLE",
    )


async def test_create_prints_the_join_links_and_keeps_the_reminder_limits(tmp_path: Path) -> None:
    status, out, err = await cxbot(tmp_path, *CREATE)
    assert status == 0, err
    code = join_code(out)
    assert f"Join in the web chat: {PUBLIC}/?join={code}" in out.splitlines()
    assert "t.me" not in out  # no Telegram bot has run on this database yet
    status, out, _ = await cxbot(tmp_path, "campaign", "status", code)
    assert "Each person gets at most 3 reminder(s) a round, at least 2 day(s) apart." in out

    store = await open_store(environment(tmp_path)["CXBOT_DATABASE_URL"])
    try:  # what the Telegram channel records when it starts
        await store.run(partial(set_fact, name=TELEGRAM_USERNAME, value="cx_desk_bot"))
    finally:
        await store.close()
    status, out, err = await cxbot(tmp_path, *CREATE, "--max-reminders", "1", "--reminder-gap-days", "5")
    assert status == 0, err
    code = join_code(out)
    lines = out.splitlines()
    assert f"Join in the web chat: {PUBLIC}/?join={code}" in lines
    assert f"Join on Telegram: https://t.me/cx_desk_bot?start={code}" in lines
    status, out, _ = await cxbot(tmp_path, "campaign", "status", code)
    assert "Each person gets at most 1 reminder(s) a round, at least 5 day(s) apart." in out
