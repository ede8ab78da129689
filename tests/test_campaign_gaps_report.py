"""What a campaign report says, worked out here by hand from the answers five people gave (the
minimum group): per dimension the mean of each person's own unrounded score, the median and the
spread (population standard deviation), each rounded half up to one decimal and read against the
stage bands; people per stage; per question the count at each level (and skipped); the three
weakest sub-dimensions; and the whole road map in the order the workbook advises (quick wins first,
closest to the next stage first; then urgent, then build up, weakest first; the top stage last).
Checked in the JSON and in the chat's text, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import re
import statistics
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from dialogs.engine import Engine
from frameworks.registry import FrameworkRegistry
from frameworks.schema import Framework, Stage
from storage.store import Store
from tests.chat import Chat
from tests.test_campaigns import create, report_of

# Five people's answers to each cx-maturity question (1 to 5; None: skipped), person by person.
# Each question is its own sub-dimension; the pooled scores (1.0 to 5.0) cover every kind of
# road-map step: quick wins 0.1 and 0.3 below the next stage, the lowest stage, larger steps, the top.
ANSWERS: dict[str, list[int | None]] = {
    "leadership-culture": [3, 3, 4, 3, 4],  # 3.4: Targeted, 0.1 below Personalized
    "roadmap-budget": [1, 1, 1, 1, 2],  # 1.2: Passive
    "employee-empowerment": [3, 3, 3, 3, 2],  # 2.8: Targeted
    "collaboration": [5, 5, 4, 5, 4],  # 4.6: Empathetic, the top
    "analytics-insights": [2, 2, 1, 2, 1],  # 1.6: Passive, but 0.3 below Impersonal
    "cx-metrics": [1, 2, 1, 2, 1],  # 1.4: Passive
    "omnichannel": [2, 2, 2, 3, None],  # 9 / 4 = 2.25, so 2.3: Impersonal
    "personalization": [4, 5, 4, 5, 4],  # 4.4: Empathetic
    "frame-of-reference": [4, 4, 3, 4, 3],  # 3.6: Personalized
    "social-network": [1, 1, 1, 1, 1],  # 1.0: Passive
    "trust": [5, 5, 5, 5, 5],  # 5.0: Empathetic
}
PEOPLE = 5
QUICK_WIN = Decimal("0.3")


def half_up(value: Fraction | float) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator) if isinstance(value, Fraction) else value
    return Decimal(exact).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def stage_of(framework: Framework, score: Decimal) -> Stage:
    return next(s for s in framework.stages if s.min_score <= score <= s.max_score)


def person(n: int) -> dict[str, int | None]:
    return {question: values[n] for question, values in ANSWERS.items()}


def own_score(answers: dict[str, int | None], questions: list[str]) -> Fraction:
    """One person's unrounded score over some questions: the mean of what they answered."""
    given = [answers[q] for q in questions if answers[q] is not None]
    return Fraction(sum(v for v in given if v is not None), len(given))


def expected_part(framework: Framework, questions: list[str]) -> dict[str, Any]:
    """Score, stage, median and spread of a part, over the five people's own unrounded scores."""
    scores = [own_score(person(n), questions) for n in range(PEOPLE)]
    mean = half_up(sum(scores, Fraction(0)) / PEOPLE)
    return {
        "score": float(mean),
        "stage": stage_of(framework, mean).id,
        "median": float(half_up(statistics.median(scores))),
        "spread": float(half_up(math.sqrt(statistics.pvariance(scores)))),
        "people": PEOPLE,
    }


def pooled(question: str) -> Decimal:
    given = [v for v in ANSWERS[question] if v is not None]
    return half_up(Fraction(sum(given), len(given)))


def expected_road_map(framework: Framework) -> list[tuple[str, str]]:
    """(sub-dimension, priority) in the workbook's order, from the pooled scores."""
    lowest, top = framework.stages[0], framework.stages[-1]
    steps = []
    for question in ANSWERS:
        score = pooled(question)
        stage = stage_of(framework, score)
        following = framework.stages[framework.stages.index(stage) + 1] if stage != top else None
        if following is None:
            steps.append(((3, score), question, "top"))
        elif following.min_score - score <= QUICK_WIN:
            steps.append(((0, following.min_score - score), question, "quick"))
        elif stage == lowest:
            steps.append(((1, score), question, "urgent"))
        else:
            steps.append(((2, score), question, "build"))
    return [(question, priority) for _, question, priority in sorted(steps)]


async def finished_campaign(engine: Engine) -> tuple[Chat, str]:
    owner = Chat(engine, "owner")
    code = await create(owner, framework="cx-maturity", title="Maturity check")
    for n in range(PEOPLE):
        chat = Chat(engine, f"answerer-{n}")
        await chat.say(f"/join {code}")
        for value in person(n).values():
            await chat.say("/skip" if value is None else str(value))
        said = await chat.text("/submit")
        assert "count towards Maturity check" in said, said
    return owner, code


async def test_the_report_says_what_the_answers_add_up_to(
    store: Store, frameworks: FrameworkRegistry
) -> None:
    framework = frameworks.get("cx-maturity")
    assert framework is not None
    owner, code = await finished_campaign(Engine(frameworks, store))
    data = await report_of(store, frameworks, code)
    assert (data["completed"], data["withheld"]) == (PEOPLE, False)

    overall = expected_part(framework, list(ANSWERS))
    assert {k: data["overall"][k] for k in overall} == overall
    dimensions = {d.id: expected_part(framework, [q.id for q in d.questions]) for d in framework.dimensions}
    assert [d["id"] for d in data["dimensions"]] == list(dimensions)
    for shown in data["dimensions"]:
        assert {k: shown[k] for k in dimensions[shown["id"]]} == dimensions[shown["id"]], shown["id"]
    assert len({d["spread"] for d in data["dimensions"]}) > 1  # not one number everywhere

    own_stages = [stage_of(framework, half_up(own_score(person(n), list(ANSWERS)))).id for n in range(PEOPLE)]
    stages = {s["id"]: s["people"] for s in data["stages"]}
    assert stages == {s.id: own_stages.count(s.id) for s in framework.stages}

    for question in data["questions"]:
        given = ANSWERS[question["id"]]
        counts = {level["level"]: level["people"] for level in question["levels"]}
        expected: dict[int | None, int] = {v: given.count(v) for v in framework.scale_values}
        assert counts == {**expected, None: given.count(None)}
    assert [q["id"] for q in data["questions"]] == list(ANSWERS)

    lowest_three = sorted(ANSWERS, key=pooled)[:3]
    assert [w["id"] for w in data["weakest"]] == lowest_three
    assert [w["score"] for w in data["weakest"]] == [float(pooled(q)) for q in lowest_three]

    road = expected_road_map(framework)
    assert {priority for _, priority in road} == {"quick", "urgent", "build", "top"}
    assert [(item["sub_dimension"], item["priority"]) for item in data["roadmap"]] == road
    for item in data["roadmap"]:
        stage = stage_of(framework, pooled(item["sub_dimension"]))
        assert item["id"] == f"{item['sub_dimension']}.{stage.id}"
        assert item["score"] == float(pooled(item["sub_dimension"]))

    text = await owner.text(f"/campaign report {code}")
    assert_text(framework, text, overall, dimensions, own_stages, road)


def assert_text(
    framework: Framework,
    text: str,
    overall: dict[str, Any],
    dimensions: dict[str, dict[str, Any]],
    own_stages: list[str],
    road: list[tuple[str, str]],
) -> None:
    """The chat report says the same numbers, and lists the road map in the same order."""
    names = {s.id: s.name for s in framework.stages}
    lines = text.splitlines()
    assert (
        f"Group stage: {names[overall['stage']]} ({overall['score']:.1f} of 5), from 5 people who finished."
        in lines
    )
    people = ", ".join(f"{s.name} {own_stages.count(s.id)}" for s in framework.stages)
    assert f"People at each stage: {people}." in lines
    for dimension in framework.dimensions:
        d = dimensions[dimension.id]
        pattern = (
            f"{re.escape(dimension.name)}: \\S+ {d['score']:.1f} {names[d['stage']]} "
            f"\\(median {d['median']:.1f}, spread {d['spread']:.1f}\\)"
        )
        assert any(re.fullmatch(pattern, line) for line in lines), pattern
    for question in framework.questions:
        given = ANSWERS[question.id]
        counts = " \u00b7 ".join(f"{v}: {given.count(v)}" for v in framework.scale_values)
        assert f"{question.short}: {counts} \u00b7 skipped: {given.count(None)}" in lines
    subs = {s.id: s.name for d in framework.dimensions for s in d.sub_dimensions}
    labels = {"quick": "Quick win", "urgent": "Urgent", "build": "Build up"}
    starts = [
        f"- Keep it up: {subs[sub]} (" if priority == "top" else f"- {labels[priority]}: {subs[sub]} ("
        for sub, priority in road
    ]
    road_lines = [line for line in lines if line.startswith("- ")]
    assert len(road_lines) == len(road)
    for line, start in zip(road_lines, starts, strict=True):
        assert line.startswith(start), (line, start)
