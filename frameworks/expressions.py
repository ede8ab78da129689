"""The small formula language of calculator files: numbers, names, + - * /, parentheses and a fixed
set of named functions, evaluated exactly (rationals), never by Python's `eval`.

A formula is parsed once, when the file is loaded, into a tree of the node types below; anything
else (attributes, indexing, powers, strings, unknown functions, very long or deeply nested text) is
refused there with a message that says what is allowed. Conditions (`only_if`) add one comparison.

    formula   := sum
    condition := sum ("<" | "<=" | ">" | ">=" | "==" | "!=") sum
    sum       := product (("+" | "-") product)*
    product   := unary (("*" | "/") unary)*
    unary     := ("-" | "+") unary | atom
    atom      := NUMBER | NAME | NAME "(" sum ("," sum)* ")" | "(" sum ")"
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from math import floor

MAX_LENGTH = 400
"""Characters in one formula: a longer one is a mistake, not arithmetic a person can check."""
MAX_DEPTH = 24
"""Parentheses, minus signs and calls nested inside each other."""
MAX_PLACES = 6
"""The most decimal places `round` may keep."""


class ExpressionError(ValueError):
    """A formula that is not in the language (the message says what to change)."""


class Undefined(ArithmeticError):  # noqa: N818 - an outcome, like ZeroDivisionError
    """A formula has no value for these inputs (it divides by zero)."""


@dataclass(frozen=True, slots=True)
class Number:
    value: Fraction


@dataclass(frozen=True, slots=True)
class Name:
    name: str


@dataclass(frozen=True, slots=True)
class Negate:
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Call:
    function: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Compare:
    op: str
    left: Node
    right: Node


Node = Number | Name | Negate | Binary | Call


# --- rounding ------------------------------------------------------------------------------

HALF_UP = "half-up"
HALF_EVEN = "half-even"


def round_to(value: Fraction, places: int, rule: str = HALF_UP) -> Fraction:
    """`value` rounded to `places` decimals: half-up takes ties away from zero (2.5 to 3, -2.5 to
    -3), as people round by hand; half-even takes them to the even neighbour (2.5 to 2)."""
    scale = Fraction(10) ** places
    scaled = value * scale
    if rule == HALF_EVEN:
        return Fraction(round(scaled)) / scale
    whole = floor(abs(scaled) + Fraction(1, 2))
    return Fraction(whole if scaled >= 0 else -whole) / scale


# --- functions -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Function:
    """A named function: how many arguments it takes, and what it does with their values."""

    least: int
    most: int | None
    apply: Callable[[tuple[Fraction, ...], str], Fraction]
    usage: str


def _round(args: tuple[Fraction, ...], rule: str) -> Fraction:
    places = int(args[1]) if len(args) > 1 else 0
    return round_to(args[0], places, rule)


FUNCTIONS: dict[str, Function] = {
    "min": Function(1, None, lambda args, _: min(args), "min(a, b, ...): the smallest"),
    "max": Function(1, None, lambda args, _: max(args), "max(a, b, ...): the largest"),
    "sum": Function(1, None, lambda args, _: sum(args, Fraction(0)), "sum(a, b, ...): the total"),
    "round": Function(
        1, 2, _round, f"round(x) or round(x, places): rounded by the file's rule, 0-{MAX_PLACES} places"
    ),
}


def allowed_functions() -> str:
    return "; ".join(f.usage for f in FUNCTIONS.values())


# --- parsing -------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<number>[0-9]+(?:\.[0-9]+)?)|(?P<name>[a-z_][a-z0-9_]*)"
    r"|(?P<op><=|>=|==|!=|[-+*/(),<>]))"
)
_COMPARISONS: dict[str, Callable[[Fraction, Fraction], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_HINTS = {
    "**": "powers (**) are not allowed",
    "%": "% is not an operator here: write a share as 0.15, or divide by 100",
    ".": "names cannot have parts (a.b), and numbers are written like 0.15 (no leading or trailing point)",
    "[": "indexing ([...]) is not allowed",
    "=": "write == to compare, in only_if",
}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    at: int


def _tokens(text: str) -> list[Token]:
    found: list[Token] = []
    position = 0
    end = len(text.rstrip())
    while position < end:
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            rest = text[position:]
            raise ExpressionError(_unexpected(text, position + len(rest) - len(rest.lstrip())))
        kind = match.lastgroup or "op"
        found.append(Token(kind, match.group(kind), match.start(kind)))
        position = match.end()
    return found


def _unexpected(text: str, at: int) -> str:
    rest = text[at:]
    hint = next((why for start, why in _HINTS.items() if rest.startswith(start)), None)
    shown = rest[:12]
    message = f"cannot read {shown!r} at character {at + 1}"
    if hint is None:
        hint = (
            "only numbers, names of inputs and figures (lower case, a-z, 0-9 and _), "
            "+ - * /, parentheses and the functions " + ", ".join(FUNCTIONS) + " are allowed"
        )
    return f"{message}: {hint}"


class _Parser:
    """Recursive descent over the tokens of one formula."""

    def __init__(self, text: str) -> None:
        if len(text) > MAX_LENGTH:
            raise ExpressionError(f"is {len(text)} characters long; a formula may have at most {MAX_LENGTH}")
        if not text.strip():
            raise ExpressionError("is empty: write a formula such as total * share")
        self.text = text
        self.tokens = _tokens(text)
        self.index = 0
        self.depth = 0

    def peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, *texts: str) -> Token | None:
        token = self.peek()
        if token is not None and token.kind == "op" and token.text in texts:
            self.index += 1
            return token
        return None

    def expect(self, text: str) -> None:
        if self.take(text) is None:
            raise ExpressionError(f"expected {text!r} {self.where()}")

    def where(self) -> str:
        token = self.peek()
        return "at the end" if token is None else f"at character {token.at + 1} ({token.text!r})"

    def finish(self) -> None:
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek_text()!r} {self.where()}")

    def peek_text(self) -> str:
        token = self.peek()
        return token.text if token else ""

    def nested(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"nests more than {MAX_DEPTH} levels deep; split it into figures")

    def sum(self) -> Node:
        node = self.product()
        while (token := self.take("+", "-")) is not None:
            node = Binary(token.text, node, self.product())
        return node

    def product(self) -> Node:
        node = self.unary()
        while (token := self.take("*", "/")) is not None:
            if self.take("*", "/") is not None:
                doubled = "powers (**) are not allowed" if token.text == "*" else "// is not allowed: use /"
                raise ExpressionError(doubled)
            node = Binary(token.text, node, self.unary())
        return node

    def unary(self) -> Node:
        if (token := self.take("-", "+")) is not None:
            self.nested()
            operand = self.unary()
            self.depth -= 1
            return Negate(operand) if token.text == "-" else operand
        return self.atom()

    def atom(self) -> Node:
        token = self.peek()
        if token is None:
            raise ExpressionError("ends too early: a number, a name or ( is missing at the end")
        if token.kind == "number":
            self.index += 1
            return Number(Fraction(token.text))
        if token.kind == "name":
            self.index += 1
            return self.call(token) if self.take("(") else Name(token.text)
        if self.take("("):
            self.nested()
            node = self.sum()
            self.expect(")")
            self.depth -= 1
            return node
        raise ExpressionError(f"expected a number, a name or ( {self.where()}")

    def call(self, name: Token) -> Call:
        function = FUNCTIONS.get(name.text)
        if function is None:
            raise ExpressionError(
                f"{name.text!r} is not a function here; the functions are: {allowed_functions()}"
            )
        self.nested()
        args = [self.sum()]
        while self.take(","):
            args.append(self.sum())
        self.expect(")")
        self.depth -= 1
        if len(args) < function.least or (function.most is not None and len(args) > function.most):
            raise ExpressionError(f"{name.text} takes {function.usage}; it was given {len(args)} argument(s)")
        if name.text == "round" and len(args) == 2:
            _check_places(args[1])
        return Call(name.text, tuple(args))


def _check_places(node: Node) -> None:
    if not (isinstance(node, Number) and node.value.denominator == 1 and 0 <= node.value <= MAX_PLACES):
        raise ExpressionError(f"round's places must be a whole number from 0 to {MAX_PLACES}")


def parse_formula(text: str) -> Node:
    """A formula's tree; `ExpressionError` says what is wrong with one outside the language."""
    parser = _Parser(text)
    node = parser.sum()
    parser.finish()
    return node


def parse_condition(text: str) -> Compare:
    """A comparison of two formulas, such as `saving > running`."""
    parser = _Parser(text)
    left = parser.sum()
    token = parser.take(*_COMPARISONS)
    if token is None:
        raise ExpressionError(f"a condition compares two formulas with < <= > >= == or != ({parser.where()})")
    right = parser.sum()
    parser.finish()
    return Compare(token.text, left, right)


def names_in(node: Node | Compare) -> Iterator[str]:
    """Every name a formula or condition reads, in order of appearance."""
    if isinstance(node, Name):
        yield node.name
    elif isinstance(node, Negate):
        yield from names_in(node.operand)
    elif isinstance(node, Binary | Compare):
        yield from names_in(node.left)
        yield from names_in(node.right)
    elif isinstance(node, Call):
        for arg in node.args:
            yield from names_in(arg)


# --- evaluating ----------------------------------------------------------------------------


def evaluate(node: Node, values: Mapping[str, Fraction], rule: str = HALF_UP) -> Fraction:
    """The exact value of a formula; `Undefined` when it divides by zero or reads a value that is
    itself undefined (a name missing from `values`)."""
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Name):
        if node.name not in values:
            raise Undefined(node.name)
        return values[node.name]
    if isinstance(node, Negate):
        return -evaluate(node.operand, values, rule)
    if isinstance(node, Binary):
        return _binary(node, values, rule)
    function = FUNCTIONS[node.function]
    return function.apply(tuple(evaluate(arg, values, rule) for arg in node.args), rule)


def _binary(node: Binary, values: Mapping[str, Fraction], rule: str) -> Fraction:
    left = evaluate(node.left, values, rule)
    right = evaluate(node.right, values, rule)
    if node.op == "+":
        return left + right
    if node.op == "-":
        return left - right
    if node.op == "*":
        return left * right
    if right == 0:
        raise Undefined("division by zero")
    return left / right


def holds(condition: Compare, values: Mapping[str, Fraction], rule: str = HALF_UP) -> bool:
    """Whether a condition is true for these values."""
    left = evaluate(condition.left, values, rule)
    return _COMPARISONS[condition.op](left, evaluate(condition.right, values, rule))
