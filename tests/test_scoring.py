"""Scoring: rounding, the band edges, skipped questions, recommendations, what would move you up."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pytest

from frameworks.registry import FrameworkRegistry
from frameworks.schema import Framework
from frameworks.scoring import mean_score, score, stage_for


@pytest.fixture(scope="module")
def cx() -> Framework:
    framework = FrameworkRegistry.from_directories().get("cx-maturity")
    assert framework is not None
    return framework


def all_answers(framework: Framework, values: Sequence[int | None]) -> dict[str, int | None]:
    return {q.id: v for q, v in zip(framework.questions, values, strict=True)}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1, 2], Decimal("1.5")),
        ([1, 1, 2], Decimal("1.3")),  # 1.333...
        ([1, 2, 2], Decimal("1.7")),  # 1.666...
        ([2] * 16 + [1] * 4, Decimal("1.8")),  # 1.8 exactly
        ([3] * 17 + [1] * 3, Decimal("2.7")),  # 2.7 exactly
        ([2, 1, 2, 2], Decimal("1.8")),  # 1.75 rounds half up
        ([3, 2, 2, 2] * 5, Decimal("2.3")),  # 2.25 rounds half up
    ],
)
def test_mean_rounds_half_up_to_one_decimal(values: list[int], expected: Decimal) -> None:
    assert mean_score(values) == expected


def test_mean_of_nothing_is_none() -> None:
    assert mean_score([]) is None


@pytest.mark.parametrize(
    ("score_", "stage"),
    [
        ("1.0", "passive"),
        ("1.8", "passive"),
        ("1.9", "impersonal"),
        ("2.6", "impersonal"),
        ("2.7", "targeted"),
        ("3.4", "targeted"),
        ("3.5", "personalized"),
        ("4.2", "personalized"),
        ("4.3", "empathetic"),
        ("5.0", "empathetic"),
    ],
)
def test_band_edges(cx: Framework, score_: str, stage: str) -> None:
    found = stage_for(cx, Decimal(score_))
    assert found is not None
    assert found.id == stage


@pytest.mark.parametrize(
    ("values", "stage"),
    [
        ([1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1], "passive"),  # 1.8181 -> 1.8
        ([2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1], "impersonal"),  # 1.909 -> 1.9
        ([3, 3, 3, 3, 3, 3, 2, 2, 2, 3, 2], "impersonal"),  # 2.636 -> 2.6
        ([3, 3, 3, 3, 3, 3, 3, 2, 2, 3, 2], "targeted"),  # 2.727 -> 2.7
        ([4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4], "personalized"),  # 4.0
        ([5, 5, 4, 4, 4, 4, 4, 4, 4, 4, 4], "personalized"),  # 4.18 -> 4.2
        ([5, 5, 5, 4, 4, 4, 4, 4, 4, 4, 4], "empathetic"),  # 4.27 -> 4.3
    ],
)
def test_overall_stage_near_the_edges(cx: Framework, values: list[int | None], stage: str) -> None:
    result = score(cx, all_answers(cx, values))
    assert result.stage is not None
    assert result.stage.id == stage


def test_overall_is_the_mean_of_all_answers_not_of_dimension_means(cx: Framework) -> None:
    # self-awareness 1,1,1 (1.0); insights 1,1,1 (1.0); engagement 5,5 (5.0); context 1,1,1 (1.0)
    result = score(cx, all_answers(cx, [1, 1, 1, 1, 1, 1, 5, 5, 1, 1, 1]))
    assert result.score == Decimal("1.7")  # 19 / 11 = 1.727; the mean of means would be 2.0
    assert result.stage is not None
    assert result.stage.id == "passive"


def test_engagement_divides_by_two(cx: Framework) -> None:
    result = score(cx, all_answers(cx, [1, 1, 1, 1, 1, 1, 4, 5, 1, 1, 1]))
    engagement = next(d for d in result.dimensions if d.dimension.id == "engagement")
    assert engagement.score == Decimal("4.5")
    assert engagement.stage is not None
    assert engagement.stage.id == "empathetic"


def test_skipped_questions_are_left_out_and_listed(cx: Framework) -> None:
    values: list[int | None] = [3, None, 4, 1, 1, 1, 2, 2, 5, 5, 5]
    result = score(cx, all_answers(cx, values))
    assert result.score == Decimal("2.9")  # 29 / 10
    assert [q.id for q in result.skipped] == [cx.questions[1].id]
    first = result.dimensions[0]
    assert first.score == Decimal("3.5")
    assert first.answered == 2


def test_dimension_without_answers_has_no_score(cx: Framework) -> None:
    values: list[int | None] = [3, 3, 3, 3, 3, 3, None, None, 3, 3, 3]
    result = score(cx, all_answers(cx, values))
    engagement = next(d for d in result.dimensions if d.dimension.id == "engagement")
    assert engagement.score is None
    assert engagement.stage is None
    assert result.score == Decimal("3.0")


def test_nothing_answered_has_no_score(cx: Framework) -> None:
    result = score(cx, {})
    assert result.score is None
    assert result.stage is None
    assert len(result.skipped) == 11
    assert result.move_up is None


def test_recommendations_follow_each_answer(cx: Framework) -> None:
    values: list[int | None] = [1, 2, 3, 4, 5, None, 1, 1, 1, 1, 1]
    result = score(cx, all_answers(cx, values))
    by_question = {q.id: r for r in result.recommendations for q in r.questions}
    assert len(by_question) == 10  # the skipped question has none
    first = by_question[cx.questions[0].id]
    assert first.stage.id == "passive"
    assert first.next_stage is not None
    assert first.next_stage.id == "impersonal"
    sub = cx.dimensions[0].sub_dimensions
    assert (
        first.text == next(s for s in sub if s.id == cx.questions[0].sub_dimension).recommendations["passive"]
    )
    top = by_question[cx.questions[4].id]
    assert top.stage.id == "empathetic"
    assert top.next_stage is None


def test_move_up_names_answers_that_lift_the_stage(cx: Framework) -> None:
    values: list[int | None] = [3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4]  # 3.18 -> 3.2 targeted
    answers = all_answers(cx, values)
    result = score(cx, answers)
    move = result.move_up
    assert move is not None
    assert move.target.id == "personalized"
    # 3.45 rounds to 3.5: the sum must reach 38 from 35, so three answers one level higher
    assert move.needed == 3
    raised = dict(answers)
    for question in move.questions:
        raised[question.id] = (raised[question.id] or 0) + 1
    lifted = score(cx, raised).stage
    assert lifted is not None
    assert lifted.id == "personalized"
    assert all(answers[q.id] == 3 for q in move.questions)  # the lowest answers come first


def test_move_up_lists_every_answer_it_takes(cx: Framework) -> None:
    # the result once listed only the first three: someone raising those alone stayed where they were
    answers = all_answers(cx, [3] * 9 + [2, 2])  # 31 / 11 = 2.8; 3.5 needs a sum of 38
    move = score(cx, answers).move_up
    assert move is not None
    assert move.needed == 7
    assert len(move.questions) == 7
    assert [answers[q.id] for q in move.questions][:2] == [2, 2]  # the lowest answers first
    raised = {**answers, **{q.id: (answers[q.id] or 0) + 1 for q in move.questions}}
    assert score(cx, raised).stage == move.target
    fewer = {**answers, **{q.id: (answers[q.id] or 0) + 1 for q in move.questions[:-1]}}
    assert score(cx, fewer).stage != move.target


def test_no_move_up_from_the_top(cx: Framework) -> None:
    assert score(cx, all_answers(cx, [5] * 11)).move_up is None


def test_resources_of_the_weakest_dimension_come_first(cx: Framework) -> None:
    result = score(cx, all_answers(cx, [5, 5, 5, 5, 5, 5, 5, 5, 1, 1, 1]))
    assert result.resources[0][0].id == "context-trust"


def test_a_sub_dimension_with_several_questions_gets_one_recommendation() -> None:
    pulse = FrameworkRegistry.from_directories([Path(__file__).parent / "data" / "frameworks"]).get(
        "pulse-test"
    )
    assert pulse is not None
    result = score(pulse, {"morale": 3, "pace": 1, "quality": 4})  # pace and quality assess "pace"
    pace = [r for r in result.recommendations if r.sub_dimension.id == "pace"]
    assert len(pace) == 1
    assert pace[0].stage.id == "mid"  # the mean of 1 and 4, 2.5
    assert pace[0].text == "Limit work in progress."
    assert [q.id for q in pace[0].questions] == ["pace", "quality"]
