"""Calculator files (`kind: calculator`): inputs asked in order, and figures worked out from them.

A calculator is data, like an assessment: its inputs (what to ask, of what kind, within which
bounds), its optional refinements (more inputs asked on request, such as costs by channel, each
named by the command that asks them) and its figures (a formula, the formula in words, how to show
the value) are all in the file. Formulas are in the small language of `frameworks.expressions`,
checked when the file is loaded: each may use only inputs and figures defined before it.

Arithmetic is exact (fractions); a value is rounded only to be shown, by the file's `rounding`
rule, to the places of its format (`PLACES`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cached_property
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema, model_validator

from frameworks import expressions as x
from frameworks.amounts import parse_amount
from frameworks.schema import AtLeast, Place, Problem, Problems, Prose, ShortText, Slug, Strict

CALCULATOR = "calculator"
"""The `kind` that marks a framework file as a calculator."""
IDENTIFIER = r"^[a-z][a-z0-9_]{0,31}$"
"""Input and figure ids are names in formulas, so no hyphens (`one-off` would read as one minus off)."""
RESERVED_COMMANDS = frozenset(
    {
        "start",
        "help",
        "back",
        "skip",
        "keep",
        "csv",
        "review",
        "submit",
        "results",
        "restart",
        "mydata",
        "deletemydata",
        "answer",
        "change",
        "yes",
        "no",
        "join",
        "leave",
        "campaign",
        "campaigns",
        "language",
    }
)
"""The bot's own commands: a refinement (whose id is its command) may not take one of these names."""
PLACES = {"count": 0, "money": 0, "percent": 0, "months": 1}
"""Decimal places each figure format is shown to (a percent's places count in percentage points)."""
UNDEFINED = "undefined"
OTHERWISE = "otherwise"
"""Stored in place of a figure's value: it divides by zero, or its `only_if` condition failed."""

Identifier = Annotated[str, Field(pattern=IDENTIFIER)]


def _as_text(value: Any) -> Any:
    """A bound may be written as a plain number (`min: 1`): keep it as the text of a formula."""
    if isinstance(value, bool):
        return value  # refused as not a string: true/false is no bound
    return str(value) if isinstance(value, int | float) else value


def _formula(text: str) -> str:
    x.parse_formula(text)
    return text


def _condition(text: str) -> str:
    x.parse_condition(text)
    return text


FORMULA_SCHEMA = {
    "anyOf": [{"type": "string", "minLength": 1}, {"type": "number"}],
    "description": "A number, or a formula over inputs and figures defined before: + - * /, "
    "parentheses, min, max, sum, round",
}
"""What editors are told a formula is (a plain number is one too, as in `min: 1`)."""
Formula = Annotated[
    str,
    BeforeValidator(_as_text),
    Field(min_length=1),
    AfterValidator(_formula),
    WithJsonSchema(FORMULA_SCHEMA),
]
Condition = Annotated[str, Field(min_length=1), AfterValidator(_condition)]


class Input(Strict):
    """One value the person is asked for, in the order the file gives."""

    id: Identifier
    kind: Literal["count", "money", "share"]
    """count: a whole number; money: an amount, decimals allowed; share: 0-100% (or 0-1)."""
    text: Prose
    """The question, as the person reads it."""
    short: ShortText
    """The input's name in the summary and the acknowledgement, as in "Contacts a year: 12,000"."""
    min: Formula | None = None
    max: Formula | None = None
    """Bounds: numbers, or formulas over the inputs asked before this one."""

    @cached_property
    def bounds(self) -> tuple[x.Node | None, x.Node | None]:
        return (
            x.parse_formula(self.min) if self.min is not None else None,
            x.parse_formula(self.max) if self.max is not None else None,
        )


class Refined(Strict):
    """A figure's formula when a refinement's inputs were given."""

    formula: Formula
    words: Prose


class Figure(Strict):
    """One worked-out value: its formula, that formula in words, and how it is shown."""

    id: Identifier
    label: ShortText
    formula: Formula
    words: Prose
    format: Literal["count", "money", "percent", "months"]
    only_if: Condition | None = None
    """When this is false the figure has no value and `otherwise` is shown (payback: never)."""
    otherwise: ShortText | None = None
    refined: dict[Identifier, Refined] = {}
    """By refinement id: the formula used instead when that refinement's inputs were given."""

    @cached_property
    def parsed(self) -> x.Node:
        return x.parse_formula(self.formula)

    @cached_property
    def condition(self) -> x.Compare | None:
        return x.parse_condition(self.only_if) if self.only_if is not None else None

    @cached_property
    def parsed_refined(self) -> dict[str, x.Node]:
        return {name: x.parse_formula(refined.formula) for name, refined in self.refined.items()}

    def refinement_used(self, refinements: Sequence[str]) -> str | None:
        """The refinement whose formula applies: the last one given (in file order) that refines this."""
        return next((name for name in reversed(refinements) if name in self.refined), None)

    def words_for(self, refinements: Sequence[str]) -> str:
        """The formula in words, as worked out with these refinements."""
        used = self.refinement_used(refinements)
        return self.words if used is None else self.refined[used].words


class Refinement(Strict):
    """More inputs, asked after the summary when the person sends the refinement's command."""

    id: Identifier
    """Also the command that asks it (`channels` is `/channels`)."""
    title: ShortText
    intro: Prose
    inputs: Annotated[tuple[Input, ...], AtLeast(1)]


class Calculator(Strict):
    """A whole calculator, validated. `version` is derived from the content when loaded."""

    kind: Literal["calculator"]
    id: Slug
    title: Annotated[str, Field(min_length=1, max_length=120)]
    language: str = Field(default="en", pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    intro: Prose
    source: Prose
    rounding: Literal["half-up", "half-even"]
    """How shown values are rounded to their places (stated in the file, so nobody has to guess)."""
    inputs: Annotated[tuple[Input, ...], AtLeast(1)]
    refinements: tuple[Refinement, ...] = ()
    figures: Annotated[tuple[Figure, ...], AtLeast(1)]
    version: str = ""

    @model_validator(mode="after")
    def _check_names(self) -> Self:
        problems = [*_name_problems(self)]
        if problems:
            raise Problems(problems)
        return self

    def refinement(self, name: str) -> Refinement | None:
        return next((r for r in self.refinements if r.id == name), None)

    def steps(self, refinements: Collection[str] = ()) -> tuple[Input, ...]:
        """What is asked, in order: the inputs, then those of each refinement given (file order)."""
        extra = (i for r in self.refinements if r.id in refinements for i in r.inputs)
        return (*self.inputs, *extra)

    @cached_property
    def input_of(self) -> dict[str, Input]:
        """Every input by id, refinements' too."""
        return {i.id: i for i in self.steps([r.id for r in self.refinements])}


def _name_problems(calculator: Calculator) -> Iterator[Problem]:
    """Ids used twice, and formulas reading names that are not defined before them."""
    seen: dict[str, str] = {}
    base = [i.id for i in calculator.inputs]
    yield from _input_problems(calculator.inputs, ("inputs",), [], seen)
    for r, refinement in enumerate(calculator.refinements):
        place = ("refinements", r)
        if refinement.id in RESERVED_COMMANDS or any(
            o.id == refinement.id for o in calculator.refinements[:r]
        ):
            yield Problem((*place, "id"), f"{refinement.id!r} is already a command; choose another id")
        yield from _input_problems(refinement.inputs, (*place, "inputs"), base, seen)
    refinement_inputs = {r.id: [i.id for i in r.inputs] for r in calculator.refinements}
    figures: list[str] = []
    for f, figure in enumerate(calculator.figures):
        place = ("figures", f)
        yield from _unique(figure.id, (*place, "id"), seen)
        known = [*base, *figures]
        yield from _unknown_names(figure.parsed, known, (*place, "formula"))
        if figure.condition is not None:
            yield from _unknown_names(figure.condition, known, (*place, "only_if"))
        if (figure.only_if is None) != (figure.otherwise is None):
            yield Problem(place, "only_if and otherwise go together: give both or neither")
        for name, node in figure.parsed_refined.items():
            if name not in refinement_inputs:
                yield Problem((*place, "refined", name), f"there is no refinement {name!r}")
            else:
                yield from _unknown_names(node, [*known, *refinement_inputs[name]], (*place, "refined", name))
        figures.append(figure.id)


def _input_problems(
    inputs: Sequence[Input], place: Place, before: list[str], seen: dict[str, str]
) -> Iterator[Problem]:
    known = list(before)
    for index, item in enumerate(inputs):
        yield from _unique(item.id, (*place, index, "id"), seen)
        for key, node in zip(("min", "max"), item.bounds, strict=True):
            if node is not None:
                yield from _unknown_names(node, known, (*place, index, key))
        known.append(item.id)


def _unique(name: str, place: Place, seen: dict[str, str]) -> Iterator[Problem]:
    if name in seen:
        yield Problem(
            place, f"{name!r} is already the id of {seen[name]}; every input and figure needs its own"
        )
    seen.setdefault(name, ".".join(str(part) for part in place[:-1]))


def _unknown_names(node: x.Node | x.Compare, known: list[str], place: Place) -> Iterator[Problem]:
    for name in dict.fromkeys(x.names_in(node)):
        if name not in known:
            shown = ", ".join(known) or "none yet"
            yield Problem(
                (*place,),
                f"{name!r} is not an input or figure defined before this one (those are: {shown})",
            )


def calculator_version(calculator: Calculator) -> str:
    """A short hash of the content (defaults left out, as for assessments)."""
    data = calculator.model_dump(mode="json", exclude={"version"}, exclude_defaults=True)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]


def validated_calculator(data: dict[str, Any]) -> Calculator:
    """A calculator from a file's data, with its version."""
    calculator = Calculator.model_validate(data)
    return calculator.model_copy(update={"version": calculator_version(calculator)})


# --- asking --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutOfBounds:
    """A value below the input's `min` or above its `max`, with the bound's value."""

    side: Literal["min", "max"]
    limit: Fraction


def read_input(step: Input, text: str, earlier: Mapping[str, Fraction], rule: str) -> Fraction | OutOfBounds:
    """The value typed for `step`, or how it misses a bound; `AmountError` if it cannot be read."""
    value = parse_amount(text, step.kind)
    return out_of_bounds(step, value, earlier, rule) or value


def out_of_bounds(
    step: Input, value: Fraction, earlier: Mapping[str, Fraction], rule: str
) -> OutOfBounds | None:
    """Whether a value misses the input's bounds (a bound that divides by zero bounds nothing)."""
    low, high = (_bound(node, earlier, rule) for node in step.bounds)
    if low is not None and value < low:
        return OutOfBounds("min", low)
    if high is not None and value > high:
        return OutOfBounds("max", high)
    return None


def _bound(node: x.Node | None, earlier: Mapping[str, Fraction], rule: str) -> Fraction | None:
    if node is None:
        return None
    try:
        return x.evaluate(node, earlier, rule)
    except x.Undefined:
        return None


# --- working out ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """One figure worked out: its value, or None when it has none (`otherwise`, or undefined)."""

    figure: Figure
    value: Fraction | None
    otherwise: bool
    words: str
    """The formula in words that was used (the refined one, if a refinement applied)."""


@dataclass(frozen=True, slots=True)
class Calculation:
    """Every input given and every figure worked out from them."""

    calculator: Calculator
    values: dict[str, Fraction]
    refinements: tuple[str, ...]
    outcomes: tuple[Outcome, ...]

    @property
    def inputs(self) -> tuple[tuple[Input, Fraction], ...]:
        steps = self.calculator.steps(self.refinements)
        return tuple((step, self.values[step.id]) for step in steps if step.id in self.values)


def calculate(
    calculator: Calculator, values: Mapping[str, Fraction], refinements: Collection[str]
) -> Calculation:
    """Every figure, in file order, from the inputs (a refinement's formula where it applies)."""
    known = dict(values)
    given = tuple(r.id for r in calculator.refinements if r.id in refinements)
    outcomes = []
    for figure in calculator.figures:
        outcome = _work_out(figure, known, given, calculator.rounding)
        if outcome.value is not None:
            known[figure.id] = outcome.value
        outcomes.append(outcome)
    return Calculation(calculator, dict(values), given, tuple(outcomes))


def _work_out(figure: Figure, known: dict[str, Fraction], given: tuple[str, ...], rule: str) -> Outcome:
    used = figure.refinement_used(given)
    node = figure.parsed if used is None else figure.parsed_refined[used]
    words = figure.words_for(given)
    try:
        if figure.condition is not None and not x.holds(figure.condition, known, rule):
            return Outcome(figure, None, True, words)
        return Outcome(figure, x.evaluate(node, known, rule), False, words)
    except x.Undefined:
        return Outcome(figure, None, False, words)


def shown_value(value: Fraction, format_: str, rule: str) -> Decimal:
    """A figure's value rounded as it is shown (a percent as percentage points)."""
    scaled = value * 100 if format_ == "percent" else value
    places = PLACES[format_]
    rounded = x.round_to(scaled, places, rule)
    return (Decimal(rounded.numerator) / Decimal(rounded.denominator)).quantize(Decimal(1).scaleb(-places))


# --- stored form ---------------------------------------------------------------------------


def exact_text(value: Fraction) -> str:
    """A value as stored: decimal text when it has a finite decimal form (0.15), else `p/q`."""
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    if denominator != 1:
        return f"{value.numerator}/{value.denominator}"
    places = 0
    while (value * 10**places).denominator != 1:
        places += 1
    digits = Decimal(value.numerator) / Decimal(value.denominator)
    return str(digits.quantize(Decimal(1).scaleb(-places))) if places else str(value.numerator)


def from_text(text: str) -> Fraction:
    return Fraction(text)


def stored_figures(calculation: Calculation) -> dict[str, str]:
    """Each figure's value as stored with the result: exact text, or why it has none."""
    return {
        o.figure.id: exact_text(o.value) if o.value is not None else OTHERWISE if o.otherwise else UNDEFINED
        for o in calculation.outcomes
    }
