"""Repeated log records collapsed into one line with a count, so a flood cannot fill the disk.

A client sending garbage a thousand times a second, or a database that went away, would otherwise
log the same traceback each time (measured: 95,000 tracebacks, 46 MB, in 30 s). `RepeatCollapser`
stands in front of the real handler: the first record of a kind passes whole, traceback and all;
further records of that kind within `window` seconds are only counted, and when the window ends one
line says how many there were: `<first message> (repeated N times)`.

A record's kind is its logger, level, message template and exception type. A message logged without
a template (formatted beforehand) has its numbers masked, so addresses, ports and descriptor numbers
do not each make a kind of their own. At most `max_kinds` kinds are remembered at once; records of
yet other kinds are counted together, so many different errors cannot flood the log either.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

WINDOW = 60.0
MAX_KINDS = 1000
_NUMBERS = re.compile(r"0x[0-9a-fA-F]+|\d+")

Kind = tuple[str, int, str, str]


def kind_of(record: logging.LogRecord) -> Kind:
    """What makes two records repeats of each other."""
    text = str(record.msg) if record.args else _NUMBERS.sub("#", str(record.msg)[:500])
    error = type(record.exc_info[1]).__name__ if record.exc_info and record.exc_info[1] else ""
    return record.name, record.levelno, text, error


@dataclass(slots=True)
class _Seen:
    first: logging.LogRecord
    due: float
    repeats: int = 0


class RepeatCollapser(logging.Handler):
    """A handler that passes the first record of each kind to `target` and counts the repeats."""

    def __init__(
        self,
        target: logging.Handler,
        window: float = WINDOW,
        max_kinds: int = MAX_KINDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.target = target
        self.window = window
        self.max_kinds = max_kinds
        self.clock = clock
        self._seen: dict[Kind, _Seen] = {}  # in the order first seen, so also in order of `due`
        self._others: _Seen | None = None

    def emit(self, record: logging.LogRecord) -> None:
        """Pass the record on, or count it if its kind was passed on within the window."""
        now = self.clock()
        self._summarise(now)
        kind = kind_of(record)
        if (seen := self._seen.get(kind)) is not None:
            seen.repeats += 1
        elif len(self._seen) < self.max_kinds:
            self._seen[kind] = _Seen(record, now + self.window)
            self.target.handle(record)
        elif self._others is not None:
            self._others.repeats += 1
        else:
            self._others = _Seen(record, now + self.window, repeats=1)

    def summarise_due(self) -> None:
        """Log the counts of windows that have ended (call it now and then, so a flood that
        stopped is still reported without waiting for the next record)."""
        self.acquire()
        try:
            self._summarise(self.clock())
        finally:
            self.release()

    def close(self) -> None:
        """Log every count still open, then stop."""
        self.acquire()
        try:
            self._summarise(math.inf)
        finally:
            self.release()
        super().close()

    def _summarise(self, now: float) -> None:
        while self._seen:
            kind, seen = next(iter(self._seen.items()))
            if seen.due > now:
                break
            del self._seen[kind]
            if seen.repeats:
                line = f"{_first_line(seen.first)} (repeated {seen.repeats} times)"
                self.target.handle(_summary(seen.first, line))
        if self._others is not None and self._others.due <= now:
            others, self._others = self._others, None
            line = f"{others.repeats} more log records of too many other kinds were not written"
            self.target.handle(_summary(others.first, f"{line}, such as: {_first_line(others.first)}"))


def _first_line(record: logging.LogRecord) -> str:
    return next(iter(record.getMessage().splitlines()), "")


def _summary(first: logging.LogRecord, line: str) -> logging.LogRecord:
    """A one-line record (no traceback) from where `first` was logged, with what the collapser's
    filters put on `first` (such as the id of its request: `bot.log_setup`)."""
    summary = logging.LogRecord(first.name, first.levelno, first.pathname, first.lineno, line, None, None)
    for name, value in vars(first).items():
        if name not in vars(summary):
            setattr(summary, name, value)
    return summary


def log_to_stderr(
    level: int, format: str | logging.Formatter, window: float = WINDOW
) -> RepeatCollapser | None:
    """Like `logging.basicConfig`, with repeats collapsed: the root logger writes to stderr through
    a `RepeatCollapser`, in `format` (a format string or a formatter). Does nothing (None) when
    logging is configured already (by a test runner, or a program that runs the server in its own
    process)."""
    root = logging.getLogger()
    if root.handlers:
        return None
    target = logging.StreamHandler()
    target.setFormatter(format if isinstance(format, logging.Formatter) else logging.Formatter(format))
    collapser = RepeatCollapser(target, window)
    root.addHandler(collapser)
    root.setLevel(level)
    return collapser


async def summarise_periodically(collapser: RepeatCollapser, every: float) -> None:
    """Report ended windows every `every` seconds, until cancelled."""
    while True:
        await asyncio.sleep(every)
        collapser.summarise_due()
