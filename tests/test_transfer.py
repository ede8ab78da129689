"""`cxbot export` and `cxbot import`: a SQLite database filled through real use moves to PostgreSQL
and back with every row of every table unchanged, and the imported database serves on; a file that
cannot be imported whole is refused in one line, with nothing imported.

The commands run in this process through `bot.cli.main`, exactly as the `cxbot` script calls it (a
process each would add a second apiece); the server on the imported database is a real process."""

from __future__ import annotations

import asyncio
import gzip
import json
import sqlite3
import stat
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import Connection, Integer, func, select, text

from bot.app import running_engine
from bot.cli import main
from bot.settings import Settings
from bot.web.visitors import KEY_NAME
from dialogs import codes
from dialogs.campaign_dialogue import new_campaign
from dialogs.campaign_view import TELEGRAM_USERNAME
from dialogs.engine import Engine
from dialogs.types import Inbound
from storage import campaign_admin as admin
from storage import revision
from storage.campaign_repository import set_fact
from storage.direct import run_direct
from storage.service_keys import service_key
from storage.tables import metadata
from storage.time import utc
from tests.chat import Chat
from tests.conftest import new_postgres_database
from tests.serve_process import serving

Rows = dict[str, list[tuple[Any, ...]]]
PULSE_ANSWERS = ("3", "4", "2", "3", "4")
CALCULATOR_INPUTS = ("250k", "20%", "4.50", "30%", "100000", "20000")
HALFWAY = "halfway"
"""The web visitor whose cx-maturity run is left open at question 5, to be finished after the move."""


class Person(Chat):
    """A web visitor whose every message carries a delivery id, as the web chat's do (so the
    replies to recent deliveries are stored too)."""

    sent = 0

    async def say(self, text: str, message_id: str | None = None) -> Any:
        Person.sent += 1
        return await super().say(text, message_id or f"m-{Person.sent}")


async def fill(url: str) -> None:
    """Use cxbot as people do: a campaign with groups, two rounds, a reminder, a schedule and an
    invitation; finished and open assessments; a calculator; a language chosen; an erasure."""
    async with running_engine(Settings(_env_file=None, database_url=url)) as engine:
        code = await campaign(engine)
        owner = Person(engine, "owner", channel="web")
        members = [Person(engine, f"member-{n}", channel="web") for n in range(8)]
        for n, member in enumerate(members):  # 4 and 3 finish in the two groups: both are counted
            await member.say(f"/join {code}")
            await member.say(str(n % 2 + 1))  # the group, by its number
            for value in PULSE_ANSWERS if n < 7 else PULSE_ANSWERS[:2]:  # the last one stops part-way
                await member.say(value)
        await owner.say(f"/campaign remind {code}")
        await owner.say(f"/campaign round {code}")
        await owner.say(f"/campaign schedule {code} remind 3")
        await owner.say(f"/campaign add-facilitator {code}")
        await members[0].say("/deletemydata")
        assert "everything stored about you has been erased" in await members[0].text("erase")
        await open_and_finished(engine)
        await engine.store.run(partial(service_key, name=KEY_NAME))
        await engine.store.run(partial(set_fact, name=TELEGRAM_USERNAME, value="cx_test_bot"))


async def campaign(engine: Engine) -> str:
    """A campaign with two groups, made as `cxbot campaign create` makes it; its join code."""
    framework = engine.context.frameworks.get("cx-pulse")
    assert framework is not None
    change = new_campaign(framework.id, framework.version, "Service desk", 3, ("Front office", "Back office"))
    made = await engine.store.run(partial(admin.create, change=change, owner_channel="web", owner="owner"))
    return codes.shown(made.code)


async def open_and_finished(engine: Engine) -> None:
    """An assessment left open, one finished, a calculator run, a language, a bridge's person."""
    halfway = Person(engine, HALFWAY, channel="web")
    for message in ("/start cx-maturity", "3", "4", "2", "5"):
        await halfway.say(message)
    finished = Person(engine, "finished", channel="web")
    for message in ("/language pt-BR", "/start cx-pulse", *PULSE_ANSWERS):
        await finished.say(message)
    calculating = Person(engine, "calculating", channel="web")
    await calculating.say("/start failure-demand")
    for figure in CALCULATOR_INPUTS:
        said = await calculating.text(figure)
    assert "Payback" in said or "payback" in said, said
    bridged = Inbound(
        "webhook", "crm-981", "/start cx-pulse", "bridge-1", push_url="https://receiver.test/in"
    )
    await engine.handle(bridged)


def every_row(conn: Connection) -> Rows:
    """Every row of every table, in primary key order; times as aware UTC (SQLite's are naive)."""
    found: Rows = {}
    for table in metadata.sorted_tables:
        order = list(table.primary_key.columns)
        found[table.name] = [
            tuple(utc(value) if isinstance(value, datetime) else value for value in row)
            for row in conn.execute(select(table).order_by(*order))
        ]
    return found


def rows_of(url: str) -> Rows:
    return asyncio.run(run_direct(url, every_row))


def assert_same_rows(expected: Rows, found: Rows) -> None:
    assert list(found) == list(expected)
    for name, rows in expected.items():
        assert found[name] == rows, f"table {name} differs"


def sequences_behind(conn: Connection) -> list[str]:
    """PostgreSQL's serial columns whose sequence would hand out an id already taken."""
    behind = []
    for table in metadata.sorted_tables:
        for column in table.columns:
            sequence = conn.scalar(select(func.pg_get_serial_sequence(table.name, column.name)))
            if sequence is None or not isinstance(column.type, Integer):
                continue
            largest = conn.scalar(select(func.coalesce(func.max(column), 0)))
            state = conn.execute(text(f"SELECT last_value, is_called FROM {sequence}")).one()
            next_value = state.last_value + 1 if state.is_called else state.last_value
            if next_value <= largest:
                behind.append(f"{table.name}.{column.name}")
    return behind


class Cli:
    """`cxbot` in this test's directory (no .env from the repository)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        self.monkeypatch = monkeypatch
        self.capsys = capsys

    def __call__(self, url: str, *args: str) -> tuple[int, str]:
        """`cxbot ARGS` on the database at `url`: (exit status, what it printed on stderr)."""
        status, _, err = self.out(url, *args)
        return status, err

    def out(self, url: str, *args: str) -> tuple[int, str, str]:
        """`cxbot ARGS` on the database at `url`: (exit status, stdout, stderr)."""
        self.monkeypatch.setenv("CXBOT_DATABASE_URL", url)
        self.capsys.readouterr()
        status = main(list(args))
        out, err = self.capsys.readouterr()
        return status, out, err

    def refuses_import(self, name: str, *words: str, into: str | None = None) -> None:
        """Importing `name` into a new database (a SQLite file unless `into` names one) is refused,
        and leaves it without a row."""
        target = into or f"sqlite:///{Path('target.db').resolve()}"
        status, said = self(target, "import", name)
        assert_refused(status, said, *words, "(nothing was imported)")
        if into is not None or Path("target.db").exists():
            assert not any(rows_of(target).values())


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Rows]:
    """A SQLite database filled through real use, and its rows."""
    path = tmp_path_factory.mktemp("filled") / "team.db"
    url = f"sqlite:///{path}"
    asyncio.run(fill(url))
    rows = rows_of(url)
    empty = [name for name, found in rows.items() if not found]
    assert not empty, f"real use left these tables empty, so the round trip would not test them: {empty}"
    return url, rows


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.chdir(tmp_path)  # no .env from the repository
    monkeypatch.delenv("CXBOT_FRAMEWORKS_PATH", raising=False)
    return Cli(monkeypatch, capsys)


def test_everything_moves_to_postgresql_and_back_and_serves_on(
    filled: tuple[str, Rows], cli: Cli, tmp_path: Path
) -> None:
    source, rows = filled
    status, said = cli(source, "export", "team.jsonl")
    assert status == 0, said
    assert f"exported {sum(map(len, rows.values())):,} rows of {len(rows)} tables" in said
    with new_postgres_database("cxbot_transfer") as postgres:
        status, said = cli(postgres, "import", "team.jsonl")
        assert status == 0, said
        assert_same_rows(rows, rows_of(postgres))
        assert asyncio.run(run_direct(postgres, sequences_behind)) == []

        status, said = cli(postgres, "export", "again.jsonl.gz")
        assert status == 0, said
        back = f"sqlite:///{tmp_path / 'back.db'}"
        status, said = cli(back, "import", "again.jsonl.gz")
        assert status == 0, said
        assert_same_rows(rows, rows_of(back))

        asyncio.run(serve_on(tmp_path, postgres))
        after = rows_of(postgres)
    assert len(after["participants"]) == len(rows["participants"]) + 1
    assert len(after["results"]) == len(rows["results"]) + 2


async def serve_on(tmp_path: Path, url: str) -> None:
    """`cxbot serve` on the imported database: the open run goes on where it stopped, and a new
    person gets new ids (the sequences were moved past the imported ones)."""
    async with serving(tmp_path, CXBOT_DATABASE_URL=url) as served, aiohttp.ClientSession() as session:
        base = f"http://127.0.0.1:{served.port}/webhooks/rest/webhook"

        async def say(sender: str, message: str) -> str:
            async with session.post(base, json={"sender": sender, "message": message}) as response:
                assert response.status == 200, await response.text()
                return "\n".join(reply.get("text", "") for reply in await response.json())

        assert "Question 5 of 11" in await say(HALFWAY, "/start")
        for _ in range(7):
            await say(HALFWAY, "3")
        assert "stage" in (await say(HALFWAY, "/submit")).lower()
        await say("newcomer", "/start cx-pulse")
        for value in PULSE_ANSWERS:
            said = await say("newcomer", value)
        assert "pulse stage" in said.lower()
        assert await served.stop() == 0


def test_an_export_goes_only_into_an_empty_database(
    filled: tuple[str, Rows], cli: Cli, tmp_path: Path
) -> None:
    source, rows = filled
    assert cli(source, "export", "team.jsonl")[0] == 0
    status, said = cli(source, "import", "team.jsonl")
    assert_refused(status, said, "not empty")
    assert_same_rows(rows, rows_of(source))


def damaged(lines: list[str]) -> list[str]:
    """A row in the middle of the answers replaced by something that is not JSON."""
    start = lines.index(next(line for line in lines if line.startswith('{"table":"answers"')))
    return [*lines[: start + 2], '[17, "q1", \n', *lines[start + 3 :]]


def mistyped(lines: list[str]) -> list[str]:
    """A row of runs whose id is text: JSON, but not a row of that table."""
    start = lines.index(next(line for line in lines if line.startswith('{"table":"runs"')))
    row = json.loads(lines[start + 1])
    return [*lines[: start + 1], json.dumps(["seven", *row[1:]]) + "\n", *lines[start + 2 :]]


def truncated(lines: list[str]) -> list[str]:
    """The file cut off two thirds of the way through."""
    return lines[: len(lines) * 2 // 3]


def from_the_future(lines: list[str]) -> list[str]:
    header = json.loads(lines[0])
    return [json.dumps({**header, "revision": "9999"}) + "\n", *lines[1:]]


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (damaged, "is not JSON"),
        (mistyped, "cannot be read"),
        (truncated, "cut short"),
        (from_the_future, "revision 9999"),
    ],
)
@pytest.mark.parametrize("compressed", [False, True])
def test_a_file_that_cannot_be_imported_whole_imports_nothing(
    filled: tuple[str, Rows], cli: Cli, change: Any, says: str, compressed: bool
) -> None:
    assert cli(filled[0], "export", "team.jsonl")[0] == 0
    lines = change(Path("team.jsonl").read_text(encoding="utf-8").splitlines(keepends=True))
    content = "".join(lines).encode()
    name = "bad.jsonl.gz" if compressed else "bad.jsonl"
    Path(name).write_bytes(gzip.compress(content) if compressed else content)
    cli.refuses_import(name, says)


def test_a_damaged_file_leaves_postgresql_empty(filled: tuple[str, Rows], cli: Cli) -> None:
    assert cli(filled[0], "export", "team.jsonl")[0] == 0
    lines = Path("team.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    Path("bad.jsonl").write_text("".join(damaged(lines)), encoding="utf-8")
    with new_postgres_database("cxbot_transfer") as postgres:  # rows went in before the damage
        cli.refuses_import("bad.jsonl", "is not JSON", into=postgres)


def test_a_gzip_file_cut_short_is_refused(filled: tuple[str, Rows], cli: Cli) -> None:
    assert cli(filled[0], "export", "team.jsonl.gz")[0] == 0
    whole = Path("team.jsonl.gz").read_bytes()
    Path("cut.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    cli.refuses_import("cut.jsonl.gz", "cut short")


def test_something_else_than_an_export_is_refused(cli: Cli) -> None:
    Path("notes.txt").write_text("minutes of the meeting\n", encoding="utf-8")
    cli.refuses_import("notes.txt", "not a cxbot export")
    cli.refuses_import("missing.jsonl", "cannot read missing.jsonl")


def assert_refused(status: int, said: str, *words: str) -> None:
    """Exit status 1 and one line saying why."""
    assert status == 1, said
    lines = said.strip().splitlines()
    assert len(lines) == 1, said
    assert lines[0].startswith("cxbot: ")
    for word in words:
        assert word in lines[0], said


# --- cxbot db current, upgrade, backup ------------------------------------------------------------


def test_db_current_says_whether_the_schema_is_the_latest_and_upgrade_makes_it(
    cli: Cli, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    status, out, _ = cli.out(url, "db", "current")
    assert (status, out.strip()) == (
        1,
        f"no database at {tmp_path / 'new.db'} yet (cxbot db upgrade, or cxbot serve, makes it)",
    )
    status, out, _ = cli.out(url, "db", "upgrade")
    head = revision.head()
    assert (status, out.strip()) == (0, f"{url}: migrated from revision (none) to {head}, the latest")
    status, out, _ = cli.out(url, "db", "upgrade")
    assert (status, out.strip()) == (0, f"{url}: at revision {head}, the latest; nothing to do")
    assert cli.out(url, "db", "current")[:2] == (0, f"{head} (the latest)\n")


def test_db_current_names_a_revision_behind_or_unknown(
    filled: tuple[str, Rows], cli: Cli, tmp_path: Path
) -> None:
    source, _ = filled
    assert cli(source, "db", "backup", "copy.db")[0] == 0
    copy = f"sqlite:///{tmp_path / 'copy.db'}"
    for at, says in (("0004", "behind: the latest is"), ("9999", "not a revision this cxbot knows")):
        with sqlite3.connect(tmp_path / "copy.db") as conn:
            conn.execute("UPDATE alembic_version SET version_num = ?", (at,))
        status, out, _ = cli.out(copy, "db", "current")
        assert status == 1
        assert out.startswith(f"{at} ({says}")
        status, said = cli(copy, "export", f"at-{at}.jsonl")
        assert_refused(status, said, f"revision {at}")
        assert not Path(f"at-{at}.jsonl").exists()


def test_db_backup_copies_sqlite_while_it_serves_and_overwrites_nothing(
    filled: tuple[str, Rows], cli: Cli, tmp_path: Path
) -> None:
    source, rows = filled
    status, out, _ = cli.out(source, "db", "backup", "copy.db")
    assert status == 0
    assert "to copy.db (" in out
    assert stat.S_IMODE((tmp_path / "copy.db").stat().st_mode) == 0o600  # it holds every answer
    assert_same_rows(rows, rows_of(f"sqlite:///{tmp_path / 'copy.db'}"))
    status, said = cli(source, "db", "backup", "copy.db")
    assert_refused(status, said, "copy.db exists")
    status, said = cli("postgresql://nobody@127.0.0.1:1/none", "db", "backup", "x.db")
    assert_refused(status, said, "pg_dump")
