"""Sending the engine's replies to one Telegram chat, and keeping its keyboards tidy.

The rules, so that no stale keyboard is left behind:

1. At most one keyboard is live per chat: sending a message with buttons first removes the last one.
2. An ANSWERED reply edits its question message in place: the answer shown, the keyboard gone.
3. A press the engine accepted retires the keyboard that was pressed.
4. A typed message whose replies change the view (a question, an answer, the review, a result,
   a confirmation, new buttons) retires the live keyboard; help and notices leave it.

Errors: 403 (the person blocked the bot) marks the participant unreachable and stops the batch; a
400 for one message is logged (the method and Telegram's description; what was sent only at DEBUG)
and the rest still go out; anything else (network, 5xx) propagates, so a webhook update is not
acknowledged and Telegram delivers it again (the engine then answers from its stored replies).
Logs follow `bot.telegram.logs`: nobody's text, name or id above DEBUG.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError
from aiogram.types import BufferedInputFile, LinkPreviewOptions, Message

from bot.telegram.keyboards import LiveKeyboard, LiveKeyboards
from bot.telegram.logs import refusal
from bot.telegram.render import PhotoPiece, Piece, TextPiece, answered_html, render_reply
from dialogs.engine import Engine
from dialogs.types import AnyChart, QuestionRef, Reply, ReplyKind, locale_of

CHANNEL = "telegram"
VIEW_KINDS = frozenset(
    {ReplyKind.QUESTION, ReplyKind.ANSWERED, ReplyKind.REVIEW, ReplyKind.RESULT, ReplyKind.CONFIRM}
)
NO_PREVIEWS = LinkPreviewOptions(is_disabled=True)
"""Results carry several links; previews of the first would bury the text."""

Pictures = Callable[[AnyChart], Awaitable[bytes]]
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Pressed:
    """The message whose button was pressed."""

    message_id: int
    html: str | None
    question: tuple[int, int] | None = None
    """(run, question index) an answer button answered, to edit that message in place."""


def changes_view(replies: Sequence[Reply]) -> bool:
    """Whether the replies move the conversation on, so the live keyboard no longer applies."""
    return any(reply.kind in VIEW_KINDS or reply.buttons for reply in replies)


class Delivery:
    """Sends replies through one bot; shared by every chat."""

    def __init__(
        self, engine: Engine, pictures: Pictures, keyboards: LiveKeyboards, public_url: str | None = None
    ) -> None:
        self.engine = engine
        self.public_url = public_url
        """The server's public address, for links to its own pages (the dashboard, join links)."""
        self.pictures = pictures
        self.keyboards = keyboards

    async def deliver(
        self,
        bot: Bot,
        chat_id: int,
        sender: str,
        replies: Sequence[Reply],
        *,
        pressed: Pressed | None = None,
    ) -> bool:
        """Send the replies in order (after a press, `pressed` names the message pressed); False if the
        person cannot be reached (they blocked the bot)."""
        batch = _Batch(self, bot, chat_id, pressed, locale_of(replies))
        try:
            await batch.run(replies)
        except TelegramForbiddenError as error:
            await self.unreachable(chat_id, sender, error)
            return False
        except TelegramAPIError as error:
            log.warning("%s; the rest of those replies were not sent", refusal(error))
            log.debug("delivery to chat %s stopped", chat_id)
            raise
        return True

    async def unreachable(self, chat_id: int, sender: str, error: TelegramForbiddenError) -> None:
        """The person blocked the bot (or cannot be written to): stop trying, and say so in storage."""
        log.info("%s; the person is marked inactive", refusal(error))
        log.debug("chat %s cannot be reached", chat_id)
        self.keyboards.forget(chat_id)
        await self.engine.mark_unreachable(CHANNEL, sender)

    async def send_piece(self, bot: Bot, chat_id: int, piece: Piece) -> Message | None:
        """Send one message; a 400 is logged (what was sent at DEBUG only) and gives None."""
        try:
            if isinstance(piece, PhotoPiece):
                png = await self.pictures(piece.chart)
                return await bot.send_photo(
                    chat_id=chat_id,
                    photo=BufferedInputFile(png, filename="result.png"),
                    caption=piece.caption,
                    parse_mode=ParseMode.HTML,
                    reply_markup=piece.keyboard,
                )
            return await bot.send_message(
                chat_id=chat_id,
                text=piece.html,
                parse_mode=ParseMode.HTML,
                reply_markup=piece.keyboard,
                link_preview_options=NO_PREVIEWS,
            )
        except TelegramBadRequest as error:
            log.error("%s; that message was not sent", refusal(error))
            log.debug("refused message to chat %s: %.300r", chat_id, piece)
            return None

    async def edit_text(self, bot: Bot, chat_id: int, message_id: int, html: str) -> bool:
        """Replace a message's text and drop its keyboard; False if Telegram refused."""
        try:
            await bot.edit_message_text(
                text=html,
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=ParseMode.HTML,
                link_preview_options=NO_PREVIEWS,
            )
        except TelegramBadRequest as error:  # deleted by the person, or too old to edit
            log.info("%s (an edit)", refusal(error))
            log.debug("message %s in chat %s not edited", message_id, chat_id)
            return False
        return True

    async def retire_keyboard(self, bot: Bot, chat_id: int, message_id: int) -> None:
        """Take the keyboard off a message for good (it is no longer the live one)."""
        live = self.keyboards.get(chat_id)
        if live is not None and live.message_id == message_id:
            self.keyboards.set(chat_id, None)
        await self.remove_keyboard(bot, chat_id, message_id)

    async def remove_keyboard(self, bot: Bot, chat_id: int, message_id: int) -> None:
        """Take the keyboard off a message; nothing to do if it is gone already."""
        try:
            await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id)
        except TelegramBadRequest as error:
            log.debug("keyboard of message %s in chat %s not removed: %s", message_id, chat_id, error.message)


class _Batch:
    """The replies to one update, sent in order, with the keyboard bookkeeping of that update."""

    def __init__(self, out: Delivery, bot: Bot, chat_id: int, pressed: Pressed | None, locale: str) -> None:
        self.out = out
        self.cat = out.engine.catalogue_for(locale)
        """The words of the replies' language, for the channel's own ("Your answer: ...")."""
        self.bot = bot
        self.chat_id = chat_id
        self.pressed = pressed
        self.live_before = out.keyboards.get(chat_id)
        self.retired: set[int] = set()

    async def run(self, replies: Sequence[Reply]) -> None:
        view_changed = changes_view(replies)
        if not (replies and replies[0].kind is ReplyKind.ANSWERED):
            await self.retire_old(view_changed)  # first, so a second tap finds no button
        for reply in replies:
            if reply.kind is ReplyKind.ANSWERED and await self.show_answer(reply):
                continue
            await self.send(reply)
        await self.retire_old(view_changed)  # whatever no edit took care of

    async def show_answer(self, reply: Reply) -> bool:
        """Edit the answered question's message in place; False if there is none to edit."""
        target = self.question_message(reply)
        if target is None:
            return False
        message_id, html = target
        chosen = reply.question.chosen if reply.question else None
        line = self.cat.text("telegram_your_answer", answer=chosen)
        edited = answered_html(html, line)
        # forgotten only once Telegram took the change: if it fails, a redelivery edits it again
        if edited is not None and await self.out.edit_text(self.bot, self.chat_id, message_id, edited):
            self.forget(message_id)
            return True
        await self.out.remove_keyboard(self.bot, self.chat_id, message_id)
        self.forget(message_id)
        return False

    def question_message(self, reply: Reply) -> tuple[int, str] | None:
        """(message id, HTML) of the message showing the question an ANSWERED reply answers."""
        ref = reply.question
        if ref is None or ref.chosen is None:
            return None
        live = self.out.keyboards.get(self.chat_id)
        if live and live.html and live.question and _same_question(live.question, ref):
            return live.message_id, live.html
        pressed = self.pressed
        if pressed and pressed.html and pressed.question == (ref.run, ref.index):
            return pressed.message_id, pressed.html
        return None

    async def send(self, reply: Reply) -> None:
        pieces = render_reply(reply, self.out.public_url)
        if reply.buttons:
            await self.retire_live()
        message: Message | None = None
        for piece in pieces:
            message = await self.out.send_piece(self.bot, self.chat_id, piece)
        last = pieces[-1] if pieces else None
        if message is not None and last is not None and last.keyboard is not None:
            html = last.html if isinstance(last, TextPiece) else None
            confirmation = reply.kind is ReplyKind.CONFIRM
            live = LiveKeyboard(message.message_id, html, reply.question, confirmation)
            self.out.keyboards.set(self.chat_id, live)

    async def retire_old(self, view_changed: bool) -> None:
        """Retire the keyboard that was live before, if the replies move on, and the one pressed."""
        if view_changed and self.live_before is not None:
            await self.retire(self.live_before.message_id)
        if self.pressed is not None:
            await self.retire(self.pressed.message_id)

    async def retire_live(self) -> None:
        live = self.out.keyboards.get(self.chat_id)
        if live is not None:
            await self.retire(live.message_id)

    async def retire(self, message_id: int) -> None:
        if message_id in self.retired:
            return
        await self.out.remove_keyboard(self.bot, self.chat_id, message_id)
        self.forget(message_id)

    def forget(self, message_id: int) -> None:
        self.retired.add(message_id)
        live = self.out.keyboards.get(self.chat_id)
        if live is not None and live.message_id == message_id:
            self.out.keyboards.set(self.chat_id, None)


def _same_question(one: QuestionRef, other: QuestionRef) -> bool:
    return (one.run, one.index) == (other.run, other.index)
