"""A group's scores, from how many people had each score: pure and exact (fractions, no floats).

A group's score for a part (the whole assessment, or a dimension) is the mean over the people who
finished of their own unrounded scores, then rounded half up to one decimal and read against the
stage bands exactly like a person's. The median and spread (standard deviation) are over the same
people. A sub-dimension's group score pools every answer given to its questions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from frameworks.schema import Dimension, Framework, Stage, SubDimension
from frameworks.scoring import ONE_DECIMAL, next_stage, stage_for

Histogram = Mapping[tuple[int, int], int]
"""People per score as (sum of answers, number of answers)."""
QUICK_WIN_GAP = Decimal("0.3")
"""A sub-dimension this close below the next stage's band is a quick win: a little lifts it."""
WEAKEST_SHOWN = 3
ORDER = {"quick": 0, "urgent": 1, "build": 2, "top": 3}


@dataclass(frozen=True, slots=True)
class GroupScore:
    people: int
    score: Decimal
    stage: Stage | None
    median: Decimal
    spread: Decimal


@dataclass(frozen=True, slots=True)
class SubScore:
    dimension: Dimension
    sub_dimension: SubDimension
    score: Decimal
    stage: Stage


@dataclass(frozen=True, slots=True)
class RoadmapItem:
    """One recommendation on the group's road map, with a stable id (sub-dimension and stage)."""

    id: str
    priority: str
    """quick (a quick win), urgent (at the lowest stage), build (a larger step) or top (stay there)."""
    sub: SubScore
    next_stage: Stage | None
    text: str


def rounded(value: Fraction) -> Decimal:
    """Half up to one decimal, like a person's score (exact: the fraction is never a float)."""
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        ONE_DECIMAL, rounding=ROUND_HALF_UP
    )


def group_score(framework: Framework, histogram: Histogram) -> GroupScore | None:
    """Mean, stage, median and spread of the people in a histogram; None if it is empty."""
    bins = sorted((Fraction(total, count), people) for (total, count), people in histogram.items() if people)
    people = sum(n for _, n in bins)
    if not people:
        return None
    mean = sum((value * n for value, n in bins), Fraction(0)) / people
    square = sum((value * value * n for value, n in bins), Fraction(0)) / people
    score = rounded(mean)
    spread = Decimal(float(square - mean * mean) ** 0.5).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)
    return GroupScore(people, score, stage_for(framework, score), rounded(_median(bins, people)), spread)


def _median(bins: list[tuple[Fraction, int]], people: int) -> Fraction:
    """The middle value (the mean of the two middle ones for an even count)."""
    low_place, high_place = (people + 1) // 2, people // 2 + 1
    seen, low, high = 0, None, None
    for value, n in bins:
        seen += n
        if low is None and seen >= low_place:
            low = value
        if seen >= high_place:
            high = value
            break
    assert low is not None
    assert high is not None
    return (low + high) / 2


def sub_scores(framework: Framework, levels: Mapping[str, Mapping[int | None, int]]) -> list[SubScore]:
    """Each sub-dimension's pooled score from the answers per level; those without answers left out."""
    out = []
    for dimension in framework.dimensions:
        for sub in dimension.sub_dimensions:
            questions = [q.id for q in dimension.questions if q.sub_dimension == sub.id]
            counts = [
                (level, n) for q in questions for level, n in levels.get(q, {}).items() if level is not None
            ]
            answers = sum(n for _, n in counts)
            if not answers:
                continue
            score = rounded(Fraction(sum(level * n for level, n in counts), answers))
            stage = stage_for(framework, score)
            if stage is not None:
                out.append(SubScore(dimension, sub, score, stage))
    return out


def weakest(subs: list[SubScore], count: int = WEAKEST_SHOWN) -> list[SubScore]:
    """The lowest-scoring sub-dimensions, lowest first."""
    return sorted(subs, key=lambda s: s.score)[:count]


def road_map(framework: Framework, subs: list[SubScore]) -> list[RoadmapItem]:
    """Every sub-dimension's advice for the stage the group is at, ordered as the workbook advises:
    quick wins first (close below the next stage), then urgent actions (the lowest stage), then the
    larger steps broken into parts, weakest first; sub-dimensions at the top stage come last."""
    lowest = min(framework.stages, key=lambda s: s.min_score)
    items = []
    for sub in subs:
        following = next_stage(framework, sub.stage)
        gap = following.min_score - sub.score if following else None
        if following is None:
            priority = "top"
        elif gap is not None and gap <= QUICK_WIN_GAP:
            priority = "quick"
        elif sub.stage == lowest:
            priority = "urgent"
        else:
            priority = "build"
        text = sub.sub_dimension.recommendations[sub.stage.id]
        item = RoadmapItem(f"{sub.sub_dimension.id}.{sub.stage.id}", priority, sub, following, text)
        items.append((ORDER[priority], gap if priority == "quick" else sub.score, item))
    return [item for *_, item in sorted(items, key=lambda entry: (entry[0], entry[1]))]
