"""Implementations of the Bot API methods the fake supports (all but getUpdates, which lives in the
server because it waits). Each handler gets the parameters already validated by spec.py."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .errors import bad_request
from .formatting import parse_formatted
from .media import image_size, make_png
from .models import StoredMessage, UploadedFile, WebhookConfig
from .state import ChatLog, FakeState

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same as "
    "a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
WEBHOOK_PORTS = frozenset({80, 88, 443, 8443})
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

Handler = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class Answer:
    """A successful result with the optional ``description`` Telegram adds (e.g. "Webhook was set")."""

    result: Any
    description: str | None = None


def _inline_markup(params: dict[str, Any]) -> dict[str, Any] | None:
    markup = params.get("reply_markup")
    return markup if isinstance(markup, dict) and "inline_keyboard" in markup else None


class BotMethods:
    """Stateful Bot API methods over a :class:`FakeState`."""

    def __init__(
        self, state: FakeState, *, strict_html: bool = True, allow_local_http_webhook: bool = True
    ) -> None:
        self.state = state
        self.strict_html = strict_html
        self.allow_local_http_webhook = allow_local_http_webhook

    def handlers(self) -> dict[str, Handler]:
        """Handlers by canonical Bot API method name."""
        return {
            "getMe": self.get_me,
            "sendMessage": self.send_message,
            "sendPhoto": self.send_photo,
            "editMessageText": self.edit_message_text,
            "editMessageCaption": self.edit_message_caption,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "answerCallbackQuery": self.answer_callback_query,
            "sendChatAction": self.send_chat_action,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "getFile": self.get_file,
        }

    # -- helpers ------------------------------------------------------------------------------------
    def formatted(self, params: dict[str, Any], key: str, entities_key: str) -> dict[str, Any]:
        """``{key: plain text, entities_key: [...]}`` as Telegram stores a text/caption after parsing."""
        if key not in params:
            return {}
        parsed = parse_formatted(params[key], params.get("parse_mode"), strict_html=self.strict_html)
        entities = list(parsed.entities) if params.get("parse_mode") else list(params.get(entities_key, []))
        content: dict[str, Any] = {key: parsed.text}
        if entities:
            content[entities_key] = entities
        return content

    def reply_to(self, log: ChatLog, params: dict[str, Any]) -> dict[str, Any]:
        """The ``reply_to_message`` field for ``reply_parameters`` (400 if the target does not exist)."""
        reply = params.get("reply_parameters")
        if not reply:
            return {}
        chat_id = self.state.resolve_chat(reply["chat_id"]).chat.id if "chat_id" in reply else log.chat.id
        target = self.state.find_message(chat_id, reply["message_id"])
        if target is None:
            if reply.get("allow_sending_without_reply"):
                return {}
            raise bad_request("message to be replied not found")
        quoted = copy.deepcopy(target.payload)
        quoted.pop("reply_to_message", None)
        return {"reply_to_message": quoted}

    def send(
        self, params: dict[str, Any], content: dict[str, Any], attachment: bytes | None = None
    ) -> dict[str, Any]:
        """Store a message the bot sends (content + reply + inline markup) and return it."""
        log = self.state.writable_chat(params["chat_id"])
        content = {**content, **self.reply_to(log, params)}
        markup = _inline_markup(params)
        if markup is not None:
            content["reply_markup"] = markup
        stored = self.state.store_message(
            log, content, sender=self.state.bot_user(), from_bot=True, attachment=attachment
        )
        return copy.deepcopy(stored.payload)

    def editable(self, params: dict[str, Any]) -> StoredMessage:
        """The bot message an edit method targets (400 like Telegram if missing or not the bot's)."""
        if "inline_message_id" in params:
            raise bad_request("MESSAGE_ID_INVALID", "inline messages are not tracked by the fake")
        log = self.state.writable_chat(params["chat_id"])
        message = self.state.find_message(log.chat.id, params["message_id"])
        if message is None:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return message

    def photo(self, value: UploadedFile | str) -> tuple[list[dict[str, Any]], bytes | None]:
        """PhotoSize list (and bytes) for sendPhoto's ``photo``: an upload, a known file_id or a URL."""
        if isinstance(value, UploadedFile):
            return self.state.photo_sizes(value.data), value.data
        known = self.state.files.get(value)
        if known is not None:
            width, height = image_size(known.data) or (1, 1)
            size = {
                "file_id": known.file_id,
                "file_unique_id": known.file_unique_id,
                "file_size": len(known.data),
            }
            return [{**size, "width": width, "height": height}], known.data
        if value.startswith(("http://", "https://")):
            return self.state.photo_sizes(make_png(1, 1)), None
        raise bad_request("wrong file identifier/HTTP URL specified", f"photo={value!r}")

    # -- messages -----------------------------------------------------------------------------------
    def get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        """getMe: the bot's User with getMe-only flags."""
        return self.state.bot_user(full=True)

    def send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        """sendMessage: stores the message (text after entity parsing) and returns it."""
        return self.send(params, self.formatted(params, "text", "entities"))

    def send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        """sendPhoto: registers the photo (upload, file_id or URL) and returns the Message."""
        sizes, data = self.photo(params["photo"])
        content: dict[str, Any] = {"photo": sizes, **self.formatted(params, "caption", "caption_entities")}
        if params.get("has_spoiler"):
            content["has_media_spoiler"] = True
        if params.get("show_caption_above_media"):
            content["show_caption_above_media"] = True
        return self.send(params, content, attachment=data)

    def edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        """editMessageText: 400 if not found / not text / not modified; removes the keyboard if omitted."""
        message = self.editable(params)
        if "text" not in message.payload:
            raise bad_request("there is no text in the message to edit")
        content = self.formatted(params, "text", "entities")
        return self.apply_edit(message, content, ("text", "entities"), _inline_markup(params))

    def edit_message_caption(self, params: dict[str, Any]) -> dict[str, Any]:
        """editMessageCaption: like editMessageText, for media messages."""
        message = self.editable(params)
        if "text" in message.payload:
            raise bad_request("there is no caption in the message to edit")
        content = self.formatted(params, "caption", "caption_entities")
        return self.apply_edit(message, content, ("caption", "caption_entities"), _inline_markup(params))

    def edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        """editMessageReplyMarkup: replaces or (when omitted) removes the inline keyboard."""
        message = self.editable(params)
        keys = tuple(
            key for key in ("text", "entities", "caption", "caption_entities") if key in message.payload
        )
        current: dict[str, Any] = {key: message.payload[key] for key in keys}
        return self.apply_edit(message, current, keys, _inline_markup(params))

    def apply_edit(
        self,
        message: StoredMessage,
        content: dict[str, Any],
        keys: tuple[str, ...],
        markup: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """Set ``keys`` to ``content`` and the markup to ``markup``; 400 "message is not modified" if same."""
        before = {key: message.payload.get(key) for key in keys}
        after = {key: content.get(key) for key in keys}
        if before == after and message.reply_markup == markup:
            raise bad_request(NOT_MODIFIED)
        changes = dict(content)
        if markup is not None:
            changes["reply_markup"] = markup
        removed = tuple(key for key in (*keys, "reply_markup") if key not in changes)
        self.state.edit_message(message, changes, removed)
        return copy.deepcopy(message.payload)

    def delete_message(self, params: dict[str, Any]) -> bool:
        """deleteMessage: 400 "message to delete not found" for unknown/deleted messages."""
        log = self.state.resolve_chat(params["chat_id"])
        message = self.state.find_message(log.chat.id, params["message_id"])
        if message is None:
            raise bad_request("message to delete not found")
        message.deleted = True
        return True

    def answer_callback_query(self, params: dict[str, Any]) -> bool:
        """answerCallbackQuery: each query can be answered once; unknown ids are "too old"."""
        query = self.state.callback_queries.get(params["callback_query_id"])
        if query is None or query.answered:
            raise bad_request(QUERY_TOO_OLD)
        query.answered = True
        query.answer = {key: value for key, value in params.items() if key != "callback_query_id"}
        return True

    def send_chat_action(self, params: dict[str, Any]) -> bool:
        """sendChatAction: recorded per chat (the action itself is checked by spec.py)."""
        self.state.writable_chat(params["chat_id"]).actions.append(params["action"])
        return True

    # -- commands -----------------------------------------------------------------------------------
    def set_my_commands(self, params: dict[str, Any]) -> bool:
        """setMyCommands: stores the list per (scope, language_code)."""
        key = self.state.commands_key(params.get("scope"), params.get("language_code"))
        self.state.commands[key] = list(params["commands"])
        return True

    def get_my_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """getMyCommands: the list stored for exactly that (scope, language_code)."""
        key = self.state.commands_key(params.get("scope"), params.get("language_code"))
        return list(self.state.commands.get(key, []))

    def delete_my_commands(self, params: dict[str, Any]) -> bool:
        """deleteMyCommands: forgets the list for (scope, language_code)."""
        self.state.commands.pop(
            self.state.commands_key(params.get("scope"), params.get("language_code")), None
        )
        return True

    # -- webhook ------------------------------------------------------------------------------------
    def check_webhook_url(self, url: str) -> None:
        """Telegram's URL rules: HTTPS on ports 80/88/443/8443 (plain http allowed for local test hosts)."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme == "http" and host in LOCAL_HOSTS and self.allow_local_http_webhook:
            return
        if parts.scheme != "https" or not host:
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if parts.port is not None and parts.port not in WEBHOOK_PORTS:
            raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")

    def set_webhook(self, params: dict[str, Any]) -> Answer:
        """setWebhook: stores url/secret_token/allowed_updates; an empty url removes the webhook."""
        url = params["url"]
        if not url:
            return self.delete_webhook(params)
        self.check_webhook_url(url)
        max_connections = params.get("max_connections", 40)
        if not 1 <= max_connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        if params.get("drop_pending_updates"):
            self.state.pending.clear()
        if "allowed_updates" in params:
            self.state.allowed_updates = params["allowed_updates"] or None
        already = self.state.webhook is not None and self.state.webhook.url == url
        self.state.webhook = WebhookConfig(
            url=url,
            secret_token=params.get("secret_token"),
            max_connections=max_connections,
            allowed_updates=self.state.allowed_updates,
            ip_address=params.get("ip_address"),
            has_custom_certificate="certificate" in params,
        )
        return Answer(True, "Webhook is already set" if already else "Webhook was set")

    def delete_webhook(self, params: dict[str, Any]) -> Answer:
        """deleteWebhook (and setWebhook with an empty url)."""
        if params.get("drop_pending_updates"):
            self.state.pending.clear()
        existed = self.state.webhook is not None
        self.state.webhook = None
        return Answer(True, "Webhook was deleted" if existed else "Webhook is already deleted")

    def get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        """getWebhookInfo: url ("" without webhook), pending_update_count, last delivery error..."""
        hook = self.state.webhook
        info: dict[str, Any] = {
            "url": hook.url if hook else "",
            "has_custom_certificate": bool(hook and hook.has_custom_certificate),
            "pending_update_count": len(self.state.deliverable()),
        }
        if hook is None:
            return info
        info["max_connections"] = hook.max_connections
        optional = {
            "ip_address": hook.ip_address,
            "allowed_updates": self.state.allowed_updates,
            "last_error_date": hook.last_error_date,
            "last_error_message": hook.last_error_message,
        }
        info.update({key: value for key, value in optional.items() if value is not None})
        return info

    def get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        """getFile: File with a file_path downloadable from ``{base_url}/file/bot{token}/{file_path}``."""
        return self.state.file_info(params["file_id"])
