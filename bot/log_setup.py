"""How `cxbot serve` logs: one line a record on stderr, each carrying the id of the work it belongs to.

- **Ids.** `LOG_ID` (a context variable) names the work under way: an HTTP request (`r-` and 16 hex
  digits, set by `bot.front_door`, also sent back as `X-Request-Id`), a Telegram update (`tg-` and its
  update id), or a piece of background work (`scheduler`, `telegram-polling`, `serve`). asyncio copies
  the context into every task it starts, so a line logged anywhere below a request, in any module,
  carries that request's id without being passed it. `LogIds` puts it on each record.
- **Formats.** JSON lines (`JsonLines`: time, level, logger, id, message, and the traceback if any)
  when stderr is not a terminal, as a log collector reads them; `time LEVEL logger [id]: message` on a
  terminal. `CXBOT_LOG_FORMAT` forces either; `CXBOT_LOG_LEVEL` sets the level (INFO by default).
- **Privacy.** Nothing here adds content: a record says what its code logged, and at INFO and above
  that names no person (`bot.log_privacy`). The id is random or Telegram's update number, which
  names no one either.
- **Floods.** The repeat collapser (`bot.log_limits`) stands in front of the stream handler; ids are
  put on records as they are logged, so a collapsed repeat's summary line carries the first one's.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import json
import logging
import os
import sys
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from bot.log_limits import RepeatCollapser, log_to_stderr

LogFormat = Literal["auto", "json", "text"]
LOG_ID: ContextVar[str | None] = ContextVar("cxbot_log_id", default=None)
REQUEST_ID_HEADER = "X-Request-Id"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(log_id)s]: %(message)s"
QUIET_LOGGERS = ("alembic", "transitions")
"""A line per migration step or state change is noise in a server's log."""
T = TypeVar("T")


_PROCESS_PREFIX = "r-" + os.urandom(5).hex() + "-"
_request_numbers = itertools.count(1)


def new_request_id() -> str:
    """A fresh id for one HTTP request: a random prefix per process, so ids from several processes
    never clash, and a counter (a system call for randomness per request cost 5% of the webhook's
    event loop under load)."""
    return f"{_PROCESS_PREFIX}{next(_request_numbers):x}"


@contextmanager
def log_id(value: str | None) -> Iterator[None]:
    """Lines logged inside carry `value` as their id (the one before is restored after)."""
    token = LOG_ID.set(value)
    try:
        yield
    finally:
        LOG_ID.reset(token)


def start_task(coroutine: Coroutine[Any, Any, T], name: str, log_name: str | None = None) -> asyncio.Task[T]:
    """A task whose lines carry `log_name` (by default its `name`) as their id; the caller's own id
    is left as it was."""
    context = contextvars.copy_context()
    context.run(LOG_ID.set, log_name or name)
    return asyncio.create_task(coroutine, name=name, context=context)


class LogIds(logging.Filter):
    """Puts the current `LOG_ID` on each record as `log_id`, when it is logged (a handler filter)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "log_id"):
            record.log_id = LOG_ID.get()
        return True


class JsonLines(logging.Formatter):
    """One JSON object a line; a traceback goes in `exception`, escaped, so it stays on the line."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "id": getattr(record, "log_id", None),
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextLines(logging.Formatter):
    """The human format; a record without an id (a collapsed repeat's summary) shows `-`."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "log_id", None) is None:
            record.log_id = "-"
        return super().format(record)


def formatter_for(log_format: LogFormat, terminal: bool) -> logging.Formatter:
    """JSON lines unless text is asked for, or `auto` and stderr is a terminal."""
    if log_format == "text" or (log_format == "auto" and terminal):
        return TextLines()
    return JsonLines()


def configure_logging(level: str, log_format: LogFormat) -> RepeatCollapser | None:
    """The root logger writes to stderr in the chosen format, behind the repeat collapser; None
    (and nothing changed) when logging is configured already (a test runner, an embedding program)."""
    collapser = log_to_stderr(logging.getLevelName(level.upper()), formatter_for(log_format, _terminal()))
    if collapser is not None:
        collapser.addFilter(LogIds())
        for chatty in QUIET_LOGGERS:
            logging.getLogger(chatty).setLevel(logging.WARNING)
    return collapser


def _terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed
        return False
