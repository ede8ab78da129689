"""Calculator replies: a step, its acknowledgement or refusal, the summary, and the CSV export.

Everything is built from the calculator file and the catalogue; no state, no I/O. The summary and
the CSV read the figures in their stored form (`frameworks.calculator.stored_figures`), so a result
shown again after a restart reads exactly as it did when it was worked out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from dialogs.catalogue import Catalogue
from dialogs.commands import position_payload
from dialogs.types import Button, ButtonRole, Link, Reply, ReplyKind
from frameworks import expressions as x
from frameworks.amounts import COUNT, MONEY
from frameworks.calculator import (
    OTHERWISE,
    UNDEFINED,
    Calculator,
    Figure,
    Input,
    OutOfBounds,
    from_text,
    shown_value,
)
from frameworks.registry import FrameworkRegistry
from storage.records import ResultRecord, RunRecord

SHARE_PLACES = 2
"""A share typed as a fraction that has no short decimal form (1 of 3) is shown to 0.01%."""
EXPORT_PLACES = 6
"""Exact values in the CSV that have no finite decimal form (payback 2256/71) are given to 6 places."""
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""Text cells a spreadsheet would run as a formula (numbers are written as numbers)."""


@dataclass(frozen=True, slots=True)
class CalculationExport:
    """A stored calculation as CSV, and the calculator it is of (the file's name)."""

    calculator_id: str
    text: str


def export_path(token: str, locale: str) -> str:
    """Where the server serves a calculation's CSV (`bot.web.calculations`), its labels in `locale`."""
    return f"/calculations/{token}.csv?lang={locale}"


# --- numbers as people read them -----------------------------------------------------------


def grouped(value: Decimal) -> str:
    """Thousands separated by commas, the decimals kept as they are (1234.5 -> 1,234.5)."""
    return f"{value:,f}"


def as_decimal(value: Fraction, places: int, rule: str) -> Decimal:
    rounded = x.round_to(value, places, rule)
    return (Decimal(rounded.numerator) / Decimal(rounded.denominator)).quantize(Decimal(1).scaleb(-places))


def input_text(step: Input, value: Fraction) -> str:
    """An input as given: counts whole, money with its pence if any, shares as a percentage."""
    if step.kind == COUNT:
        return grouped(Decimal(value.numerator))
    if step.kind == MONEY:
        places = 0 if value.denominator == 1 else max(2, _places(value))
        return grouped(as_decimal(value, places, x.HALF_UP))
    percent = value * 100
    places = min(_places(percent), SHARE_PLACES)
    return f"{grouped(as_decimal(percent, places, x.HALF_UP))}%"


def _places(value: Fraction) -> int:
    """Decimal places of a value's exact form, up to 6 (more for none: 1/3 has no exact form)."""
    for places in range(EXPORT_PLACES + 1):
        if (value * 10**places).denominator == 1:
            return places
    return EXPORT_PLACES


def figure_text(cat: Catalogue, calculator: Calculator, figure: Figure, stored: str) -> str:
    """A figure as shown: rounded by its format, or why it has no value."""
    if stored == OTHERWISE:
        return figure.otherwise or ""
    if stored == UNDEFINED:
        return cat.text("calc_undefined")
    number = grouped(shown_value(from_text(stored), figure.format, calculator.rounding))
    if figure.format == "percent":
        return cat.text("calc_percent", value=number)
    if figure.format == "months":
        return cat.text("calc_months", value=number)
    return number


# --- asking --------------------------------------------------------------------------------


def step_reply(
    cat: Catalogue,
    calculator: Calculator,
    run: int,
    steps: tuple[Input, ...],
    index: int,
    current: str | None,
) -> Reply:
    """One input asked: where it stands, the question, how to type it, and the value so far."""
    step = steps[index]
    lines = [step.text, "", cat.text(f"calc_hint_{step.kind}")]
    buttons: list[Button] = []
    if current is not None:
        shown = input_text(step, from_text(current))
        lines.append(cat.text("calc_current", value=shown))
        buttons.append(
            Button(cat.text("calc_button_keep", value=shown), position_payload("keep", run, index))
        )
    if index > 0:
        back = cat.text("button_back")
        buttons.append(Button(back, position_payload("back", run, index), ButtonRole.NAVIGATION))
    title = cat.text("calc_progress", number=index + 1, count=len(steps), short=step.short)
    return Reply(text="\n".join(lines), title=title, buttons=tuple(buttons), kind=ReplyKind.QUESTION)


def answered_reply(cat: Catalogue, step: Input, value: Fraction) -> Reply:
    return Reply(
        text=cat.text("calc_answered", short=step.short, value=input_text(step, value)),
        kind=ReplyKind.ANSWERED,
    )


def refusal_reply(cat: Catalogue, step: Input, reason: str | OutOfBounds) -> Reply:
    """Why a typed value was not taken; the earlier ones are kept, and the reply says so."""
    if isinstance(reason, OutOfBounds):
        limit = (
            input_text(step, reason.limit)
            if reason.limit >= 0
            else grouped(as_decimal(reason.limit, 2, x.HALF_UP))
        )
        why = cat.text(f"calc_bad_{reason.side}", short=step.short, limit=limit)
    else:
        why = cat.text(f"calc_bad_{reason}", short=step.short)
    return Reply(text=f"{why} {cat.text('calc_kept')}", kind=ReplyKind.NOTICE)


# --- the summary ---------------------------------------------------------------------------


def summary_replies(
    cat: Catalogue,
    calculator: Calculator,
    values: Mapping[str, str],
    refinements: tuple[str, ...],
    figures: Mapping[str, str],
    token: str,
    note: str | None = None,
) -> list[Reply]:
    """The inputs given and every figure with its formula in words, then what can be done next."""
    lines = [note, ""] if note else []
    lines.append(cat.text("calc_inputs_head"))
    for step in calculator.steps(refinements):
        if step.id in values:
            lines.append(
                cat.text(
                    "calc_input_line", short=step.short, value=input_text(step, from_text(values[step.id]))
                )
            )
    lines += ["", cat.text("calc_figures_head")]
    for figure in calculator.figures:
        if figure.id in figures:
            shown = figure_text(cat, calculator, figure, figures[figure.id])
            lines.append(cat.text("calc_figure_line", label=figure.label, value=shown))
            lines.append(cat.text("calc_formula_line", words=figure.words_for(refinements)))
    lines += ["", cat.text(f"calc_rounding_{calculator.rounding}")]
    title = cat.text("calc_summary_title", title=calculator.title)
    link = Link(cat.text("calc_csv_link"), export_path(token, cat.locale))
    summary = Reply(text="\n".join(lines), title=title, links=(link,), kind=ReplyKind.RESULT)
    return [summary, Reply(text=_footer(cat, calculator, refinements), kind=ReplyKind.INFO)]


def _footer(cat: Catalogue, calculator: Calculator, refinements: tuple[str, ...]) -> str:
    offers = [
        cat.text("calc_footer_refine", command=r.id, title=r.title.lower())
        for r in calculator.refinements
        if r.id not in refinements
    ]
    return " ".join([cat.text("calc_footer", id=calculator.id), *offers])


# --- the CSV export ------------------------------------------------------------------------


def calculation_csv(
    calculator: Calculator,
    version: str,
    values: Mapping[str, str],
    refinements: tuple[str, ...],
    figures: Mapping[str, str],
    cat: Catalogue,
) -> str:
    """One row per input and per figure: the exact value (machine readable), the value as shown, and
    the figure's formula in words. Two `about` rows name the calculator version and the rounding."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "id", "label", "value", "shown", "formula"])
    writer.writerow(["about", "calculator", _cell(calculator.title), version, "", ""])
    writer.writerow(["about", "rounding", "", calculator.rounding, "", ""])
    for step in calculator.steps(refinements):
        if step.id in values:
            value = from_text(values[step.id])
            writer.writerow(["input", step.id, _cell(step.short), _exact(value), input_text(step, value), ""])
    for figure in calculator.figures:
        if figure.id in figures:
            stored = figures[figure.id]
            has_value = stored not in (OTHERWISE, UNDEFINED)
            exact = _exact(from_text(stored)) if has_value else ""
            shown = figure_text(cat, calculator, figure, stored)  # a number of ours: no formula to defuse
            shown = shown if has_value else _cell(shown)
            writer.writerow(
                ["figure", figure.id, _cell(figure.label), exact, shown, _cell(figure.words_for(refinements))]
            )
    return out.getvalue()


def stored_csv(cat: Catalogue, calculator: Calculator, record: ResultRecord) -> str:
    """The CSV of a stored result's calculation (empty for an assessment's result)."""
    stored = record.calculation
    if stored is None:
        return ""
    return calculation_csv(
        calculator, record.framework_version, stored.values, stored.refinements, stored.figures, cat
    )


def _exact(value: Fraction) -> str:
    """A plain decimal a spreadsheet reads as a number: exact where it can be, else to 6 places."""
    return str(as_decimal(value, _places(value), x.HALF_UP))


def _cell(text: str) -> str:
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


# --- /mydata -------------------------------------------------------------------------------


def calculation_lines(
    cat: Catalogue, frameworks: FrameworkRegistry, run: RunRecord, result: ResultRecord | None
) -> list[str]:
    """A calculator run in `/mydata`: every input it holds and, once finished, every figure stored
    with its result; nothing for an assessment's run."""
    calculator = frameworks.calculator(run.framework_id)
    calculation = result.calculation if result is not None else None
    if calculator is None and not run.inputs and calculation is None:
        return []
    finished = _when(run.finished_at) if run.finished_at else ""
    header = cat.text(
        "mydata_run",
        number=run.number,
        title=calculator.title if calculator else run.framework_id,
        version=run.framework_version,
        started=_when(run.started_at),
        status=cat.text(f"status_{run.status}", finished=finished),
        answered=len(run.inputs),
    )
    steps = {step.id: step for step in calculator.input_of.values()} if calculator else {}
    lines = ["", header]
    for name, text in run.inputs.items():
        step = steps.get(name)
        shown = input_text(step, from_text(text)) if step else text
        lines.append(cat.text("mydata_answer", short=step.short if step else name, answer=shown))
    if calculation is not None:
        lines.append(cat.text("calc_mydata_figures"))
        figures = {f.id: f for f in calculator.figures} if calculator else {}
        for name, stored in calculation.figures.items():
            figure = figures.get(name)
            shown = figure_text(cat, calculator, figure, stored) if figure and calculator else stored
            lines.append(cat.text("mydata_answer", short=figure.label if figure else name, answer=shown))
    return lines


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
