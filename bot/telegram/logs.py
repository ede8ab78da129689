"""What the Telegram channel logs about a failure, without saying whom it concerned.

At INFO and above a line names what went wrong (the Bot API method, Telegram's error description,
an exception's type and where it was raised) and never a person: no message text, names, chat or
sender ids. Those go to DEBUG, for an operator who turns it on to chase one problem. Lines use
fixed templates, so the server's log handler (`bot.log_limits`) can collapse a flood of the same
problem into one line with a count.
"""

from __future__ import annotations

from aiogram.exceptions import TelegramAPIError

from bot.log_privacy import described

__all__ = ["described", "refusal"]


def refusal(error: TelegramAPIError) -> str:
    """What Telegram said no to: the method and Telegram's own description (which names no person)."""
    return f"Telegram {error.method.__api_method__}: {error.message}"
