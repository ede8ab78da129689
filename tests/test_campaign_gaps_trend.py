"""A pulse whose questionnaire changed between rounds: the trend compares only rounds answered on the
same version of the framework, and says which rounds it leaves out, on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from dialogs import codes
from dialogs.campaign_queries import group_report
from dialogs.engine import Engine
from dialogs.report_json import report_json
from frameworks.loader import load_framework
from storage.campaign_repository import campaign_by_code
from tests.chat import Chat
from tests.test_campaigns import create
from tests.test_framework_versions import PULSE, change_the_file, serving

PEOPLE = 5


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A frameworks folder of its own holding the 3-question pulse-test (its file is changed below)."""
    path = tmp_path / "frameworks"
    path.mkdir()
    shutil.copy(PULSE, path / "pulse-test.yaml")
    return path


async def answer_round(engine: Engine, code: str, value: str) -> None:
    for n in range(PEOPLE):
        chat = Chat(engine, f"pulse-{n}")
        assert "Question 1 of 3" in await chat.text(f"/start {code}")
        for _ in range(3):
            said = await chat.text(value)
        assert "count towards Versions" in said


async def test_a_trend_compares_only_rounds_of_the_same_version(database_url: str, folder: Path) -> None:
    async with serving(database_url, folder) as engine:
        owner = Chat(engine, "owner")
        code = await create(owner, title="Versions")
        await answer_round(engine, code, "1")
    old = load_framework(folder / "pulse-test.yaml").version
    change_the_file(folder)  # round 1 was answered on the old version; rounds 2 and 3 on the new
    assert load_framework(folder / "pulse-test.yaml").version != old
    async with serving(database_url, folder) as engine:
        owner = Chat(engine, "owner")
        for round_, value in ((2, "2"), (3, "3")):
            assert f"Round {round_} of Versions is open" in await owner.text(f"/campaign round {code}")
            await answer_round(engine, code, value)
        latest = await report_in(engine, code)
        assert [(p["round"], p["overall"]["score"]) for p in latest["trend"]] == [(2, 2.0), (3, 3.0)]
        text = await owner.text(f"/campaign report {code}")
        assert "Trend across rounds" in text
        assert "Round 2, Round 3" in text.splitlines()
        assert "People: 2.0 -> 3.0" in text.splitlines()
        assert "1.0" not in text.split("Trend across rounds", 1)[1].split("Answers per question", 1)[0]
        note = "Not in the trend: Round 1, answered on another version of the assessment."
        assert note in text
        assert latest["trend_other_versions"] == [1]
        first = await report_in(engine, code, round_=1)
        assert [p["round"] for p in first["trend"]] == [1]
        assert first["framework"]["version"] == old
        assert first["trend_other_versions"] == [2, 3]


async def report_in(engine: Engine, code: str, round_: int | None = None) -> dict[str, Any]:
    campaign = await engine.store.read(partial(campaign_by_code, code=codes.canonical(code) or ""))
    assert campaign is not None
    report = await engine.store.read(
        partial(group_report, context=engine.context, campaign=campaign, round_=round_)
    )
    assert report is not None
    return report_json(engine.context.cat, report)
