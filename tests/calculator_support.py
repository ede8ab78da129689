"""Hand-worked examples of the failure-demand calculator, and reading its summary back.

Each example gives the six inputs as a person might type them and every figure the summary must
show, worked out by hand below (not by the code under test), with the formulas of issue 10:

    failure contacts   = total x share
    yearly cost        = failure contacts x cost per contact (by channel: x each share x its cost)
    yearly saving      = yearly cost x reduction
    cost over N years  = one-off + N x yearly running cost
    net over N years   = N x saving - cost over N years
    ROI over N years   = net over N years / cost over N years          (a whole percentage)
    payback in months  = one-off / ((saving - running) / 12), "never" unless saving > running

Money and counts are shown in whole units with thousands separators, halves away from zero.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CALCULATOR = "failure-demand"
INPUT_ORDER = (
    "Contacts a year",
    "Share that is failure demand",
    "Cost of one contact",
    "Reduction aimed for",
    "One-off cost of the programme",
    "Yearly running cost",
)
"""The order issue 10 gives: total demand, failure share, cost per contact, reduction, one-off cost,
yearly running cost."""
CHANNEL_ORDER = (
    "Share by phone",
    "Cost of a phone contact",
    "Share face to face",
    "Cost of a face-to-face contact",
    "Share by email",
    "Cost of an email contact",
    "Cost of a web contact",
)
FORMULAS = {
    "Failure contacts a year": "contacts a year x share that is failure demand",
    "Yearly cost of failure demand": "failure contacts a year x cost of one contact",
    "Yearly saving": "yearly cost of failure demand x reduction aimed for",
    "Programme cost over 3 years": "one-off cost + 3 x yearly running cost",
    "Net benefit over 3 years": "3 x yearly saving - programme cost over 3 years",
    "ROI over 3 years": "net benefit over 3 years / programme cost over 3 years",
    "Programme cost over 5 years": "one-off cost + 5 x yearly running cost",
    "Net benefit over 5 years": "5 x yearly saving - programme cost over 5 years",
    "ROI over 5 years": "net benefit over 5 years / programme cost over 5 years",
    "Payback": (
        "one-off cost / ((yearly saving - yearly running cost) / 12); never when the saving does not "
        "exceed the running cost"
    ),
}
"""Every figure's formula in words, as the summary must give it (without channels)."""
BY_CHANNEL = (
    "failure contacts a year x each channel's share x the cost of one contact there, summed over "
    "phone, face to face, email and web"
)


@dataclass(frozen=True)
class Example:
    typed: tuple[str, ...]
    inputs: dict[str, str]
    """Each input as the summary shows it back."""
    figures: dict[str, str]
    """Each figure as the summary shows it."""


# A programme that pays back. Typed in the forgiving forms: 12k, 15%, a decimal, a fraction, a space
# and a comma as thousands separators.
#   failure contacts = 12,000 x 0.15                 = 1,800
#   yearly cost      = 1,800 x 12.50                 = 22,500
#   saving           = 22,500 x 0.4                  = 9,000
#   cost, 3 years    = 12,000 + 3 x 1,500            = 16,500
#   net, 3 years     = 3 x 9,000 - 16,500            = 10,500
#   ROI, 3 years     = 10,500 / 16,500 = 0.63636...  = 64%
#   cost, 5 years    = 12,000 + 5 x 1,500            = 19,500
#   net, 5 years     = 5 x 9,000 - 19,500            = 25,500
#   ROI, 5 years     = 25,500 / 19,500 = 1.30769...  = 131%
#   payback          = 12,000 / ((9,000 - 1,500) / 12) = 12,000 / 625 = 19.2 months
PAYS_BACK = Example(
    typed=("12k", "15%", "12.50", "0.4", "12 000", "1,500"),
    inputs=dict(zip(INPUT_ORDER, ("12,000", "15%", "12.50", "40%", "12,000", "1,500"), strict=True)),
    figures={
        "Failure contacts a year": "1,800",
        "Yearly cost of failure demand": "22,500",
        "Yearly saving": "9,000",
        "Programme cost over 3 years": "16,500",
        "Net benefit over 3 years": "10,500",
        "ROI over 3 years": "64%",
        "Programme cost over 5 years": "19,500",
        "Net benefit over 5 years": "25,500",
        "ROI over 5 years": "131%",
        "Payback": "19.2 months",
    },
)

# A programme whose yearly saving (41,111.11) is below its running cost (45,000): it never pays back,
# and loses money over both periods. The share is what a sample found, 37 of 180 (20.555...%).
#   failure contacts = 1,250,000 x 37/180            = 256,944.44...  -> 256,944
#   yearly cost      = 256,944.44... x 3.20          = 822,222.22...  -> 822,222
#   saving           = 822,222.22... x 0.05          = 41,111.11...   -> 41,111
#   cost, 3 years    = 250,000 + 3 x 45,000          = 385,000
#   net, 3 years     = 3 x 41,111.11... - 385,000    = -261,666.66... -> -261,667
#   ROI, 3 years     = -261,666.66... / 385,000      = -0.67965...    -> -68%
#   cost, 5 years    = 250,000 + 5 x 45,000          = 475,000
#   net, 5 years     = 5 x 41,111.11... - 475,000    = -269,444.44... -> -269,444
#   ROI, 5 years     = -269,444.44... / 475,000      = -0.56725...    -> -57%
#   payback          = never (41,111.11 does not exceed 45,000)
NEVER = Example(
    typed=("1,250,000", "37 of 180", "3.20", "5%", "250k", "45,000"),
    inputs=dict(zip(INPUT_ORDER, ("1,250,000", "20.56%", "3.20", "5%", "250,000", "45,000"), strict=True)),
    figures={
        "Failure contacts a year": "256,944",
        "Yearly cost of failure demand": "822,222",
        "Yearly saving": "41,111",
        "Programme cost over 3 years": "385,000",
        "Net benefit over 3 years": "-261,667",
        "ROI over 3 years": "-68%",
        "Programme cost over 5 years": "475,000",
        "Net benefit over 5 years": "-269,444",
        "ROI over 5 years": "-57%",
        "Payback": "never",
    },
)

# PAYS_BACK refined with /channels: half the failure contacts by phone at 8.00, a fifth face to face
# at 25.00, a tenth by email at 4.00, and the web takes the rest (1 - 0.5 - 0.2 - 0.1 = 0.2) at 2.00.
#   cost per failure contact = 0.5 x 8 + 0.2 x 25 + 0.1 x 4 + 0.2 x 2 = 4 + 5 + 0.4 + 0.4 = 9.80
#   yearly cost      = 1,800 x 9.80                  = 17,640
#   saving           = 17,640 x 0.4                  = 7,056
#   net, 3 years     = 3 x 7,056 - 16,500            = 4,668
#   ROI, 3 years     = 4,668 / 16,500 = 0.28290...   = 28%
#   net, 5 years     = 5 x 7,056 - 19,500            = 15,780
#   ROI, 5 years     = 15,780 / 19,500 = 0.80923...  = 81%
#   payback          = 12,000 / ((7,056 - 1,500) / 12) = 12,000 / 463 = 25.917... = 25.9 months
CHANNELS_TYPED = ("50%", "8", "0.2", "25", "10%", "4", "2")
CHANNELS = Example(
    typed=CHANNELS_TYPED,
    inputs={
        **PAYS_BACK.inputs,
        **dict(zip(CHANNEL_ORDER, ("50%", "8", "20%", "25", "10%", "4", "2"), strict=True)),
    },
    figures={
        **PAYS_BACK.figures,
        "Yearly cost of failure demand": "17,640",
        "Yearly saving": "7,056",
        "Net benefit over 3 years": "4,668",
        "ROI over 3 years": "28%",
        "Net benefit over 5 years": "15,780",
        "ROI over 5 years": "81%",
        "Payback": "25.9 months",
    },
)


@dataclass(frozen=True)
class Summary:
    """A summary read back from a channel's text: inputs, figures and formulas, in order."""

    inputs: dict[str, str]
    figures: dict[str, str]
    formulas: dict[str, str]


_LINE = re.compile(r"^- (?P<label>[^:]+): (?P<value>.+)$")


def summary_of(text: str) -> Summary:
    """The last summary in `text` (a terminal's output or the webhook's texts): each "- label: value"
    line under "What you told me:" and "What it comes to:", and the "= words" line under a figure."""
    start = text.rindex("What you told me:")
    inputs: dict[str, str] = {}
    figures: dict[str, str] = {}
    formulas: dict[str, str] = {}
    section = inputs
    last = ""
    for raw in text[start:].split("\n")[1:]:
        line = raw.strip()
        if line.startswith("What it comes to:"):
            section = figures
        elif line.startswith("= "):
            formulas[last] = line[2:]
        elif (match := _LINE.match(line)) is not None and not line.startswith("- ["):
            last = match["label"]
            section[last] = match["value"]
        elif line.startswith("Worked out exactly"):
            break
    return Summary(inputs, figures, formulas)


def check_summary(text: str, example: Example, by_channel: bool = False) -> None:
    """The summary in `text` shows exactly the example's inputs and figures, in the issue's order,
    each figure with its formula in words."""
    summary = summary_of(text)
    assert summary.inputs == example.inputs
    assert list(summary.inputs) == list(example.inputs)
    assert summary.figures == example.figures
    assert list(summary.figures) == list(FORMULAS)
    expected = {**FORMULAS, "Yearly cost of failure demand": BY_CHANNEL} if by_channel else FORMULAS
    assert summary.formulas == expected
