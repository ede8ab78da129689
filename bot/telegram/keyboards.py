"""Which message's inline keyboard still applies, per chat: at most one at a time.

Kept in memory and bounded (the least recently used chats are forgotten). A chat this process has
not written to since it started is unknown: its presses go to the engine, which checks answer
buttons against the current question itself.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from dialogs.types import QuestionRef

DEFAULT_CHATS = 10_000


@dataclass(frozen=True, slots=True)
class LiveKeyboard:
    """The bot message with the keyboard that applies now."""

    message_id: int
    html: str | None
    """The message's HTML, to edit it in place (None for a photo)."""
    question: QuestionRef | None = None
    confirmation: bool = False
    """A yes/no keyboard: it works once."""


class LiveKeyboards:
    """Per chat: the live keyboard, or None once there is none (known chats only)."""

    def __init__(self, size: int = DEFAULT_CHATS) -> None:
        self.size = size
        self._chats: OrderedDict[int, LiveKeyboard | None] = OrderedDict()

    def get(self, chat_id: int) -> LiveKeyboard | None:
        """The live keyboard of a chat, if any."""
        return self._chats.get(chat_id)

    def set(self, chat_id: int, live: LiveKeyboard | None) -> None:
        """Record the chat's live keyboard (None: no keyboard applies any more)."""
        self._chats[chat_id] = live
        self._chats.move_to_end(chat_id)
        while len(self._chats) > self.size:
            self._chats.popitem(last=False)

    def is_stale(self, chat_id: int, message_id: int) -> bool:
        """True when this chat is known and the message is not the one with the live keyboard."""
        if chat_id not in self._chats:
            return False
        live = self._chats[chat_id]
        return live is None or live.message_id != message_id

    def is_live(self, chat_id: int, message_id: int) -> bool:
        """True when the message is known to carry the chat's live keyboard."""
        live = self._chats.get(chat_id)
        return live is not None and live.message_id == message_id

    def forget(self, chat_id: int) -> None:
        """Drop what is known about a chat (for example, the person blocked the bot)."""
        self._chats.pop(chat_id, None)
