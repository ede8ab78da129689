"""Logging a failure without saying whom it concerned.

At INFO and above, cxbot's log lines name what went wrong and never a person: no message text,
names, chat or sender ids. An exception's message may quote what a person sent or the parameters of
a failed statement, so at ERROR a failure is told by its type and where it was raised; the whole
traceback goes to DEBUG, for an operator who turns it on to chase one problem.
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path


def described(error: BaseException) -> str:
    """An exception as its type and where it was raised, without its message."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return type(error).__name__
    where = frames[-1]
    return f"{type(error).__name__} at {Path(where.filename).name}:{where.lineno}"


def log_failure(log: logging.Logger, what: str, error: BaseException) -> None:
    """`what` failed: its type and place at ERROR, the traceback (with the message) at DEBUG."""
    template = what.replace("%", "%%")  # `what` is the template: one kind of failure per kind of line
    log.error(f"{template}: %s", described(error))
    log.debug(template, exc_info=error)
