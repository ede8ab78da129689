"""The pydantic schema every assessment framework file is validated against.

A framework is data: the engine reads levels, stages and questions from here and has no
count of them built in, so a 4-level framework or one with 7 dimensions needs no code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    HttpUrl,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,47}$"
Slug = Annotated[str, Field(pattern=SLUG_PATTERN)]
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


@dataclass(frozen=True, slots=True)
class AtLeast:
    """A list in the file that needs at least `count` entries, counted as written.

    pydantic's own `min_length` on a tuple counts the entries that passed validation, so one bad
    entry in a short list was reported twice: once for itself and once as "Tuple should have at
    least 1 item after validation, not 0" for the list (and again for the list holding that one).
    """

    count: int

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_before_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {**handler(schema), "minItems": self.count}

    def _check(self, value: Any) -> Any:
        if isinstance(value, list | tuple) and len(value) < self.count:
            wanted = "must not be empty" if self.count == 1 else "must have at least {count} entries"
            raise PydanticCustomError("too_short", wanted, {"count": self.count})
        return value


PLACEHOLDER_HOSTS = re.compile(r"(^|\.)(example(\.(com|net|org))?|test|invalid|localhost)$")
"""Names reserved for examples and tests (RFC 2606 and 6761): never a real resource's address."""


PLACEHOLDER = (
    "looks like a placeholder, not a confirmed address: give the real address, "
    "or leave the url out (a title alone is better than a guessed link)"
)


def _not_placeholder(url: HttpUrl) -> HttpUrl:
    """Refuse an address that is a stand-in rather than one confirmed: `https://...`, a host that is
    not a public name (no dot, such as `https://todo`), or a name reserved for examples."""
    host = (url.host or "").rstrip(".")
    text = str(url)
    if "..." in text or "\u2026" in text or "." not in host.strip(".") or PLACEHOLDER_HOSTS.search(host):
        raise ValueError(PLACEHOLDER)
    return url


def _no_ellipsis(value: Any) -> Any:
    """`https://...` or `https://…` is refused as a placeholder before it is read as an address (the
    URL parser would otherwise call `…` an invalid domain name, which says nothing of the mistake)."""
    if isinstance(value, str) and ("..." in value or "\u2026" in value):
        raise ValueError(PLACEHOLDER)
    return value


ConfirmedUrl = Annotated[HttpUrl, BeforeValidator(_no_ellipsis), AfterValidator(_not_placeholder)]
Provenance = Annotated[str, Field(min_length=10, max_length=400), AfterValidator(_single_line)]


def _check_confirmed(url: HttpUrl | None, confirmed_by: str | None) -> None:
    """An address must say where it was confirmed, and a confirmation needs an address: a link
    nobody checked may lead to a different work than the title names."""
    if url is not None and confirmed_by is None:
        raise ValueError(
            f"url {str(url)!r} needs url_confirmed_by: the record or page that confirmed this "
            "address names this work (or leave the url out: a title alone is better than a guess)"
        )
    if url is None and confirmed_by is not None:
        raise ValueError("url_confirmed_by is given without a url")


ShortText = Annotated[str, Field(min_length=1, max_length=60), AfterValidator(_single_line)]
Sentences = Annotated[str, Field(min_length=1, max_length=600), AfterValidator(_one_to_three_sentences)]
Prose = Annotated[str, Field(min_length=1, max_length=3000)]
Score = Annotated[Decimal, Field(ge=0, decimal_places=1)]


class Strict(BaseModel):
    """Unknown keys are typos in a hand-written file, so they are errors. (The docstrings under
    fields become their descriptions in the JSON Schema editors show: `cxbot frameworks schema`.)"""

    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, use_attribute_docstrings=True
    )


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
    levels: Annotated[tuple[Level, ...], AtLeast(2)]


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
    url: ConfirmedUrl | None = None
    url_confirmed_by: Provenance | None = None
    """Where `url` was confirmed to name this case (required with a url)."""

    @model_validator(mode="after")
    def _check_provenance(self) -> Self:
        _check_confirmed(self.url, self.url_confirmed_by)
        return self


class Resource(Strict):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    topic: ShortText
    url: ConfirmedUrl | None = None
    """Only an address confirmed from a reliable source; a title alone is better than a guess."""
    url_confirmed_by: Provenance | None = None
    """Where `url` was confirmed to name this work: a record or page that gives both, so a reader
    can check the link leads to the work the title names (required with a url)."""

    @model_validator(mode="after")
    def _check_provenance(self) -> Self:
        _check_confirmed(self.url, self.url_confirmed_by)
        return self

    @cached_property
    def address(self) -> str | None:
        """The URL as text, or None (made once: results list resources on every finish)."""
        return str(self.url) if self.url is not None else None


class Dimension(Strict):
    id: Slug
    name: ShortText
    summary: Prose
    sub_dimensions: Annotated[tuple[SubDimension, ...], AtLeast(1)]
    questions: Annotated[tuple[Question, ...], AtLeast(1)]
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
    scale: Annotated[tuple[ScalePoint, ...], AtLeast(2)]
    stages: Annotated[tuple[Stage, ...], AtLeast(1)]
    dimensions: Annotated[tuple[Dimension, ...], AtLeast(1)]
    version: str = ""

    @model_validator(mode="after")
    def _check_references(self) -> Self:
        problems = [*_reference_problems(self)]
        if problems:
            raise Problems(problems)
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


Place = tuple[str | int, ...]
"""Where in the file: keys and positions from the top, as in pydantic's error locations."""


@dataclass(frozen=True, slots=True)
class Problem:
    at: Place
    message: str


class Problems(ValueError):
    """Every problem the checks across the framework found, each with its place, so the loader can
    report them all at once and each at its own line (not only the first, at "top level")."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = tuple(problems)


def _reference_problems(framework: Framework) -> Iterator[Problem]:
    stages = [(("stages", i, "id"), s.id) for i, s in enumerate(framework.stages)]
    yield from _duplicates("stage", stages)
    yield from _duplicates(
        "dimension", [(("dimensions", i, "id"), d.id) for i, d in enumerate(framework.dimensions)]
    )
    questions = [
        (("dimensions", d, "questions", q, "id"), question.id)
        for d, dimension in enumerate(framework.dimensions)
        for q, question in enumerate(dimension.questions)
    ]
    yield from _duplicates("question", questions)
    yield from _duplicates(
        "scale value", [(("scale", i, "value"), p.value) for i, p in enumerate(framework.scale)]
    )
    if list(framework.scale_values) != sorted(framework.scale_values):
        yield Problem(("scale",), "the scale must go from the lowest level to the highest: reorder it")
    yield from _band_problems(framework)
    for index, dimension in enumerate(framework.dimensions):
        yield from _dimension_problems(framework, index, dimension)


def _duplicates(kind: str, ids: Iterable[tuple[Place, str | int]]) -> Iterator[Problem]:
    seen: set[str | int] = set()
    for at, item in ids:
        if item in seen:
            yield Problem(at, f"{kind} id {item!r} is used twice: give this one another id")
        seen.add(item)


def _band_problems(framework: Framework) -> Iterator[Problem]:
    """Bands must cover every rounded score from the lowest to the highest level, once."""
    step = Decimal("0.1")
    expected = Decimal(min(framework.scale_values))
    ordered = sorted(enumerate(framework.stages), key=lambda item: item[1].min_score)
    for index, stage in ordered:
        if stage.min_score != expected:
            yield Problem(
                ("stages", index, "min_score"),
                f"stage {stage.id!r} starts at {stage.min_score} but the bands need {expected} next "
                "(bands must not overlap or leave gaps)",
            )
        if stage.max_score < stage.min_score:
            yield Problem(("stages", index, "max_score"), f"stage {stage.id!r} ends before it starts")
        expected = stage.max_score + step
    top = Decimal(max(framework.scale_values))
    if ordered and expected - step != top:
        last = ordered[-1][0]
        yield Problem(
            ("stages", last, "max_score"),
            f"the last stage band ends at {expected - step}, not at the top score {top}",
        )


def _dimension_problems(framework: Framework, index: int, dimension: Dimension) -> Iterator[Problem]:
    stage_ids = {s.id for s in framework.stages}
    sub_ids = {s.id for s in dimension.sub_dimensions}
    for number, sub in enumerate(dimension.sub_dimensions):
        missing = stage_ids - sub.recommendations.keys()
        unknown = sub.recommendations.keys() - stage_ids
        if missing or unknown:
            yield Problem(
                ("dimensions", index, "sub_dimensions", number, "recommendations"),
                f"sub-dimension {sub.id!r} recommendations: missing stages {sorted(missing)}, "
                f"unknown stages {sorted(unknown)} (give one per stage id)",
            )
    for number, question in enumerate(dimension.questions):
        at = ("dimensions", index, "questions", number)
        if question.sub_dimension not in sub_ids:
            yield Problem(
                (*at, "sub_dimension"),
                f"question {question.id!r} names sub-dimension {question.sub_dimension!r}, "
                f"which dimension {dimension.id!r} does not have (it has {sorted(sub_ids)})",
            )
        values = tuple(level.value for level in question.levels)
        if values != framework.scale_values:
            yield Problem(
                (*at, "levels"),
                f"question {question.id!r} has levels {list(values)}; the scale needs "
                f"{list(framework.scale_values)} in that order",
            )
