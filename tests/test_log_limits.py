"""Repeated log records are written once, then counted, in one line per window."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.log_limits import RepeatCollapser


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Kept(logging.Handler):
    """Keeps what it is given, formatted, tracebacks included."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines += self.format(record).splitlines()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def kept() -> Kept:
    return Kept()


@pytest.fixture
def log(clock: Clock, kept: Kept) -> Iterator[logging.Logger]:
    logger = logging.getLogger("test.log_limits")
    collapser = RepeatCollapser(kept, window=60.0, max_kinds=3, clock=clock)
    logger.addHandler(collapser)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger
    logger.removeHandler(collapser)
    logger.setLevel(logging.NOTSET)
    logger.propagate = True


def fail(log: logging.Logger, address: str) -> None:
    try:
        raise ConnectionResetError("reset")
    except ConnectionResetError:
        log.exception("error handling request from %s", address)


def test_a_flood_of_one_error_is_one_traceback_and_one_count(
    log: logging.Logger, kept: Kept, clock: Clock
) -> None:
    for n in range(5000):
        fail(log, f"10.0.{n // 250}.{n % 250}")
    first = len(kept.lines)
    assert kept.lines[0] == "ERROR test.log_limits: error handling request from 10.0.0.0"
    assert "Traceback (most recent call last):" in kept.lines
    clock.now = 61.0
    log.info("something else")
    assert kept.lines[first:] == [
        "ERROR test.log_limits: error handling request from 10.0.0.0 (repeated 4999 times)",
        "INFO test.log_limits: something else",
    ]


def test_preformatted_messages_differing_in_numbers_are_repeats(
    log: logging.Logger, kept: Kept, clock: Clock
) -> None:
    for fd in range(100):
        log.error(f"socket.accept() out of system resource: fd={fd} at 0x7f{fd:04x}")
    assert len(kept.lines) == 1
    clock.now = 60.0
    collapser = log.handlers[0]
    assert isinstance(collapser, RepeatCollapser)
    collapser.summarise_due()
    assert kept.lines[1].endswith("fd=0 at 0x7f0000 (repeated 99 times)")


def test_a_kind_that_stopped_is_written_whole_again_after_its_window(
    log: logging.Logger, kept: Kept, clock: Clock
) -> None:
    log.warning("slow")
    clock.now = 61.0
    log.warning("slow")
    assert kept.lines == ["WARNING test.log_limits: slow", "WARNING test.log_limits: slow"]


def test_too_many_kinds_are_counted_together(log: logging.Logger, kept: Kept, clock: Clock) -> None:
    for word in ("alpha", "beta", "gamma", "delta", "epsilon", "zeta"):
        log.warning("about %s", word)  # one kind: the template
        log.warning(word)  # a kind each
    assert kept.lines == [f"WARNING test.log_limits: {text}" for text in ("about alpha", "alpha", "beta")]
    clock.now = 61.0
    log.handlers[0].close()
    assert kept.lines[3:] == [
        "WARNING test.log_limits: about alpha (repeated 5 times)",
        "WARNING test.log_limits: 4 more log records of too many other kinds were not written,"
        " such as: gamma",
    ]
