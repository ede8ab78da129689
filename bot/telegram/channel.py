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
- Edited messages get a short notice that edits are not applied (the answer stays as first sent).
- Once an update's replies are all sent, the engine is told (`Engine.delivered`): a repeat of the
  update is applied once and answered with nothing more.
- A database too busy to take a message (`StoreBusy`: nothing applied) is not the person's problem:
  polling tries the message again every `BUSY_RETRY` seconds, holding that person's later updates
  back (so they stay in order) and the update unconfirmed; a webhook request fails with 503 so that
  Telegram delivers the update again.
"""

from __future__ import annotations

import asyncio
import logging
import re

from aiogram import Bot, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import CallbackQuery, MaybeInaccessibleMessageUnion, Message, Update, User

from bot.telegram.callbacks import answered_question, decode, is_confirmation
from bot.telegram.delivery import CHANNEL, Delivery, Pressed
from bot.telegram.gate import RecentIds
from bot.telegram.logs import described, refusal
from bot.telegram.render import utf16_len
from dialogs.catalogue import Catalogue
from dialogs.engine import Engine
from dialogs.types import Inbound, Reply, ReplyKind
from storage.store import StoreBusy

DEEP_LINK_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")
TOAST_LIMIT = 200
"""Telegram's limit for the text of `answerCallbackQuery`."""
REMEMBERED_GROUPS = 10_000
BUSY_RETRY = 1.0
"""Seconds between two tries of a message the database was too busy to take (polling)."""
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


def toast(text: str) -> str:
    """The text, cut to fit a toast if it is longer (Telegram counts UTF-16 units; an emoji is 2)."""
    if utf16_len(text) <= TOAST_LIMIT:
        return text
    kept: list[str] = []
    size = 1  # the ellipsis
    for char in text:
        size += utf16_len(char)
        if size > TOAST_LIMIT:
            break
        kept.append(char)
    return "".join(kept) + "\u2026"


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
        if text is not None:  # a long translation is cut, never refused
            text = toast(text)
        try:
            await self.bot.answer_callback_query(self.query.id, text=text, show_alert=False)
        except TelegramBadRequest as error:  # "query is too old": Telegram stopped waiting for us
            log.info("%s (a button press)", refusal(error))
            log.debug("callback query %s not answered", self.query.id)


class TelegramChannel:
    """The handlers, sharing the engine and the delivery."""

    def __init__(self, engine: Engine, delivery: Delivery, busy_retry: float | None = BUSY_RETRY) -> None:
        self.engine = engine
        self.busy_retry = busy_retry
        """Seconds between tries when the database is busy; None: raise `StoreBusy` (webhook mode)."""
        self.delivery = delivery
        self.stale_notices = frozenset(c.cat.text("stale_button") for c in engine.languages.contexts.values())
        """The engine's notice for a stale button, in each language."""
        self.told_chats = RecentIds(REMEMBERED_GROUPS)

    def router(self) -> Router:
        """A router with every handler registered (filters are async: no worker threads)."""
        router = Router(name="cxbot-telegram")
        router.message.register(self.on_text, in_private_chat, has_text)
        router.message.register(self.on_other_content, in_private_chat)
        router.message.register(self.on_elsewhere)
        router.edited_message.register(self.on_edited, in_private_chat)
        router.channel_post.register(self.on_elsewhere)
        router.callback_query.register(self.on_press)
        return router

    async def ask(self, inbound: Inbound) -> list[Reply]:
        """The engine's replies; a failure is logged and told as such (nothing was half-stored). A
        busy database is waited out, or raised (see the module docstring)."""
        while True:
            try:
                return await self._answer(inbound)
            except StoreBusy:
                if self.busy_retry is None:
                    raise
                log.warning("the database is busy: a Telegram update waits, then tries again")
            await asyncio.sleep(self.busy_retry)

    async def _answer(self, inbound: Inbound) -> list[Reply]:
        try:
            return await self.engine.handle(inbound)
        except StoreBusy:
            raise
        except Exception as error:
            log.error("the engine failed on a Telegram update: %s", described(error))
            log.debug("engine failure on %s from %s", inbound.message_id, inbound.sender, exc_info=True)
            cat = self.engine.catalogue_for(inbound.language)
            return [Reply(text=cat.text("internal_error"), kind=ReplyKind.NOTICE)]

    def words(self, user: User | None) -> Catalogue:
        """The words of the person's app language, for what the channel says without the engine (a
        choice made with /language is not known here; the engine's replies follow it)."""
        return self.engine.catalogue_for(user.language_code if user else None)

    async def on_text(self, message: Message, bot: Bot, event_update: Update) -> None:
        """Typed text (or a command) in a private chat."""
        user, text = message.from_user, message.text
        if user is None or text is None:
            return
        start = start_command(text)
        sender = str(user.id)
        inbound = Inbound(
            CHANNEL,
            sender,
            start or text,
            delivery_id(bot, event_update),
            user.first_name,
            language=user.language_code,
        )
        replies = await self.ask(inbound)
        await self._deliver(bot, message.chat.id, inbound, replies)

    async def _deliver(
        self, bot: Bot, chat_id: int, inbound: Inbound, replies: list[Reply], pressed: Pressed | None = None
    ) -> None:
        """Send the engine's replies; once they are all sent, a repeat of the update (Telegram sends
        it again when its confirmation was lost: a webhook answer that timed out, a poller that died
        before confirming) is answered with nothing, so nobody gets the same messages twice."""
        if await self.delivery.deliver(bot, chat_id, inbound.sender, replies, pressed=pressed) and replies:
            await self.engine.delivered(inbound)

    async def on_other_content(self, message: Message, bot: Bot) -> None:
        """A sticker, photo, voice message, file... in a private chat: ask for text instead."""
        await self._notice(bot, message, "telegram_text_only")

    async def on_edited(self, message: Message, bot: Bot) -> None:
        """A message edited in a private chat: the edit is not applied (an answer stays as first
        sent, and the engine has moved on since), so say so rather than leave it unnoticed."""
        await self._notice(bot, message, "telegram_edit_ignored")

    async def _notice(self, bot: Bot, message: Message, key: str) -> None:
        sender = str(message.from_user.id) if message.from_user else str(message.chat.id)
        notice = Reply(text=self.words(message.from_user).text(key), kind=ReplyKind.NOTICE)
        await self.delivery.deliver(bot, message.chat.id, sender, [notice])

    async def on_elsewhere(self, message: Message, bot: Bot) -> None:
        """A group, supergroup or channel: say once that the bot only chats in private."""
        if message.chat.id in self.told_chats:
            return
        self.told_chats.add(message.chat.id)
        try:
            words = self.words(message.from_user)
            await bot.send_message(message.chat.id, words.text("telegram_private_only"))
        except TelegramAPIError as error:  # muted or removed from the group: nothing more to do
            log.info("%s (telling a group the bot is private-only)", refusal(error))
            log.debug("chat %s not told that the bot is private-only", message.chat.id)

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
        words = self.words(query.from_user)
        if payload is None or message is None:
            await answer(words.text("telegram_unknown_button"))
            return
        chat_id = message.chat.id
        if message.chat.type != ChatType.PRIVATE:
            await answer(words.text("telegram_private_only"))
            return
        if self.delivery.keyboards.is_stale(chat_id, message.message_id):
            await answer(words.text("stale_button"))
            await self.delivery.remove_keyboard(bot, chat_id, message.message_id)
            return
        sender = str(query.from_user.id)
        user = query.from_user
        inbound = Inbound(
            CHANNEL, sender, payload, delivery_id(bot, update), user.first_name, language=user.language_code
        )
        replies = await self.ask(inbound)
        if refused(replies):
            await self._refused(bot, query, payload, replies[0], answer)
            return
        await answer()
        pressed = Pressed(message.message_id, _html(message), answered_question(payload))
        await self._deliver(bot, chat_id, inbound, replies, pressed)

    async def _refused(
        self, bot: Bot, query: CallbackQuery, payload: str, notice: Reply, answer: CallbackAnswer
    ) -> None:
        """A press the engine turned down: a toast, and the keyboard goes if it can never apply."""
        message = query.message
        assert message is not None  # checked by _press
        chat_id = message.chat.id
        if utf16_len(notice.text) <= TOAST_LIMIT:
            await answer(notice.text)
        else:
            await answer()
            await self.delivery.deliver(bot, chat_id, str(query.from_user.id), [notice])
        # An old message the engine calls stale (this process did not know it) or a real confirmation,
        # which works once, loses its keyboard. The live question keeps its own whatever was sent: a
        # modified client can send a confirmation's data from any message, and that must change nothing.
        stale = notice.text in self.stale_notices
        live = self.delivery.keyboards.is_live(chat_id, message.message_id)
        if (stale and not live) or (is_confirmation(payload) and offers(message, query.data)):
            await self.delivery.retire_keyboard(bot, chat_id, message.message_id)


def offers(message: MaybeInaccessibleMessageUnion, data: str | None) -> bool:
    """Whether the message's own keyboard, as Telegram reports it, has a button with this data."""
    markup = message.reply_markup if isinstance(message, Message) else None
    if markup is None:
        return False
    return any(button.callback_data == data for row in markup.inline_keyboard for button in row)


def _html(message: MaybeInaccessibleMessageUnion) -> str | None:
    """A text message's content as HTML (from its entities), to edit it; None for anything else."""
    return message.html_text if isinstance(message, Message) and message.text else None
