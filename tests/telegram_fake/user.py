"""``FakeUser``: the human on the other side of the fake Bot API.

It builds updates shaped exactly like Telegram's (Update -> Message with ``from``, ``chat``, ``date``,
``entities`` for commands/links/mentions; ``callback_query`` with ``id``, ``from``, ``message``,
``chat_instance``, ``data``), hands them to the bot (getUpdates queue or webhook POST) and reads back
what the user sees in the chat.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from .formatting import utf16_len
from .media import make_png
from .models import CallbackQueryState, FakeChat, StoredMessage
from .server import FakeBotAPI

# Entities Telegram detects in text a user types (checked in this order; overlaps are skipped).
_ENTITY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("bot_command", re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/@])")),
    ("url", re.compile(r"\bhttps?://[^\s<>\"]*[^\s<>\".,;:!?)\]']")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}\b")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
)
_FAKE_WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00\xff\x01\x00\xff\x01\x00"
_FAKE_OGG = b"OggS\x00\x02" + bytes(58)


def detect_entities(text: str) -> list[dict[str, Any]]:
    """Entities Telegram adds to a user's text: bot_command ("/start", "/help@bot"), url, mention,
    hashtag; offsets/lengths in UTF-16 code units."""
    taken: list[tuple[int, int]] = []
    entities = []
    for kind, pattern in _ENTITY_PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < other_end and other_start < end for other_start, other_end in taken):
                continue
            taken.append((start, end))
            entities.append(
                {"offset": utf16_len(text[:start]), "length": utf16_len(match.group(0)), "type": kind}
            )
    return sorted(entities, key=lambda entity: entity["offset"])


class FakeUser:
    """A Telegram user chatting with the bot (private chat ``id == user_id``; can also post in groups)."""

    def __init__(
        self,
        server: FakeBotAPI,
        user_id: int = 10_001,
        first_name: str = "Alice",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        is_premium: bool = False,
    ) -> None:
        self.server = server
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.is_premium = is_premium
        self.chat = server.add_chat(
            FakeChat(user_id, "private", username=username, first_name=first_name, last_name=last_name)
        )
        self.presses: list[CallbackQueryState] = []
        self._last_sent: dict[int, int] = {}

    def __repr__(self) -> str:
        return f"FakeUser(id={self.id}, first_name={self.first_name!r})"

    @property
    def user(self) -> dict[str, Any]:
        """This user's Telegram ``User`` object."""
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        optional = {
            "last_name": self.last_name,
            "username": self.username,
            "language_code": self.language_code,
        }
        data.update({key: value for key, value in optional.items() if value is not None})
        if self.is_premium:
            data["is_premium"] = True
        return data

    # -- sending ------------------------------------------------------------------------------------
    async def send_text(
        self, text: str, *, chat: FakeChat | None = None, reply_to: StoredMessage | None = None
    ) -> dict[str, Any]:
        """Send a text message (entities detected like Telegram does); returns the Update."""
        content: dict[str, Any] = {"text": text}
        entities = detect_entities(text)
        if entities:
            content["entities"] = entities
        return await self._send_message(content, chat, reply_to=reply_to)

    async def send_command(
        self, command: str, args: str = "", *, chat: FakeChat | None = None
    ) -> dict[str, Any]:
        """Send "/command args" (``command`` without the slash); in groups addressed as /command@bot."""
        target = chat or self.chat
        suffix = f"@{self.server.state.bot_username}" if target.type != "private" else ""
        return await self.send_text(f"/{command.lstrip('/')}{suffix} {args}".rstrip(), chat=chat)

    async def send_photo(
        self, data: bytes | None = None, *, caption: str | None = None, chat: FakeChat | None = None
    ) -> dict[str, Any]:
        """Send a photo (default: a small generated PNG); returns the Update."""
        data = data if data is not None else make_png(64, 48)
        content: dict[str, Any] = {"photo": self.server.state.photo_sizes(data)}
        content.update(self._caption(caption))
        return await self._send_message(content, chat, attachment=data)

    async def send_sticker(
        self, emoji: str = "👍", *, set_name: str = "CxFakeStickers", chat: FakeChat | None = None
    ) -> dict[str, Any]:
        """Send a regular static sticker; returns the Update."""
        stored = self.server.state.register_file(
            _FAKE_WEBP, folder="stickers", extension="webp", mime_type="image/webp"
        )
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "set_name": set_name,
            "file_size": len(_FAKE_WEBP),
        }
        return await self._send_message({"sticker": sticker}, chat, attachment=_FAKE_WEBP)

    async def send_voice(
        self, data: bytes | None = None, *, duration: int = 2, chat: FakeChat | None = None
    ) -> dict[str, Any]:
        """Send a voice note (OGG/Opus bytes; a placeholder by default); returns the Update."""
        data = data if data is not None else _FAKE_OGG
        stored = self.server.state.register_file(data, folder="voice", extension="oga", mime_type="audio/ogg")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(data),
        }
        return await self._send_message({"voice": voice}, chat, attachment=data)

    async def send_document(
        self,
        data: bytes,
        *,
        file_name: str = "document.txt",
        mime_type: str = "text/plain",
        caption: str | None = None,
        chat: FakeChat | None = None,
    ) -> dict[str, Any]:
        """Send a file as a document; returns the Update."""
        extension = file_name.rsplit(".", 1)[-1] if "." in file_name else "bin"
        stored = self.server.state.register_file(
            data, folder="documents", extension=extension, mime_type=mime_type, file_name=file_name
        )
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(data),
        }
        content: dict[str, Any] = {"document": document, **self._caption(caption)}
        return await self._send_message(content, chat, attachment=data)

    async def press(
        self,
        button: str | None = None,
        *,
        data: str | None = None,
        message: StoredMessage | None = None,
        chat: FakeChat | None = None,
    ) -> dict[str, Any]:
        """Press an inline button (matched by its text or callback_data) of ``message`` (default: the
        latest bot message in the chat having such a button); returns the callback_query Update."""
        message = message or self._message_with_button(button, data, chat)
        pressed = self._find_button(message, button, data)
        callback_data = pressed.get("callback_data")
        if not isinstance(callback_data, str):
            raise AssertionError(
                f"button {pressed} has no callback_data, pressing it sends no callback query"
            )
        state = self.server.state
        query = state.new_callback_query(self.id, message, callback_data)
        self.presses.append(query)
        update = {
            "callback_query": {
                "id": query.id,
                "from": self.user,
                "message": copy.deepcopy(message.payload),
                "chat_instance": state.chat_instance(message.chat_id),
                "data": callback_data,
            }
        }
        return await self._push(update)

    async def edit_text(self, message: StoredMessage, text: str) -> dict[str, Any]:
        """Edit one of this user's text messages, as Telegram shows it; the bot gets an
        ``edited_message`` update (if it asked for them) with the new text. Returns the Update."""
        if message.from_bot or "text" not in message.payload:
            raise AssertionError("a user can only edit their own text messages")
        entities = detect_entities(text)
        changes: dict[str, Any] = {"text": text, **({"entities": entities} if entities else {})}
        self.server.state.edit_message(message, changes, removed=("entities",))
        return await self._push({"edited_message": copy.deepcopy(message.payload)})

    def block_bot(self, blocked: bool = True) -> None:
        """Block (or unblock) the bot: its messages to this user then get 403 Forbidden."""
        self.server.block(self.chat.id, blocked)

    # -- what the user sees ---------------------------------------------------------------------------
    def messages(self, chat: FakeChat | None = None) -> list[StoredMessage]:
        """All visible messages of the chat (user's and bot's) in order, current versions."""
        return self.server.chat_messages((chat or self.chat).id)

    def bot_messages(self, chat: FakeChat | None = None) -> list[StoredMessage]:
        """Visible messages the bot sent in the chat, in order."""
        return [message for message in self.messages(chat) if message.from_bot]

    def bot_texts(self, chat: FakeChat | None = None) -> list[str]:
        """Current text (or caption) of each bot message, as displayed (HTML tags already applied)."""
        return [message.text for message in self.bot_messages(chat) if message.text is not None]

    def last_bot_message(self, chat: FakeChat | None = None) -> StoredMessage | None:
        """The most recent visible bot message."""
        messages = self.bot_messages(chat)
        return messages[-1] if messages else None

    def photos(self, chat: FakeChat | None = None) -> list[bytes]:
        """Bytes of the photos the bot sent (uploads and re-sent file_ids), in order."""
        return [
            m.attachment for m in self.bot_messages(chat) if m.kind == "photo" and m.attachment is not None
        ]

    def last_inline_keyboard(self, chat: FakeChat | None = None) -> list[list[dict[str, Any]]] | None:
        """Rows of the inline keyboard on the latest bot message that currently has one."""
        for message in reversed(self.bot_messages(chat)):
            if message.inline_keyboard:
                return message.inline_keyboard
        return None

    def chat_actions(self, chat: FakeChat | None = None) -> list[str]:
        """Chat actions ("typing", ...) the bot sent to the chat."""
        return self.server.chat_actions((chat or self.chat).id)

    @property
    def callback_answers(self) -> list[dict[str, Any]]:
        """answerCallbackQuery parameters (text, show_alert, ...) for this user's presses, in order."""
        return [query.answer or {} for query in self.presses if query.answered]

    async def wait_for_replies(
        self, count: int = 1, *, chat: FakeChat | None = None, within: float = 5.0
    ) -> list[StoredMessage]:
        """Wait for ``count`` bot messages newer than the user's last message in the chat; return them."""
        target = chat or self.chat
        after = self._last_sent.get(target.id, 0)

        def fresh() -> list[StoredMessage]:
            return [message for message in self.bot_messages(target) if message.message_id > after]

        await self.server.wait_until(
            lambda: len(fresh()) >= count, within, f"{count} bot repl(ies) in {target.id}"
        )
        return fresh()[:count]

    async def wait_for_reply(self, *, chat: FakeChat | None = None, within: float = 5.0) -> StoredMessage:
        """Wait for the first bot message after the user's last message in the chat."""
        return (await self.wait_for_replies(1, chat=chat, within=within))[0]

    async def wait_for_callback_answer(self, within: float = 5.0) -> dict[str, Any]:
        """Wait until the bot answered the user's latest button press; return the answer's parameters."""
        if not self.presses:
            raise AssertionError("the user has not pressed any button")
        query = self.presses[-1]
        await self.server.wait_until(lambda: query.answered, within, f"answerCallbackQuery({query.id})")
        return query.answer or {}

    # -- internals ------------------------------------------------------------------------------------
    def _caption(self, caption: str | None) -> dict[str, Any]:
        if caption is None:
            return {}
        entities = detect_entities(caption)
        return {"caption": caption, **({"caption_entities": entities} if entities else {})}

    async def _send_message(
        self,
        content: dict[str, Any],
        chat: FakeChat | None,
        *,
        attachment: bytes | None = None,
        reply_to: StoredMessage | None = None,
    ) -> dict[str, Any]:
        target = chat or self.chat
        if target.id not in self.server.state.chats:
            self.server.add_chat(target)
        if reply_to is not None:
            quoted = copy.deepcopy(reply_to.payload)
            quoted.pop("reply_to_message", None)
            content = {**content, "reply_to_message": quoted}
        log = self.server.state.chats[target.id]
        stored = self.server.state.store_message(
            log, content, sender=self.user, from_bot=False, attachment=attachment
        )
        self._last_sent[target.id] = stored.message_id
        return await self._push({"message": copy.deepcopy(stored.payload)})

    async def _push(self, body: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": self.server.state.next_update_id(), **body}
        status = await self.server.push_update(update)
        if status is not None and not 200 <= status < 300:
            raise AssertionError(f"the bot's webhook answered HTTP {status} to update {update['update_id']}")
        return update

    def _message_with_button(
        self, button: str | None, data: str | None, chat: FakeChat | None
    ) -> StoredMessage:
        for message in reversed(self.bot_messages(chat)):
            if any(_matches(candidate, button, data) for candidate in message.buttons):
                return message
        raise AssertionError(f"no bot message has an inline button text={button!r} data={data!r}")

    @staticmethod
    def _find_button(message: StoredMessage, button: str | None, data: str | None) -> dict[str, Any]:
        found = [candidate for candidate in message.buttons if _matches(candidate, button, data)]
        if not found:
            raise AssertionError(f"message {message.message_id} has no button text={button!r} data={data!r}")
        return found[0]


def _matches(candidate: dict[str, Any], text: str | None, data: str | None) -> bool:
    if text is not None and candidate.get("text") != text:
        return False
    return data is None or candidate.get("callback_data") == data
