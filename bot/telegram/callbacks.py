"""Button payloads as compact Telegram `callback_data`, and back, checked strictly on arrival.

Telegram carries at most 64 bytes per button, and a modified client can send any bytes it likes,
so the mapping is a closed grammar with one form per payload the engine puts on buttons:

    /answer 3 4 2       a:3:4:2        (run, question number, level)
    /back 3 4           b:3:4          (run, question number)
    /skip 3 4           k:3:4
    /change 3 4         c:3:4          (run, question number)
    /yes restart        y:restart      (or y:delete)
    /start cx-maturity  s:cx-maturity  (or a campaign's join code)
    /join K7WP-3QXM 2   j:K7WP-3QXM:2  (a campaign's group, by number)
    /back, /skip, ...   n:back, n:skip, ...

Anything else decodes to None and reaches nobody. A well-formed press for another run or question
still goes to the engine, which checks it against the current question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dialogs.commands import parse, parse_answer_payload

MAX_BYTES = 64
"""Telegram's limit for `callback_data`."""

_NUMBER = r"0|[1-9][0-9]{0,5}"
"""Up to six digits without leading zeros: the engine's `/answer` arguments are shorter than seven."""
_FRAMEWORK_ID = r"[A-Za-z0-9_-]{1,62}"
_JOIN_CODE = r"[A-Z2-9]{4}-[A-Z2-9]{4}"
_SIMPLE = frozenset(
    {
        "back",
        "skip",
        "submit",
        "start",
        "no",
        "review",
        "results",
        "help",
        "restart",
        "mydata",
        "deletemydata",
    }
)


class UnknownPayload(ValueError):
    """A button payload with no callback form (a new kind of button needs a form here)."""


@dataclass(frozen=True, slots=True)
class _Form:
    command: str
    prefix: str
    args: tuple[re.Pattern[str], ...]

    def accepts(self, args: list[str]) -> bool:
        return len(args) == len(self.args) and all(
            pattern.fullmatch(arg) for pattern, arg in zip(self.args, args, strict=True)
        )


def _form(command: str, prefix: str, *args: str) -> _Form:
    return _Form(command, prefix, tuple(re.compile(arg) for arg in args))


_FORMS = (
    _form("/answer", "a", _NUMBER, _NUMBER, _NUMBER),
    _form("/back", "b", _NUMBER, _NUMBER),
    _form("/skip", "k", _NUMBER, _NUMBER),
    _form("/change", "c", _NUMBER, _NUMBER),
    _form("/yes", "y", "restart|delete"),
    _form("/start", "s", _FRAMEWORK_ID),
    _form("/join", "j", _JOIN_CODE, _NUMBER),
)
_BY_COMMAND = {form.command: form for form in _FORMS}
_BY_PREFIX = {form.prefix: form for form in _FORMS}


def encode(payload: str) -> str:
    """The callback data for a button payload; `UnknownPayload` if the grammar has no form for it."""
    command, *args = payload.split(" ")
    name = command.removeprefix("/")
    if not args and command.startswith("/") and name in _SIMPLE:
        return f"n:{name}"
    form = _BY_COMMAND.get(command)
    if form is None or not form.accepts(args):
        raise UnknownPayload(payload)
    data = ":".join((form.prefix, *args))
    if len(data.encode()) > MAX_BYTES:  # cannot happen with the patterns above; kept as the contract
        raise UnknownPayload(payload)
    return data


def decode(data: str | None) -> str | None:
    """The payload a callback's data stands for, or None for anything this module did not make."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    prefix, *args = data.split(":")
    if prefix == "n":
        return f"/{args[0]}" if len(args) == 1 and args[0] in _SIMPLE else None
    form = _BY_PREFIX.get(prefix)
    if form is None or not form.accepts(args):
        return None
    return " ".join((form.command, *args))


def answered_question(payload: str) -> tuple[int, int] | None:
    """(run, question index from 0) that an `/answer` payload answers; None for other payloads."""
    parsed = parse_answer_payload(parse(payload)) if payload.startswith("/answer ") else None
    return None if parsed is None else parsed[:2]


def is_confirmation(payload: str) -> bool:
    """A yes/no answer to a confirmation: such keyboards work once."""
    return payload == "/no" or payload.startswith("/yes ")
