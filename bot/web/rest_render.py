"""`Reply` values as Rasa REST messages: `{"recipient_id", "text", "buttons", "image"}`.

The text is light Markdown that is also safe to insert as HTML, because widgets for this protocol
do one or the other (or both: a Markdown renderer whose output goes into `innerHTML`):

- Framework and user text is escaped for Markdown first (`\\ * _ ` [ ]`, and a `#` or `=`/`-` run
  that would start a heading), then for HTML (`& < > " '` become character references). Markdown
  renderers turn the references back into the characters, so either way the reader sees the
  original text and no markup of anyone else's making.
- cxbot's own markup is only `**title**`, `- ` list lines, `[title](url)` links (http and https
  only) and hard line breaks (two spaces before a line break), so lines stay lines.
- Button titles are escaped for HTML only (widgets show them as plain labels); payloads are
  cxbot's own commands, sent back unchanged.

A chart becomes its own message, right after the text, with `image` set to the chart's absolute
URL (as Rasa's own output channels send images). An ANSWERED acknowledgement is a short
message of its own, marked with a check mark.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache
from typing import Any, NotRequired, TypedDict

from bot.links import resolved
from bot.web.public_url import chart_path
from dialogs.catalogue import DEFAULT_LOCALE
from dialogs.types import RESULT, Button, Link, Reply, ReplyKind, locale_of

TEXTS_CACHED = 4096
EMPTY_REPLY = "\u2026"
"""Widgets show an error for an empty list, so a silent turn still answers: an ellipsis, in no language."""

_INLINE_SPECIALS = re.compile(r"([\\`*_\[\]])")
_BLOCK_START = re.compile(r"^(\s*)(#|=+\s*$|-{3,}\s*$|\+\s)")
_URL_UNSAFE = {char: f"%{ord(char):02X}" for char in " ()<>\"'\\"}
"""Characters that would end a Markdown link destination or an HTML attribute."""


class RestButton(TypedDict):
    title: str
    payload: str


class RestMessage(TypedDict):
    recipient_id: str
    text: NotRequired[str]
    buttons: NotRequired[list[RestButton]]
    image: NotRequired[str]


@lru_cache(maxsize=TEXTS_CACHED)
def escape_text(text: str) -> str:
    """One line of someone else's text as Markdown that shows it literally and is HTML-safe."""
    escaped = _INLINE_SPECIALS.sub(r"\\\1", text)
    escaped = _BLOCK_START.sub(r"\1\\\2", escaped)
    return html.escape(escaped, quote=True)


@lru_cache(maxsize=TEXTS_CACHED)
def markdown_lines(text: str) -> str:
    """Escaped text with each line kept (hard breaks), blank lines as paragraph breaks. Remembered:
    most texts are a framework's questions, the same for everyone, and escaping them is slow."""
    # leading spaces are dropped: four of them would make a Markdown code block
    lines = [escape_text(line.strip()) for line in text.split("\n")]
    out = []
    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else ""
        out.append(f"{line}  " if line and following else line)
    return "\n".join(out).strip("\n")


def markdown_link(link: Link) -> str:
    """A Markdown link, or the escaped title alone when the URL is not http(s)."""
    title = escape_text(link.title)
    if not re.match(r"https?://", link.url, re.IGNORECASE):
        return title
    url = "".join(_URL_UNSAFE.get(char, char) for char in link.url)
    return f"[{title}]({html.escape(url, quote=True)})"


def reply_text(reply: Reply) -> str:
    """The message text of a reply: title, body, links."""
    if reply.kind is ReplyKind.ANSWERED:
        return f"\u2713 {escape_text(reply.text)}"
    parts = []
    if reply.title:
        parts.append(f"**{escape_text(reply.title)}**")
    if reply.text.strip():
        parts.append(markdown_lines(reply.text))
    if reply.links:
        parts.append("\n".join(f"- {markdown_link(link)}" for link in reply.links))
    return "\n\n".join(parts)


def rest_messages(reply: Reply, recipient: str, base: str, language: str = "") -> list[RestMessage]:
    """The messages of one reply: its text (with buttons), then its chart image if it has one (in
    `language`, when given: the chart's words are the framework's)."""
    message: RestMessage = {"recipient_id": recipient}
    if reply.links:
        reply = replace(reply, links=resolved(reply.links, base))
    if text := reply_text(reply):
        message["text"] = text
    if reply.buttons:
        message["buttons"] = rest_buttons(reply.buttons)
    messages = [message] if len(message) > 1 else []
    if reply.chart is not None:
        image = base + chart_path(reply.chart)
        if language and reply.chart.of == RESULT:  # the server's default language needs no parameter
            image += f"?lang={language}"
        messages.append({"recipient_id": recipient, "image": image})
    return messages


_buttons: dict[int, tuple[tuple[Button, ...], list[RestButton]]] = {}


def rest_buttons(buttons: tuple[Button, ...]) -> list[RestButton]:
    """Buttons as REST, remembered by the tuple's identity: a question's buttons are one tuple made
    once (`dialogs.render`), so most messages find theirs here. Callers must not change the list."""
    found = _buttons.get(id(buttons))
    if found is not None and found[0] is buttons:
        return found[1]
    made: list[RestButton] = [
        {"title": html.escape(button.title, quote=True), "payload": button.payload} for button in buttons
    ]
    if len(_buttons) >= TEXTS_CACHED:
        _buttons.clear()
    _buttons[id(buttons)] = (buttons, made)
    return made


def render_replies(
    replies: Iterable[Reply], recipient: str, base: str, default_language: str = DEFAULT_LOCALE
) -> list[RestMessage]:
    """Every reply as REST messages, in order; never an empty list.

    `base` is the server's address as the recipient reaches it: chart images and links to the
    server's own pages are made absolute with it; a chart's address names the replies' language
    unless it is the server's default.
    """
    language = locale_of(replies)
    language = "" if language == default_language else language
    messages = [message for reply in replies for message in rest_messages(reply, recipient, base, language)]
    return messages or [{"recipient_id": recipient, "text": EMPTY_REPLY}]


def as_json(messages: list[RestMessage]) -> list[dict[str, Any]]:
    """The messages as plain dicts (for JSON encoders typed on dicts)."""
    return [dict(message) for message in messages]
