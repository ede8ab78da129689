"""Scoring: pure functions from (framework, answers) to a result. No I/O.

Means are rounded half up to one decimal and then read against the stage bands, which cover
every rounded score exactly once (the schema checks that), so no score falls between stages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from frameworks.schema import Dimension, Framework, Question, Resource, Stage, SubDimension

Answers = Mapping[str, int | None]
"""Question id to the chosen level; None (or no key) means skipped."""

ONE_DECIMAL = Decimal("0.1")


@dataclass(frozen=True, slots=True)
class DimensionScore:
    dimension: Dimension
    score: Decimal | None
    stage: Stage | None
    answered: int


@dataclass(frozen=True, slots=True)
class Recommendation:
    dimension: Dimension
    sub_dimension: SubDimension
    questions: tuple[Question, ...]
    stage: Stage
    next_stage: Stage | None
    text: str


@dataclass(frozen=True, slots=True)
class MoveUp:
    """Raising `questions` one level each (the lowest first) would reach `target`; `needed` of them
    (every one is listed: a person told only some of what it takes would fall short)."""

    target: Stage
    needed: int
    questions: tuple[Question, ...]


@dataclass(frozen=True, slots=True)
class Result:
    framework: Framework
    answers: Mapping[str, int | None]
    score: Decimal | None
    stage: Stage | None
    dimensions: tuple[DimensionScore, ...]
    skipped: tuple[Question, ...]
    recommendations: tuple[Recommendation, ...]
    resources: tuple[tuple[Dimension, Resource], ...]
    move_up: MoveUp | None


def mean_score(values: Iterable[int]) -> Decimal | None:
    """The mean rounded half up to one decimal, or None for no values."""
    items = list(values)
    return tenths_score(sum(items), len(items)) if items else None


def tenths_score(total: int, count: int) -> Decimal:
    """total / count rounded half up to one decimal, in integers (exact, and quicker than Decimal
    division): round(10 * total / count) half up is floor((20 * total + count) / (2 * count)) for
    the non-negative totals a scale gives."""
    tenths = (20 * total + count) // (2 * count)
    return _TENTHS[tenths] if 0 <= tenths < len(_TENTHS) else Decimal(tenths).scaleb(-1)


_TENTHS = [Decimal(n).scaleb(-1) for n in range(1001)]
"""0.0 to 100.0: every rounded score a scale up to 100 can give, made once."""


def stage_for(framework: Framework, score: Decimal | None) -> Stage | None:
    """The stage whose band holds the (already rounded) score."""
    if score is None:
        return None
    return framework.stage_of_tenths.get(int(score * 10))


def answered_values(questions: Iterable[Question], answers: Answers) -> list[int]:
    return [v for q in questions if (v := answers.get(q.id)) is not None]


def overall(framework: Framework, answers: Answers) -> tuple[Decimal | None, Stage | None]:
    score = mean_score(answered_values(framework.questions, answers))
    return score, stage_for(framework, score)


def score_dimension(framework: Framework, dimension: Dimension, answers: Answers) -> DimensionScore:
    values = answered_values(dimension.questions, answers)
    score = mean_score(values)
    return DimensionScore(dimension, score, stage_for(framework, score), len(values))


def score(framework: Framework, answers: Answers) -> Result:
    """The whole result of one run."""
    total, stage = overall(framework, answers)
    dimensions = tuple(score_dimension(framework, d, answers) for d in framework.dimensions)
    return Result(
        framework=framework,
        answers=dict(answers),
        score=total,
        stage=stage,
        dimensions=dimensions,
        skipped=tuple(q for q in framework.questions if answers.get(q.id) is None),
        recommendations=recommendations(framework, answers),
        resources=resources_weakest_first(dimensions),
        move_up=move_up(framework, answers, stage),
    )


def recommendations(framework: Framework, answers: Answers) -> tuple[Recommendation, ...]:
    """For each sub-dimension with answers: its advice for the stage its answers are at (one
    question's answer, or the rounded mean where several questions assess it)."""
    out = []
    for dimension in framework.dimensions:
        for sub in dimension.sub_dimensions:
            questions = framework.questions_of[sub.id]
            stage = stage_for(framework, mean_score(answered_values(questions, answers)))
            if stage is None:
                continue
            advice = sub.recommendations[stage.id]
            out.append(Recommendation(dimension, sub, questions, stage, next_stage(framework, stage), advice))
    return tuple(out)


def next_stage(framework: Framework, stage: Stage) -> Stage | None:
    return framework.stage_after[stage.id]


def move_up(framework: Framework, answers: Answers, stage: Stage | None) -> MoveUp | None:
    """The fewest answers which, each raised one level (lowest first), lift the overall stage."""
    if stage is None or (target := next_stage(framework, stage)) is None:
        return None
    scale = framework.scale_values
    raisable = [q for q in framework.questions if (v := answers.get(q.id)) is not None and v != scale[-1]]
    raisable.sort(key=lambda q: answers[q.id] or 0)
    given = answered_values(framework.questions, answers)
    total, count = sum(given), len(given)
    for raised, question in enumerate(raisable, start=1):
        value = answers[question.id] or 0
        total += scale[scale.index(value) + 1] - value  # the sum alone changes: no mean recomputed
        if tenths_score(total, count) >= target.min_score:
            return MoveUp(target, raised, tuple(raisable[:raised]))
    return None


def resources_weakest_first(
    dimensions: tuple[DimensionScore, ...],
) -> tuple[tuple[Dimension, Resource], ...]:
    """Resources of every dimension, those of the lowest-scoring dimensions first."""
    order = sorted(dimensions, key=lambda d: (d.score is None, d.score or 0))
    return tuple((d.dimension, r) for d in order for r in d.dimension.resources)
