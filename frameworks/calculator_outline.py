"""A calculator as a readable outline (`cxbot frameworks show failure-demand`): its inputs in the
order they are asked, with their bounds, its refinements, and every figure with its formula, the
formula in words and how it is shown, so a reviewer can check the arithmetic without reading YAML."""

from __future__ import annotations

from frameworks.calculator import Calculator, Figure, Input, Refinement
from frameworks.loader import counted

INDENT = "  "
KINDS = {"count": "a whole number", "money": "an amount of money", "share": "a share, 0-100%"}
FORMATS = {
    "count": "a whole number",
    "money": "money, in whole units",
    "percent": "a whole percentage",
    "months": "months, to one decimal",
}


def calculator_outline(calculator: Calculator) -> str:
    """The whole calculator as plain text, one fact a line."""
    lines = [*_head(calculator), "", "Inputs, asked in this order:"]
    lines += _inputs(calculator.inputs, 1)
    number = len(calculator.inputs) + 1
    for refinement in calculator.refinements:
        lines += ["", *_refinement(refinement, number)]
        number += len(refinement.inputs)
    lines += ["", "Figures, worked out in this order:"]
    for figure in calculator.figures:
        lines += _figure(figure)
    return "\n".join(lines)


def _head(calculator: Calculator) -> list[str]:
    inputs = counted(len(calculator.inputs), "input")
    figures = counted(len(calculator.figures), "figure")
    refinements = counted(len(calculator.refinements), "refinement")
    return [
        f"{calculator.title} ({calculator.id}, version {calculator.version})",
        f"A calculator: {inputs}, {refinements}, {figures}; language {calculator.language}; "
        f"values rounded {calculator.rounding} only when shown",
        f"Source: {calculator.source}",
        f"Intro: {calculator.intro}",
    ]


def _inputs(inputs: tuple[Input, ...], first: int) -> list[str]:
    lines = []
    for number, item in enumerate(inputs, start=first):
        bounds = "".join(
            f", {name} {formula}"
            for name, formula in (("at least", item.min), ("at most", item.max))
            if formula
        )
        lines.append(f"{INDENT}{number}. {item.short} ({item.id}: {KINDS[item.kind]}{bounds})")
        lines.append(f"{INDENT * 2}{item.text}")
    return lines


def _refinement(refinement: Refinement, first: int) -> list[str]:
    return [
        f"Refinement /{refinement.id}: {refinement.title}, asked after the summary",
        f"{INDENT}{refinement.intro}",
        *_inputs(refinement.inputs, first),
    ]


def _figure(figure: Figure) -> list[str]:
    lines = [
        f"{INDENT}{figure.label} ({figure.id}, shown as {FORMATS[figure.format]}) = {figure.formula}",
        f"{INDENT * 2}in words: {figure.words}",
    ]
    if figure.only_if is not None:
        lines.append(f"{INDENT * 2}only if {figure.only_if}; otherwise shown as {figure.otherwise!r}")
    for name, refined in figure.refined.items():
        lines.append(f"{INDENT * 2}with /{name}: {refined.formula}")
        lines.append(f"{INDENT * 3}in words: {refined.words}")
    return lines
