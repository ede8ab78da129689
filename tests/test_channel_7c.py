"""Service Canada's "7 C" channel maturity framework: its data, and a whole run through the terminal,
the webhook and a campaign report, checked against scores worked out by hand.

The run's answers (in question order, per category):
  Convenience   1 2 2 3 2  = 10 / 5 = 2.0   Practicing
  Choice        3 3 2 3    = 11 / 4 = 2.75  -> 2.8 Optimizing
  Competency    2 2 3 2    =  9 / 4 = 2.25  -> 2.3 Practicing
  Commitment    4 3 4 3 4  = 18 / 5 = 3.6   Leading
  Consistency   1 1 2 1    =  5 / 4 = 1.25  -> 1.3 Developing
  Customization 2 3 2 2 3  = 12 / 5 = 2.4   Practicing
  Communication 2 3 3 2 2  = 12 / 5 = 2.4   Practicing
  Overall 77 / 32 = 2.406 -> 2.4 Practicing. Optimizing starts at 2.5: 78 / 32 = 2.44 is still 2.4,
  79 / 32 = 2.47 rounds to 2.5, so two answers one level higher are needed. The lowest answers come
  first, in question order: Accessibility and Client segment consistency (both at 1).
"""

from __future__ import annotations

import re
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from bot.web.rest_render import escape_text
from frameworks.loader import BUILT_IN_DIR, load_framework
from frameworks.schema import Framework, Question, SubDimension
from frameworks.scoring import stage_for
from tests.test_campaign_webhook import create, report
from tests.test_terminal import cxbot
from tests.webhook_support import running_app, say, settings_for, texts

ANSWERS = [1, 2, 2, 3, 2, 3, 3, 2, 3, 2, 2, 3, 2, 4, 3, 4, 3, 4, 1, 1, 2, 1, 2, 3, 2, 2, 3, 2, 3, 3, 2, 2]
CATEGORIES = {
    "Convenience": "2.0 Practicing",
    "Choice": "2.8 Optimizing",
    "Competency": "2.3 Practicing",
    "Commitment": "3.6 Leading",
    "Consistency": "1.3 Developing",
    "Customization": "2.4 Practicing",
    "Communication": "2.4 Practicing",
}
STAGE_LINE = "Your 7 C channel maturity stage: Practicing (2.4 of 4)"
MOVE_UP = {"Accessibility", "Client segment consistency"}
LEVELS = ["Developing", "Practicing", "Optimizing", "Leading"]


@pytest.fixture(scope="module")
def seven_c() -> Framework:
    return load_framework(BUILT_IN_DIR / "channel-7c.yaml")


def sub_dimension_of(framework: Framework, question: Question) -> SubDimension:
    return next(s for d in framework.dimensions for s in d.sub_dimensions if s.id == question.sub_dimension)


# --- the data ----------------------------------------------------------------------------------


def test_seven_categories_of_capabilities_at_four_levels(seven_c: Framework) -> None:
    assert [d.name for d in seven_c.dimensions] == list(CATEGORIES)
    assert [len(d.questions) for d in seven_c.dimensions] == [5, 4, 4, 5, 4, 5, 5]  # 32, as the source
    assert [p.label for p in seven_c.scale] == LEVELS
    assert [s.name for s in seven_c.stages] == LEVELS
    for dimension in seven_c.dimensions:  # one sub-dimension per capability
        assert [q.sub_dimension for q in dimension.questions] == [s.id for s in dimension.sub_dimensions]


def test_one_answer_reads_as_its_own_level(seven_c: Framework) -> None:
    """A mean reads as the level it is nearest to (half up), so one answer reads as its own level."""
    bands = [(str(s.min_score), str(s.max_score)) for s in seven_c.stages]
    assert bands == [("1.0", "1.4"), ("1.5", "2.4"), ("2.5", "3.4"), ("3.5", "4.0")]
    for point in seven_c.scale:
        stage = stage_for(seven_c, Decimal(point.value))
        assert stage is not None
        assert stage.name == point.label


def test_each_recommendation_is_what_the_next_level_describes(seven_c: Framework) -> None:
    for question in seven_c.questions:
        sub = sub_dimension_of(seven_c, question)
        for level, following in pairwise(question.levels):
            assert sub.recommendations[LEVELS[level.value - 1].lower()] == following.description
        # nothing lies above Leading, so that advice is ours and marked as such
        assert sub.recommendations["leading"] not in {level.description for level in question.levels}
        assert "leading" in sub.inferred_recommendations


def test_capabilities_without_a_level_table_are_marked_inferred(seven_c: Framework) -> None:
    inferred = {q.id for q in seven_c.questions if any(level.inferred for level in q.levels)}
    assert inferred == {"seamless-service", "first-contact-resolution"}
    for question in seven_c.questions:
        if question.id in inferred:
            assert all(level.inferred for level in question.levels)
            sub = sub_dimension_of(seven_c, question)
            assert set(sub.inferred_recommendations) == {"developing", "practicing", "optimizing", "leading"}


# --- a whole run -------------------------------------------------------------------------------


def expected_recommendations(framework: Framework) -> dict[str, tuple[str, str]]:
    """Per capability name: the stage its answer is at, and the advice it should get (the next
    level's description, or the Leading advice at the top)."""
    expected = {}
    for question, value in zip(framework.questions, ANSWERS, strict=True):
        sub = sub_dimension_of(framework, question)
        following = [level for level in question.levels if level.value == value + 1]
        text = following[0].description if following else sub.recommendations["leading"]
        expected[sub.name] = (LEVELS[value - 1], text)
    return expected


def between(text: str, start: str, end: str) -> str:
    """The text from `start` up to `end` (the result's next part)."""
    first = text.index(start)
    return text[first : text.index(end, first)]


def check_summary(text: str, lines: list[str], framework: Framework) -> None:
    assert STAGE_LINE in text
    for name, score_and_stage in CATEGORIES.items():
        line = next(line for line in lines if line.startswith(f"{name}:"))
        assert line.rstrip().endswith(score_and_stage), line
    shown = between(text, "What would move you up", "Recommendations for reaching the next stage")
    assert "Optimizing" in shown
    assert {q.short for q in framework.questions if q.short in shown} == MOVE_UP


def check_recommendations(lines: list[str], framework: Framework, escape: Any = str) -> None:
    for name, (stage, advice) in expected_recommendations(framework).items():
        line = next(line for line in lines if line.startswith(f"- {escape(name)} ({stage}"))
        assert line.rstrip().endswith(escape(advice)), line


def test_a_run_in_the_terminal(tmp_path: Path, seven_c: Framework) -> None:
    done = cxbot(tmp_path, ["/start channel-7c", *map(str, ANSWERS), "Submit"])
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "== Question 1 of 32 - Convenience ==" in out
    assert "== Question 32 of 32 - Communication ==" in out
    assert "1 - Developing: " in out
    assert "4 - Leading: " in out
    lines = out.splitlines()
    check_summary(out, lines, seven_c)
    check_recommendations(lines, seven_c)
    assert done.stderr == ""


async def test_a_run_through_the_webhook(tmp_path: Path, seven_c: Framework) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        menu = await say(client, "visitor-7c", "/start")
        assert {"title": "Channel maturity (Service Canada 7 C)", "payload": "/start channel-7c"} in [
            button for message in menu for button in message.get("buttons", [])
        ]
        assert "**Question 1 of 32 - Convenience**" in texts(
            await say(client, "visitor-7c", "/start channel-7c")
        )
        for value in ANSWERS:
            await say(client, "visitor-7c", LEVELS[value - 1] if value == 4 else str(value))
        result = await say(client, "visitor-7c", "/submit")
    shown = texts(result)
    lines = [line.rstrip() for line in shown.splitlines()]
    check_summary(shown.replace("**", ""), [line.replace("**", "") for line in lines], seven_c)
    check_recommendations(lines, seven_c, escape_text)
    advice = [m["text"] for m in result if m.get("text", "").startswith("**Recommendations for reaching")]
    assert len(advice) > 1  # 32 capabilities' advice takes more than one message...
    for text in advice:  # ...and each opens with the category it continues, never mid-list
        assert text.split("\n")[2].rstrip() in CATEGORIES, text
    assert len([message for message in result if "image" in message]) == 1


# --- a campaign --------------------------------------------------------------------------------

PEOPLE = {
    "all-developing": [1] * 32,
    "all-practicing-1": [2] * 32,
    "all-practicing-2": [2] * 32,
    "all-optimizing": [3] * 32,
    "the-run-above": ANSWERS,
}
"""Group scores are the mean of each person's unrounded score (32, 64, 64, 96 and 77 of 32 answers):
overall 333 / 160 = 2.08 -> 2.1 Practicing. Per category, the people's means are 1, 2, 2, 3 and the run
above's: Convenience (1+2+2+3+2.0)/5 = 2.0; Choice 10.75/5 = 2.15 -> 2.2; Competency 10.25/5 = 2.05 -> 2.1;
Commitment 11.6/5 = 2.32 -> 2.3; Consistency 9.25/5 = 1.85 -> 1.9; Customization and Communication
10.4/5 = 2.08 -> 2.1, all Practicing. People per stage: 1.0 Developing; 2.0, 2.0, 2.4 Practicing;
3.0 Optimizing. A capability's pooled answers are 1+2+2+3 = 8 plus the run's answer: the run's 4s
(Client satisfaction first) give 12/5 = 2.4, 0.1 below Optimizing, so the road map opens with them as
quick wins; the run's 1s give 1.8, the weakest (Accessibility, Client segment consistency, Channel
consistency in framework order)."""


async def test_a_campaign_report_over_7c_participants(tmp_path: Path, seven_c: Framework) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        code, dashboard = await create(client, framework="channel-7c")
        for person, values in PEOPLE.items():
            await say(client, person, f"/join {code}")
            for value in values:
                await say(client, person, str(value))
            assert "count towards Service desk check" in texts(await say(client, person, "/submit"))
        data = await report(client, dashboard)
        chat = await say(client, "facilitator-1", f"/campaign report {code}")
        charts = [await client.get("/" + m["image"].split("/", 3)[3]) for m in chat if "image" in m]
        assert len(charts) >= 2  # the profile and the answers per question
        assert all(c.status == 200 and c.content_type == "image/png" for c in charts)
    assert (data["completed"], data["withheld"], data["scale"]) == (5, False, {"min": 1, "max": 4})
    assert (data["overall"]["score"], data["overall"]["stage_name"]) == (2.1, "Practicing")
    assert [(d["name"], d["score"], d["stage_name"]) for d in data["dimensions"]] == [
        ("Convenience", 2.0, "Practicing"),
        ("Choice", 2.2, "Practicing"),
        ("Competency", 2.1, "Practicing"),
        ("Commitment", 2.3, "Practicing"),
        ("Consistency", 1.9, "Practicing"),
        ("Customization", 2.1, "Practicing"),
        ("Communication", 2.1, "Practicing"),
    ]
    assert [(s["name"], s["people"]) for s in data["stages"]] == list(zip(LEVELS, [1, 3, 1, 0], strict=True))
    assert len(data["questions"]) == 32
    assert [level["label"] for level in data["questions"][0]["levels"]][:4] == LEVELS
    assert [(w["name"], w["score"]) for w in data["weakest"]] == [
        ("Accessibility", 1.8),
        ("Client segment consistency", 1.8),
        ("Channel consistency", 1.8),
    ]
    first = data["roadmap"][0]
    satisfaction = next(q for q in seven_c.questions if q.id == "client-satisfaction")
    assert (first["name"], first["priority"], first["stage_name"], first["next_stage_name"]) == (
        "Client satisfaction",
        "quick",
        "Practicing",
        "Optimizing",
    )
    assert first["text"] == satisfaction.levels[2].description  # what Optimizing describes
    assert "Group stage: Practicing (2.1 of 4), from 5 people who finished." in texts(chat)
    assert re.search(r"Commitment: \S+ 2\.3 Practicing", texts(chat))
