"""The pydantic schema every assessment framework file is validated against.

A framework is data: the engine reads levels, stages and questions from here and has no
count of them built in, so a 4-level framework or one with 7 dimensions needs no code.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cached_property
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    model_validator,
)

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,47}$")]
"""Ids are short slugs: they travel in commands, deep links and button payloads."""

_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")


def _one_to_three_sentences(text: str) -> str:
    count = len(_SENTENCE_END.findall(text.strip()))
    if not 1 <= count <= 3:
        raise ValueError(f"must be one to three sentences ending in . ! or ? (found {count})")
    return text


def _single_line(text: str) -> str:
    if "\n" in text.strip():
        raise ValueError("must fit on one line")
    return text.strip()


ShortText = Annotated[str, Field(min_length=1, max_length=60), AfterValidator(_single_line)]
Sentences = Annotated[str, Field(min_length=1, max_length=600), AfterValidator(_one_to_three_sentences)]
Prose = Annotated[str, Field(min_length=1, max_length=3000)]
Score = Annotated[Decimal, Field(ge=0, decimal_places=1)]


class Strict(BaseModel):
    """Unknown keys are typos in a hand-written file, so they are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ScalePoint(Strict):
    """One answer level of the framework's scale, with its default short label."""

    value: int = Field(ge=0, le=100)
    label: ShortText


class Level(Strict):
    """What one answer level means for one question."""

    value: int
    label: ShortText | None = None
    description: Sentences
    inferred: bool = False
    """The source gives no text for this level (or cuts it off): the description is built from
    what the source says around it, and says no more than that supports."""


class Question(Strict):
    """A question answered on the framework's scale; it assesses one sub-dimension."""

    kind: Literal["scale"] = "scale"
    """Room for other kinds (numbers for calculators); only scale questions exist so far."""
    id: Slug
    sub_dimension: Slug
    text: Prose
    short: ShortText
    levels: tuple[Level, ...] = Field(min_length=2)


class SubDimension(Strict):
    id: Slug
    name: ShortText
    description: Prose
    recommendations: dict[Slug, Prose]
    """How to reach the next stage, keyed by the stage the answer puts you in."""
    inferred_recommendations: tuple[Slug, ...] = ()
    """Stages whose recommendation the source gives no (or only cut-off) text for: built from what
    the source says around it."""


class Case(Strict):
    """A best-practice story told with a dimension."""

    title: ShortText
    what: Prose
    how: Prose
    benefits: Prose
    url: HttpUrl | None = None


class Resource(Strict):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    topic: ShortText
    url: HttpUrl | None = None
    """Only an address confirmed from a reliable source; a title alone is better than a guess."""

    @cached_property
    def address(self) -> str | None:
        """The URL as text, or None (made once: results list resources on every finish)."""
        return str(self.url) if self.url is not None else None


class Dimension(Strict):
    id: Slug
    name: ShortText
    summary: Prose
    sub_dimensions: tuple[SubDimension, ...] = Field(min_length=1)
    questions: tuple[Question, ...] = Field(min_length=1)
    case: Case | None = None
    resources: tuple[Resource, ...] = ()


class Stage(Strict):
    """A maturity stage and the band of rounded scores that reads as it."""

    id: Slug
    name: ShortText
    description: Prose
    min_score: Score
    max_score: Score


class Framework(Strict):
    """A whole assessment, validated. `version` is derived from the content by the loader."""

    id: Slug
    title: Annotated[str, Field(min_length=1, max_length=120)]
    short_title: ShortText | None = None
    """Used in the stage line, as in "Your CX maturity stage: ..."."""
    language: str = Field(default="en", pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    intro: Prose
    source: Prose
    review_before_submit: bool = True
    scale: tuple[ScalePoint, ...] = Field(min_length=2)
    stages: tuple[Stage, ...] = Field(min_length=1)
    dimensions: tuple[Dimension, ...] = Field(min_length=1)
    version: str = ""

    @model_validator(mode="after")
    def _check_references(self) -> Self:
        _check_unique("stage", [s.id for s in self.stages])
        _check_unique("dimension", [d.id for d in self.dimensions])
        _check_unique("question", [q.id for q in self.questions])
        _check_unique("scale value", [p.value for p in self.scale])
        if list(self.scale_values) != sorted(self.scale_values):
            raise ValueError("the scale must go from the lowest level to the highest")
        _check_bands(self)
        for dimension in self.dimensions:
            _check_dimension(self, dimension)
        return self

    # cached: the engine reads these on every message
    @cached_property
    def questions(self) -> tuple[Question, ...]:
        return tuple(q for d in self.dimensions for q in d.questions)

    @cached_property
    def dimension_of(self) -> dict[str, Dimension]:
        """The dimension each question id belongs to."""
        return {q.id: d for d in self.dimensions for q in d.questions}

    @cached_property
    def scale_values(self) -> tuple[int, ...]:
        return tuple(p.value for p in self.scale)

    @cached_property
    def questions_of(self) -> dict[str, tuple[Question, ...]]:
        """The questions that assess each sub-dimension, by sub-dimension id."""
        return {
            sub.id: tuple(q for q in d.questions if q.sub_dimension == sub.id)
            for d in self.dimensions
            for sub in d.sub_dimensions
        }

    @cached_property
    def stage_after(self) -> dict[str, Stage | None]:
        """The next stage up from each stage id (None from the top one)."""
        ordered = sorted(self.stages, key=lambda s: s.min_score)
        return {stage.id: following for stage, following in zip(ordered, [*ordered[1:], None], strict=True)}

    @cached_property
    def stage_of_tenths(self) -> dict[int, Stage]:
        """The stage of each rounded score, in tenths (the bands cover each exactly once)."""
        return {
            tenths: stage
            for stage in self.stages
            for tenths in range(int(stage.min_score * 10), int(stage.max_score * 10) + 1)
        }


def _check_unique(kind: str, ids: list[str] | list[int]) -> None:
    seen: set[str | int] = set()
    for item in ids:
        if item in seen:
            raise ValueError(f"{kind} id {item!r} is used twice")
        seen.add(item)


def _check_bands(framework: Framework) -> None:
    """Bands must cover every rounded score from the lowest to the highest level, once."""
    step = Decimal("0.1")
    expected = Decimal(min(framework.scale_values))
    for stage in sorted(framework.stages, key=lambda s: s.min_score):
        if stage.min_score != expected:
            raise ValueError(
                f"stage {stage.id!r} starts at {stage.min_score} but the bands need {expected} next "
                "(bands must not overlap or leave gaps)"
            )
        if stage.max_score < stage.min_score:
            raise ValueError(f"stage {stage.id!r} ends before it starts")
        expected = stage.max_score + step
    top = Decimal(max(framework.scale_values))
    if expected - step != top:
        raise ValueError(f"the last stage band ends at {expected - step}, not at the top score {top}")


def _check_dimension(framework: Framework, dimension: Dimension) -> None:
    stage_ids = {s.id for s in framework.stages}
    sub_ids = {s.id for s in dimension.sub_dimensions}
    for sub in dimension.sub_dimensions:
        missing = stage_ids - sub.recommendations.keys()
        unknown = sub.recommendations.keys() - stage_ids
        if missing or unknown:
            raise ValueError(
                f"sub-dimension {sub.id!r} recommendations: missing stages {sorted(missing)}, "
                f"unknown stages {sorted(unknown)}"
            )
    for question in dimension.questions:
        if question.sub_dimension not in sub_ids:
            raise ValueError(
                f"question {question.id!r} names sub-dimension {question.sub_dimension!r}, "
                f"which dimension {dimension.id!r} does not have"
            )
        values = tuple(level.value for level in question.levels)
        if values != framework.scale_values:
            raise ValueError(
                f"question {question.id!r} has levels {list(values)}; the scale needs "
                f"{list(framework.scale_values)} in that order"
            )
