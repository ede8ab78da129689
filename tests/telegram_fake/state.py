"""What the fake Telegram "knows": chats and their messages, files, callback queries, commands,
the webhook and the queue of pending updates. Pure, synchronous bookkeeping used by the server."""

from __future__ import annotations

import copy
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from .errors import api_error, bad_request
from .media import image_size, photo_size_steps
from .models import CallbackQueryState, FakeChat, StoredFile, StoredMessage, WebhookConfig

# Update kinds Telegram leaves out unless the bot asks for them in allowed_updates.
OPT_IN_UPDATE_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_BLOCKED_MESSAGES = {
    "private": "bot was blocked by the user",
    "group": "bot was kicked from the group chat",
    "supergroup": "bot was kicked from the supergroup chat",
    "channel": "bot is not a member of the channel chat",
}


@dataclass
class ChatLog:
    """One chat: its messages (by id, in sending order), id counter, blocked flag and chat actions."""

    chat: FakeChat
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_message_id: int = 1
    blocked: bool = False
    actions: list[str] = field(default_factory=list)

    def visible(self) -> list[StoredMessage]:
        """Messages not deleted, in order."""
        return [message for message in self.messages.values() if not message.deleted]


def update_type(update: dict[str, Any]) -> str | None:
    """The kind of an Update ("message", "callback_query", ...), i.e. its one field besides update_id."""
    return next((key for key in update if key != "update_id"), None)


class FakeState:
    """All state of the fake Bot API, independent of HTTP."""

    def __init__(
        self, bot_id: int, bot_username: str, bot_first_name: str, update_types: tuple[str, ...]
    ) -> None:
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.update_types = update_types
        self.chats: dict[int, ChatLog] = {}
        self.files: dict[str, StoredFile] = {}
        self.callback_queries: dict[str, CallbackQueryState] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.webhook: WebhookConfig | None = None
        self.allowed_updates: list[str] | None = None
        self.pending: list[dict[str, Any]] = []
        self.confirmed: list[int] = []
        """Ids of the updates a getUpdates offset confirmed (Telegram then forgets them), in order."""
        self._update_ids = itertools.count(100_000_001)
        self._file_ids = itertools.count(1)
        self._query_ids = itertools.count(1)

    # -- identity -----------------------------------------------------------------------------------
    def bot_user(self, *, full: bool = False) -> dict[str, Any]:
        """The bot's ``User`` object (``full`` adds the getMe-only capability flags)."""
        user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }
        if full:
            user.update(
                can_join_groups=True,
                can_read_all_group_messages=False,
                supports_inline_queries=False,
                can_connect_to_business=False,
                has_main_web_app=False,
            )
        return user

    # -- chats and messages ---------------------------------------------------------------------------
    def add_chat(self, chat: FakeChat) -> FakeChat:
        """Register a chat (idempotent; an existing chat keeps its messages)."""
        if chat.id in self.chats:
            self.chats[chat.id].chat = chat
        else:
            self.chats[chat.id] = ChatLog(chat)
        return chat

    def resolve_chat(self, chat_id: int | str) -> ChatLog:
        """The chat for a Bot API ``chat_id`` (integer id or "@username"); 400 "chat not found" otherwise."""
        if isinstance(chat_id, int) and chat_id in self.chats:
            return self.chats[chat_id]
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            for log in self.chats.values():
                if log.chat.username and log.chat.username.lower() == chat_id[1:].lower():
                    return log
        raise bad_request("chat not found", f"chat_id={chat_id!r} is not a chat known to the fake")

    def writable_chat(self, chat_id: int | str) -> ChatLog:
        """Like :meth:`resolve_chat`, but 403 when the user blocked the bot / the bot was kicked."""
        log = self.resolve_chat(chat_id)
        if log.blocked:
            raise api_error(403, _BLOCKED_MESSAGES.get(log.chat.type, "bot was blocked by the user"))
        return log

    def store_message(
        self,
        log: ChatLog,
        content: dict[str, Any],
        *,
        sender: dict[str, Any],
        from_bot: bool,
        attachment: bytes | None = None,
    ) -> StoredMessage:
        """Give ``content`` the next message_id of the chat, a date, sender and chat, and store it."""
        message_id = log.next_message_id
        log.next_message_id += 1
        payload = {
            "message_id": message_id,
            "from": sender,
            "chat": log.chat.to_dict(),
            "date": int(time.time()),
        }
        payload.update(content)
        stored = StoredMessage(log.chat.id, message_id, payload, from_bot=from_bot, attachment=attachment)
        log.messages[message_id] = stored
        return stored

    def find_message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        """A message that exists (not deleted) in the chat, or None."""
        log = self.chats.get(chat_id)
        message = log.messages.get(message_id) if log else None
        return message if message is not None and not message.deleted else None

    @staticmethod
    def edit_message(message: StoredMessage, changes: dict[str, Any], removed: tuple[str, ...] = ()) -> None:
        """Apply an edit, keeping the previous version in ``message.history``."""
        message.history.append(copy.deepcopy(message.payload))
        for key in removed:
            message.payload.pop(key, None)
        message.payload.update(changes)
        message.payload["edit_date"] = int(time.time())

    # -- files --------------------------------------------------------------------------------------
    def register_file(
        self,
        data: bytes,
        *,
        folder: str,
        extension: str,
        mime_type: str | None = None,
        file_name: str | None = None,
    ) -> StoredFile:
        """Store bytes under a new Telegram-looking file_id (downloadable via getFile + /file/...)."""
        number = next(self._file_ids)
        stored = StoredFile(
            file_id=f"AgACAgIAAxkBAAI{number:06d}{folder[:3].upper()}FakeFileId",
            file_unique_id=f"AQAD{number:06d}",
            data=data,
            file_path=f"{folder}/file_{number}.{extension}",
            mime_type=mime_type,
            file_name=file_name,
        )
        self.files[stored.file_id] = stored
        return stored

    def photo_sizes(self, data: bytes) -> list[dict[str, Any]]:
        """Register a photo and return its ``PhotoSize`` list; 400 IMAGE_PROCESS_FAILED if not an image."""
        size = image_size(data)
        if size is None:
            raise bad_request("IMAGE_PROCESS_FAILED", "uploaded photo is not a PNG/JPEG/GIF/WebP image")
        sizes = []
        for width, height in photo_size_steps(*size):
            stored = self.register_file(data, folder="photos", extension="jpg", mime_type="image/jpeg")
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": len(data),
                    "width": width,
                    "height": height,
                }
            )
        return sizes

    def file_info(self, file_id: str) -> dict[str, Any]:
        """The ``File`` object for getFile; 400 "invalid file_id" if unknown."""
        stored = self.files.get(file_id)
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    def file_by_path(self, path: str) -> StoredFile | None:
        """The stored file whose file_path is ``path``."""
        return next((stored for stored in self.files.values() if stored.file_path == path), None)

    # -- callback queries ---------------------------------------------------------------------------
    def new_callback_query(
        self, user_id: int, message: StoredMessage | None, data: str | None
    ) -> CallbackQueryState:
        """Create a pending (unanswered) callback query."""
        query_id = str(4_611_686_018_427_387_904 + next(self._query_ids) * 7_919)
        state = CallbackQueryState(
            id=query_id,
            user_id=user_id,
            chat_id=message.chat_id if message else None,
            message_id=message.message_id if message else None,
            data=data,
        )
        self.callback_queries[query_id] = state
        return state

    @staticmethod
    def chat_instance(chat_id: int) -> str:
        """A stable ``chat_instance`` string for a chat, like Telegram's."""
        return str(
            (chat_id * 2_654_435_761 + 1_000_003) % 9_000_000_000_000_000_000 - 4_500_000_000_000_000_000
        )

    # -- commands -----------------------------------------------------------------------------------
    @staticmethod
    def commands_key(scope: dict[str, Any] | None, language_code: str | None) -> tuple[str, str]:
        """Key of a (scope, language) command list."""
        return json.dumps(scope or {"type": "default"}, sort_keys=True), language_code or ""

    # -- updates ------------------------------------------------------------------------------------
    def next_update_id(self) -> int:
        """A new, increasing update_id."""
        return next(self._update_ids)

    def is_allowed(self, update: dict[str, Any], allowed: list[str] | None) -> bool:
        """Whether an update passes an allowed_updates list (None/empty: Telegram's default set)."""
        kind = update_type(update)
        if allowed:
            return kind in allowed
        return kind not in OPT_IN_UPDATE_TYPES

    def confirm(self, offset: int | None) -> None:
        """getUpdates offset semantics: positive confirms earlier updates, negative keeps the last -offset."""
        if not offset:
            return
        kept = (
            [update for update in self.pending if update["update_id"] >= offset]
            if offset > 0
            else self.pending[offset:]
        )
        self.confirmed += [update["update_id"] for update in self.pending if update not in kept]
        self.pending = kept

    def deliverable(self) -> list[dict[str, Any]]:
        """Pending updates after dropping those the bot did not subscribe to (like Telegram does)."""
        self.pending = [update for update in self.pending if self.is_allowed(update, self.allowed_updates)]
        return self.pending
