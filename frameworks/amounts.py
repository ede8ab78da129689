"""Reading an amount a person typed into a calculator: forgiving in form, strict in meaning.

Understood: `12000`, `12,000`, `12 000`, `12k`, `1.5m`, `2bn`, `£4.50` (money), `15%`, `0.15` and
`150 of 1,000` or `150/1000` (shares). Refused, each with its own reason: negative numbers, shares
over 100%, a bare number above 1 where a share is asked (15 could mean 15% or 1500%), exponents
(`1e400`), `NaN` and infinity, words, and numbers longer than any real figure. A comma or space
separates thousands only in groups of three, so `12,5` is refused rather than misread as 12.5 or
125; and a point before groups of three (`12.000`, thousands as Portuguese writes them) is refused
for counts and money rather than misread as 12.

Values are exact `Fraction`s: `0.1` is one tenth, not the nearest binary float.
"""

from __future__ import annotations

import re
from fractions import Fraction

COUNT = "count"
"""A whole number of things (contacts a year)."""
MONEY = "money"
"""An amount of money, in whatever currency the person uses; decimals allowed."""
SHARE = "share"
"""A part of a whole, from 0 to 1 (0% to 100%)."""
KINDS = (COUNT, MONEY, SHARE)

MAX_TEXT = 40
MAX_DIGITS = 15
"""Whole-number digits: a trillion contacts or pounds is already beyond any organisation."""
MAX_DECIMALS = 6

# reasons (each has a message in the catalogue, `calc_bad_<reason>`)
NEGATIVE = "negative"
OVER_WHOLE = "over_whole"
SHARE_FORM = "share_form"
NOT_WHOLE = "not_whole"
TOO_LONG = "too_long"
UNREADABLE = "unreadable"
OF_ZERO = "of_zero"
PERCENT_NOT_SHARE = "percent"
EXPONENT = "exponent"
NOT_A_NUMBER = "not_a_number"
POINT_THOUSANDS = "point_thousands"


class AmountError(ValueError):
    """Why a typed amount was refused; `reason` names the message to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_SPACES = re.compile(r"[\s\u00a0\u2007\u2009\u202f]+")
_MINUSES = str.maketrans({"\u2212": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\ufe63": "-"})
_CURRENCY = re.compile(r"^(?:r\$|us\$|[£$€¥₹])\s*|\s*(?:[£$€¥₹])$")
_SCALE = re.compile(r"\s?(k|thousand|m|mn|million|bn|billion)$")
_SCALES = {
    "k": 1000,
    "thousand": 1000,
    "m": 10**6,
    "mn": 10**6,
    "million": 10**6,
    "bn": 10**9,
    "billion": 10**9,
}
_DIGITS = re.compile(
    r"^(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]{1,3}(?: [0-9]{3})+|[0-9]*)(?:\.(?P<part>[0-9]*))?$"
)
_EXPONENT = re.compile(r"^[0-9.,]*[0-9]\s?e\s?[-+]?[0-9]+$")
_NOT_A_NUMBER = re.compile(r"^[-+]?(?:nan|inf|infinity|\u221e)$")
_POINT_THOUSANDS = re.compile(r"^[0-9]{1,3}(?:\.[0-9]{3})+$")
"""12.000 or 1.250.000: a point before groups of three, as many languages write thousands."""
_PERCENT = re.compile(r"^(?P<number>.+?)\s?(?:%|percent|per cent|pct)$")
_OF = re.compile(r"^(?P<part>.+?)\s?(?:\bout of\b|\bof\b|/)\s?(?P<whole>.+)$")


def parse_amount(text: str, kind: str) -> Fraction:
    """The exact value of what was typed, for an input of `kind`; `AmountError` if refused."""
    typed = _normalised(text)
    if kind == MONEY:
        typed = _CURRENCY.sub("", typed)
    if typed.startswith("-") or (typed.startswith("(") and typed.endswith(")")):
        raise AmountError(NEGATIVE)
    _refuse_other_notations(typed)
    if kind == SHARE:
        return _share(typed)
    if _PERCENT.match(typed):
        raise AmountError(PERCENT_NOT_SHARE)
    if _POINT_THOUSANDS.match(typed):
        raise AmountError(POINT_THOUSANDS)
    value = _number(typed)
    if kind == COUNT and value.denominator != 1:
        raise AmountError(NOT_WHOLE)
    return value


def _refuse_other_notations(typed: str) -> None:
    """What a spreadsheet or a program might write, named so the person knows what to change."""
    bare = typed.removesuffix("%").strip()
    if _NOT_A_NUMBER.match(bare):
        raise AmountError(NOT_A_NUMBER)
    if _EXPONENT.match(bare):
        raise AmountError(EXPONENT)


def _normalised(text: str) -> str:
    typed = _SPACES.sub(" ", text.translate(_MINUSES)).strip().lower()
    if not typed:
        raise AmountError(UNREADABLE)
    if len(typed) > MAX_TEXT:
        raise AmountError(TOO_LONG)
    return typed


def _share(typed: str) -> Fraction:
    if (percent := _PERCENT.match(typed)) is not None:
        return _at_most_whole(_number(percent["number"]) / 100)
    if (of := _OF.match(typed)) is not None:
        part, whole = _number(of["part"]), _number(of["whole"])
        if whole == 0:
            raise AmountError(OF_ZERO)
        return _at_most_whole(part / whole)
    value = _number(typed)
    if value > 1:
        raise AmountError(SHARE_FORM)
    return value


def _at_most_whole(value: Fraction) -> Fraction:
    if value > 1:
        raise AmountError(OVER_WHOLE)
    return value


def _number(typed: str) -> Fraction:
    """A plain non-negative number with optional thousands separators and a k/m/bn scale."""
    typed = typed.strip()
    if typed.startswith("-"):
        raise AmountError(NEGATIVE)
    scale = 1
    if (suffix := _SCALE.search(typed)) is not None and suffix.start() > 0:
        scale = _SCALES[suffix.group(1)]
        typed = typed[: suffix.start()]
    match = _DIGITS.match(typed)
    if match is None or not any(char.isdigit() for char in typed):
        raise AmountError(UNREADABLE)
    whole = re.sub(r"[, ]", "", match["whole"]) or "0"
    part = match["part"] or ""
    if len(whole.lstrip("0")) > MAX_DIGITS or len(part) > MAX_DECIMALS:
        raise AmountError(TOO_LONG)
    value = Fraction(f"{whole}.{part}" if part else whole) * scale
    if value >= 10**MAX_DIGITS:
        raise AmountError(TOO_LONG)
    return value
