"""Plain data records used by the fake Bot API: uploaded files, the request log, chats and messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart/form-data request (``field`` is the part name)."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class RecordedRequest:
    """One HTTP call to the fake Bot API, as received and as answered.

    ``raw_params`` are the parameters exactly as sent (strings for form/multipart bodies); ``params`` are
    the same after validation against api.json (typed, JSON fields decoded, InputFile fields replaced by
    :class:`UploadedFile`); it is empty when the request was rejected before validation finished.
    """

    method: str
    raw_params: dict[str, Any]
    files: dict[str, UploadedFile]
    transport: str
    params: dict[str, Any] = field(default_factory=dict)
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)
    detail: str | None = None

    @property
    def ok(self) -> bool:
        """True when the fake answered ``{"ok": true, ...}``."""
        return self.response.get("ok") is True

    @property
    def description(self) -> str | None:
        """The error description sent back (None for successful calls)."""
        value = self.response.get("description")
        return value if isinstance(value, str) and not self.ok else None

    @property
    def result(self) -> Any:
        """The ``result`` sent back (None for errors)."""
        return self.response.get("result")

    def upload(self, param: str) -> UploadedFile | None:
        """The uploaded file passed as parameter ``param`` (directly or via ``attach://``), if any."""
        value = self.params.get(param)
        return value if isinstance(value, UploadedFile) else None

    def summary(self) -> str:
        """A one-line human description, used in assertion messages."""
        text = f"{self.method} -> {self.status} {self.response.get('description', '')}".rstrip()
        return f"{text} [{self.detail}]" if self.detail else text


@dataclass(frozen=True)
class FakeChat:
    """A chat known to the fake server (private chat with a FakeUser, a group, a supergroup...)."""

    id: int
    type: str = "private"
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    is_forum: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The Telegram ``Chat`` object for this chat."""
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        if self.is_forum:
            data["is_forum"] = True
        return data


@dataclass(frozen=True)
class StoredFile:
    """A file known to the fake (uploaded by the bot or sent by a FakeUser); downloadable via getFile."""

    file_id: str
    file_unique_id: str
    data: bytes
    file_path: str
    mime_type: str | None = None
    file_name: str | None = None


@dataclass
class StoredMessage:
    """A message in a chat as the fake server keeps it; ``payload`` is the current Telegram Message."""

    chat_id: int
    message_id: int
    payload: dict[str, Any]
    from_bot: bool
    attachment: bytes | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False

    @property
    def text(self) -> str | None:
        """Current message text, or the caption for media messages."""
        value = self.payload.get("text", self.payload.get("caption"))
        return value if isinstance(value, str) else None

    @property
    def entities(self) -> list[dict[str, Any]]:
        """Entities of the current text/caption (what Telegram computed from parse_mode)."""
        value = self.payload.get("entities", self.payload.get("caption_entities", []))
        return list(value) if isinstance(value, list) else []

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        """Current reply markup (only inline keyboards are kept on messages, like Telegram)."""
        value = self.payload.get("reply_markup")
        return value if isinstance(value, dict) else None

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]] | None:
        """Rows of inline buttons currently attached to the message, or None."""
        markup = self.reply_markup
        rows = markup.get("inline_keyboard") if markup else None
        return rows if isinstance(rows, list) and rows else None

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """All inline buttons of the message, row by row."""
        return [button for row in self.inline_keyboard or [] for button in row]

    @property
    def kind(self) -> str:
        """The content kind: text, photo, sticker, voice, document... (first content field present)."""
        for key in ("text", "photo", "sticker", "voice", "document", "audio", "video", "animation"):
            if key in self.payload:
                return key
        return "other"

    @property
    def edited(self) -> bool:
        """True once the message has been edited."""
        return bool(self.history)


@dataclass
class CallbackQueryState:
    """A callback query created by a FakeUser pressing an inline button."""

    id: str
    user_id: int
    chat_id: int | None
    message_id: int | None
    data: str | None
    answered: bool = False
    answer: dict[str, Any] | None = None


@dataclass
class WebhookConfig:
    """The webhook the bot registered with setWebhook."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    ip_address: str | None = None
    has_custom_certificate: bool = False
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass(frozen=True)
class WebhookDelivery:
    """One POST of an update to the bot's webhook and the bot's HTTP answer."""

    update: dict[str, Any]
    url: str
    secret_token: str | None
    status: int
    response_body: bytes
