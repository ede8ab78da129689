"""Telegram updates to the engine and back: the router and its (thin) handlers.

Each handler turns an update into an `Inbound` (channel "telegram", the sender's user id, the text
or the button's payload, the update id for deduplication, the first name), asks the engine, and
hands the replies to `Delivery`. The engine owns the conversation; nothing here keeps dialogue
state beyond which keyboard is live.

- Private chats only: elsewhere the bot says once per chat that it only chats in private.
- Text goes to the engine as typed; `/start <payload>` keeps a valid deep-link payload
  (A-Z a-z 0-9 _ -, up to 64 characters) and drops anything else, becoming a plain `/start`.
- Stickers, photos, voice and the like get a friendly re-prompt.
- Every callback query is answered exactly once with `answerCallbackQuery`: empty when the press
  was accepted, a short notice when the data is not ours, the message is not the live one, or
  the engine refused it (a stale answer button, say). Refusals change nothing.
"""

from __future__ import annotations

import logging
import re

from aiogram import Bot, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import CallbackQuery, MaybeInaccessibleMessageUnion, Message, Update

from bot.telegram.callbacks import answered_question, decode, is_confirmation
from bot.telegram.delivery import CHANNEL, Delivery, Pressed
from bot.telegram.gate import RecentIds
from dialogs.engine import Engine
from dialogs.types import Inbound, Reply, ReplyKind

DEEP_LINK_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")
TOAST_LIMIT = 200
"""Telegram's limit for the text of `answerCallbackQuery`."""
REMEMBERED_GROUPS = 10_000
log = logging.getLogger(__name__)


def start_command(text: str) -> str | None:
    """`/start` with its deep-link payload if valid, plain `/start` otherwise; None if not /start."""
    parts = text.split(maxsplit=1)  # any whitespace: "/start\tx" is /start too
    if not parts or parts[0].split("@", 1)[0].lower() != "/start":
        return None
    payload = parts[1].strip() if len(parts) > 1 else ""
    return f"/start {payload}" if DEEP_LINK_PAYLOAD.fullmatch(payload) else "/start"


def delivery_id(bot: Bot, update: Update) -> str:
    """The engine's deduplication key: a repeated update is applied once (the bot id keeps two bots
    sharing one database apart)."""
    return f"{bot.id}:{update.update_id}"


async def in_private_chat(message: Message) -> bool:
    """Filter: a message in a private chat."""
    return message.chat.type == ChatType.PRIVATE


async def has_text(message: Message) -> bool:
    """Filter: a text message."""
    return message.text is not None


def refused(replies: list[Reply]) -> bool:
    """The engine answered with a single notice: it changed nothing (a stale or inapplicable press)."""
    return len(replies) == 1 and replies[0].kind is ReplyKind.NOTICE and not replies[0].buttons


class CallbackAnswer:
    """Answers one callback query, once, whatever happens (the button's spinner must stop)."""

    def __init__(self, bot: Bot, query: CallbackQuery) -> None:
        self.bot = bot
        self.query = query
        self.done = False

    async def __call__(self, text: str | None = None) -> None:
        """Answer (with a short notice, shown as a toast); later calls do nothing."""
        if self.done:
            return
        self.done = True
        if text is not None and len(text) > TOAST_LIMIT:  # a long translation: cut, never refused
            text = text[: TOAST_LIMIT - 1] + "\u2026"
        try:
            await self.bot.answer_callback_query(self.query.id, text=text, show_alert=False)
        except TelegramBadRequest as error:  # "query is too old": Telegram stopped waiting for us
            log.info("callback query %s not answered: %s", self.query.id, error.message)


class TelegramChannel:
    """The handlers, sharing the engine and the delivery."""

    def __init__(self, engine: Engine, delivery: Delivery) -> None:
        self.engine = engine
        self.delivery = delivery
        self.cat = engine.context.cat
        self.told_chats = RecentIds(REMEMBERED_GROUPS)

    def router(self) -> Router:
        """A router with every handler registered (filters are async: no worker threads)."""
        router = Router(name="cxbot-telegram")
        router.message.register(self.on_text, in_private_chat, has_text)
        router.message.register(self.on_other_content, in_private_chat)
        router.message.register(self.on_elsewhere)
        router.channel_post.register(self.on_elsewhere)
        router.callback_query.register(self.on_press)
        return router

    async def ask(self, inbound: Inbound) -> list[Reply]:
        """The engine's replies; a failure is logged and told as such (nothing was half-stored)."""
        try:
            return await self.engine.handle(inbound)
        except Exception:
            log.exception("engine failed on Telegram delivery %s from %s", inbound.message_id, inbound.sender)
            return [Reply(text=self.cat.text("internal_error"), kind=ReplyKind.NOTICE)]

    async def on_text(self, message: Message, bot: Bot, event_update: Update) -> None:
        """Typed text (or a command) in a private chat."""
        user, text = message.from_user, message.text
        if user is None or text is None:
            return
        start = start_command(text)
        sender = str(user.id)
        inbound = Inbound(CHANNEL, sender, start or text, delivery_id(bot, event_update), user.first_name)
        replies = await self.ask(inbound)
        await self.delivery.deliver(bot, message.chat.id, sender, replies)

    async def on_other_content(self, message: Message, bot: Bot) -> None:
        """A sticker, photo, voice message, file... in a private chat: ask for text instead."""
        sender = str(message.from_user.id) if message.from_user else str(message.chat.id)
        notice = Reply(text=self.cat.text("telegram_text_only"), kind=ReplyKind.NOTICE)
        await self.delivery.deliver(bot, message.chat.id, sender, [notice])

    async def on_elsewhere(self, message: Message, bot: Bot) -> None:
        """A group, supergroup or channel: say once that the bot only chats in private."""
        if message.chat.id in self.told_chats:
            return
        self.told_chats.add(message.chat.id)
        try:
            await bot.send_message(message.chat.id, self.cat.text("telegram_private_only"))
        except TelegramAPIError as error:  # muted or removed from the group: nothing more to do
            log.info("could not tell chat %s that the bot is private-only: %s", message.chat.id, error)

    async def on_press(self, query: CallbackQuery, bot: Bot, event_update: Update) -> None:
        """An inline button press."""
        answer = CallbackAnswer(bot, query)
        try:
            await self._press(query, bot, event_update, answer)
        finally:
            await answer()

    async def _press(self, query: CallbackQuery, bot: Bot, update: Update, answer: CallbackAnswer) -> None:
        payload = decode(query.data)
        message = query.message
        if payload is None or message is None:
            await answer(self.cat.text("telegram_unknown_button"))
            return
        chat_id = message.chat.id
        if message.chat.type != ChatType.PRIVATE:
            await answer(self.cat.text("telegram_private_only"))
            return
        if self.delivery.keyboards.is_stale(chat_id, message.message_id):
            await answer(self.cat.text("stale_button"))
            await self.delivery.remove_keyboard(bot, chat_id, message.message_id)
            return
        sender = str(query.from_user.id)
        inbound = Inbound(CHANNEL, sender, payload, delivery_id(bot, update), query.from_user.first_name)
        replies = await self.ask(inbound)
        if refused(replies):
            await self._refused(bot, chat_id, sender, message, payload, replies[0], answer)
            return
        await answer()
        pressed = Pressed(message.message_id, _html(message), answered_question(payload))
        await self.delivery.deliver(bot, chat_id, sender, replies, pressed=pressed)

    async def _refused(
        self,
        bot: Bot,
        chat_id: int,
        sender: str,
        message: MaybeInaccessibleMessageUnion,
        payload: str,
        notice: Reply,
        answer: CallbackAnswer,
    ) -> None:
        """A press the engine turned down: a toast, and the keyboard goes if it can never apply."""
        if len(notice.text) <= TOAST_LIMIT:
            await answer(notice.text)
        else:
            await answer()
            await self.delivery.deliver(bot, chat_id, sender, [notice])
        # An old message the engine calls stale (this process did not know it) or a confirmation,
        # which works once, loses its keyboard; the live question keeps its own whatever was sent.
        stale = notice.text == self.cat.text("stale_button")
        live = self.delivery.keyboards.is_live(chat_id, message.message_id)
        if (stale and not live) or is_confirmation(payload):
            await self.delivery.retire_keyboard(bot, chat_id, message.message_id)


def _html(message: MaybeInaccessibleMessageUnion) -> str | None:
    """A text message's content as HTML (from its entities), to edit it; None for anything else."""
    return message.html_text if isinstance(message, Message) and message.text else None
