"""A `Reply` as Telegram messages: HTML text within Telegram's limits, an inline keyboard, a chart.

Pure functions, no I/O. Every piece of text from the engine, a framework or a person goes through
`html.escape` (URLs in `href` too), so the only tags are the ones made here: `<b>` for titles and
`<a href>` for links. Lengths are counted in UTF-16 code units of the HTML source: Telegram counts
the parsed text in those units, and the parsed text is never longer than its source.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.links import resolved
from bot.telegram.callbacks import UnknownPayload, encode
from dialogs.types import AnyChart, Button, ButtonRole, Link, Reply

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
NAVIGATION_PER_ROW = 4
"""Navigation buttons ("Back", "Change 4"...) share rows; each choice gets a row of its own."""

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TextPiece:
    """One `sendMessage`."""

    html: str
    keyboard: InlineKeyboardMarkup | None = None


@dataclass(frozen=True, slots=True)
class PhotoPiece:
    """One `sendPhoto` of a result chart."""

    chart: AnyChart
    caption: str | None
    keyboard: InlineKeyboardMarkup | None = None


Piece = TextPiece | PhotoPiece


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's length limits."""
    return len(text.encode("utf-16-le")) // 2


def render_reply(reply: Reply, base: str | None = None) -> list[Piece]:
    """The messages for one reply, the keyboard on the last. `base` is the server's public address,
    for links to its own pages (without one they are shown as text)."""
    title = [f"<b>{escape(reply.title)}</b>"] if reply.title else []
    body = text_units(reply.text, TEXT_LIMIT) + [link_html(link) for link in resolved(reply.links, base)]
    markup = keyboard(reply.buttons)
    if reply.chart is not None:
        return _with_chart(reply.chart, title, body, markup)
    return _attach(pack(title + body, TEXT_LIMIT), markup)


def _with_chart(
    chart: AnyChart, head: list[str], body: list[str], markup: InlineKeyboardMarkup | None
) -> list[Piece]:
    """The whole reply as the photo's caption if it fits, else a short caption and the text after."""
    whole = pack(head + body, CAPTION_LIMIT)
    if not whole:
        return [PhotoPiece(chart, None, markup)]
    if len(whole) == 1 and utf16_len(whole[0]) <= CAPTION_LIMIT:
        return [PhotoPiece(chart, whole[0], markup)]
    caption = "\n".join(head)
    photo = PhotoPiece(chart, caption if 0 < utf16_len(caption) <= CAPTION_LIMIT else None)
    return [photo, *_attach(pack(body, TEXT_LIMIT), markup)]


def _attach(texts: list[str], markup: InlineKeyboardMarkup | None) -> list[Piece]:
    pieces: list[Piece] = [TextPiece(html) for html in texts]
    if markup is not None and pieces:
        pieces[-1] = TextPiece(texts[-1], markup)
    return pieces


def link_html(link: Link) -> str:
    """A link; the URL is escaped for the attribute, the title for the text (a link without a URL
    is its title as text)."""
    if not link.url:
        return escape(link.title)
    return f'<a href="{escape(link.url, quote=True)}">{escape(link.title)}</a>'


def text_units(text: str, limit: int) -> list[str]:
    """Each line of plain text escaped; a line too long for one message is cut into several."""
    units: list[str] = []
    for line in text.split("\n"):
        units += _cut(line, limit)
    return units


def _cut(line: str, limit: int) -> list[str]:
    escaped = escape(line)
    if utf16_len(escaped) <= limit:
        return [escaped]
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for char in line:  # cut the plain text, so no entity such as &amp; is ever split
        part = escape(char)
        width = utf16_len(part)
        if size + width > limit:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(part)
        size += width
    pieces.append("".join(current))
    return pieces


def pack(units: Sequence[str], limit: int) -> list[str]:
    """Join HTML lines into as few messages as fit `limit`, breaking only between lines.

    Each unit is complete markup (tags open and close within it), so every message is valid HTML.
    Blank lines at a break are dropped, and so are messages with nothing to show.
    """
    messages: list[str] = []
    current = ""
    for unit in units:
        candidate = f"{current}\n{unit}" if current else unit
        if current and utf16_len(candidate) > limit:
            messages.append(current)
            candidate = unit
        current = candidate
    messages.append(current)
    return [message.strip("\n") for message in messages if message.strip()]


def keyboard(buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
    """One row per choice; runs of navigation buttons share rows."""
    rows: list[list[InlineKeyboardButton]] = []
    previous_was_navigation = False
    for button in buttons:
        try:
            data = encode(button.payload)
        except UnknownPayload:  # a button kind this channel cannot carry yet: typed text still works
            log.error("no callback form for button payload %r; the button is left out", button.payload)
            continue
        key = InlineKeyboardButton(text=button.title, callback_data=data)
        navigation = button.role is ButtonRole.NAVIGATION
        if navigation and previous_was_navigation and len(rows[-1]) < NAVIGATION_PER_ROW:
            rows[-1].append(key)
        else:
            rows.append([key])
        previous_was_navigation = navigation
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def answered_html(question_html: str, answer_line: str) -> str | None:
    """A question message shown answered: its text and the answer; None if that is too long."""
    html = f"{question_html}\n\n<b>{escape(answer_line)}</b>"
    return html if utf16_len(html) <= TEXT_LIMIT else None
