"""Turning what a person sent into a command: `/name args` or plain text."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dialogs import codes
from storage.records import Needs


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    """Command name without the slash, lower case; "text" for anything that is not a command."""
    args: tuple[str, ...]
    text: str


TEXT = "text"
CODE_FIRST = frozenset({"start", "join", "leave"})
"""Commands whose first argument may be a join or invitation code."""
_NUMBER = re.compile(r"[0-9]{1,6}")
NEEDS = {
    "results": Needs(latest_result=True),
    "mydata": Needs(history=True),
    "start": Needs(latest_result=True),
}
"""A bare /start shows the latest result to someone with nothing open (one query, once a visit)."""
CAMPAIGN_NEEDS = {
    "new": Needs(service_facts=True),
    "add-facilitator": Needs(service_facts=True),
    "remind": Needs(remind=True),
}


def parse(text: str) -> Command:
    """`/start@SomeBot cx-maturity` reads as start with one argument (chat apps add @bot names)."""
    stripped = text.strip()
    if not stripped.startswith("/") or len(stripped) == 1:
        return Command(TEXT, (), stripped)
    head, _, rest = stripped[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    args = tuple(rest.split())
    if name in CODE_FIRST:
        args = _code_joined(args)
    elif name == "campaign" and args:
        args = (args[0], *_code_joined(args[1:]))
    return Command(name, args, stripped)


def _code_joined(args: tuple[str, ...]) -> tuple[str, ...]:
    """A code typed in pieces ("k7wp 3qxm") as one argument, so `/join k7wp 3qxm 2` still works."""
    for pieces in (2, 3):
        if len(args) >= pieces and not _is_code(args[0]) and _is_code("".join(args[:pieces])):
            return ("-".join(args[:pieces]), *args[pieces:])
    return args


def _is_code(text: str) -> bool:
    return bool(codes.canonical(text) or codes.canonical(text, codes.INVITATION_LENGTH))


def needs(command: Command) -> Needs:
    """What beyond the open runs the command needs loaded."""
    if command.name in ("start", "join", "leave") and command.args:
        return code_needs(command.args[0])
    if command.name == "campaign" and command.args:
        subcommand = command.args[0].lower()
        named = code_needs(command.args[1]) if len(command.args) > 1 else Needs()
        return named.merged(CAMPAIGN_NEEDS.get(subcommand, Needs()))
    return NEEDS.get(command.name, Needs())


def code_needs(text: str) -> Needs:
    """A join code or an invitation code, if the text is shaped like one."""
    return Needs(
        campaign_code=codes.canonical(text, codes.JOIN_LENGTH),
        invitation_code=codes.canonical(text, codes.INVITATION_LENGTH),
    )


def answer_payload(run: int, index: int, value: int) -> str:
    """A button's payload: names the run and question so a stale press can be recognised."""
    return f"/answer {run} {index + 1} {value}"


def whole_number(text: str) -> int | None:
    """A plain decimal number of up to six ASCII digits ("²" and "٣" are digits to `isdigit`, not here)."""
    return int(text) if _NUMBER.fullmatch(text) else None


def _numbers(command: Command, count: int) -> list[int] | None:
    numbers = [whole_number(arg) for arg in command.args]
    if len(numbers) != count or None in numbers:
        return None
    return [n for n in numbers if n is not None]


def position_payload(name: str, run: int, index: int) -> str:
    """A navigation button's payload (`/back 3 4`, `/change 3 4`): it names its run and question."""
    return f"/{name} {run} {index + 1}"


def parse_position(command: Command) -> tuple[int, int] | None:
    """(run number, question index from 0) from `/back R Q`, `/skip R Q` or `/change R Q`; else None."""
    numbers = _numbers(command, 2)
    return None if numbers is None else (numbers[0], numbers[1] - 1)


def parse_answer_payload(command: Command) -> tuple[int, int, int] | None:
    """(run number, question index from 0, value) from `/answer R Q V`, or None if malformed."""
    numbers = _numbers(command, 3)
    return None if numbers is None else (numbers[0], numbers[1] - 1, numbers[2])
