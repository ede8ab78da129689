"""The terminal channel: a chat on stdin/stdout, interactive or piped (one message a line)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import textwrap
import threading
from collections.abc import Callable
from typing import TextIO

from bot.links import resolved
from bot.log_privacy import log_failure
from dialogs.catalogue import Catalogue, catalogue
from dialogs.engine import Engine
from dialogs.types import Button, Inbound, Reply, ReplyKind, locale_of

CHANNEL = "terminal"
GOODBYE = "Bye. Your answers are saved."
"""The last line of an interactive chat, however it ends (Ctrl-D, Ctrl-C)."""
log = logging.getLogger(__name__)


def render(reply: Reply, base: str | None = None, cat: Catalogue | None = None) -> str:
    """A reply as plain text; buttons become a line of options that can be typed. `base` is the
    server's address, for links to its pages (the dashboard); `cat`, the words of the reply's
    language (English without)."""
    cat = cat or catalogue()
    if reply.kind is ReplyKind.ANSWERED:
        return f"  \u2713 {reply.text}"
    parts = []
    if reply.title:
        parts.append(f"== {reply.title} ==")
    parts.append(reply.text)
    if reply.chart is not None:
        parts.append(cat.text("terminal_chart"))
    parts += [
        f"  {link.title}: {link.url}" if link.url else f"  {link.title}"
        for link in resolved(reply.links, base)
    ]
    if reply.buttons:
        parts.append(cat.text("terminal_options", options=" | ".join(f"[{b.title}]" for b in reply.buttons)))
    return "\n".join(parts)


def wrapped(text: str, width: int) -> str:
    """Each line wrapped at `width`, continued with an indent. Lines break only at spaces: never at
    a hyphen or inside a long word, so an address (full of hyphens, often wider than the terminal)
    stays whole and can be copied or clicked."""
    return "\n".join(
        textwrap.fill(line, width, subsequent_indent="  ", break_on_hyphens=False, break_long_words=False)
        or line
        for line in text.split("\n")
    )


def payload_for(typed: str, buttons: tuple[Button, ...]) -> str:
    """Typing a button's title (any case) sends its payload, as pressing it would."""
    wanted = typed.strip().lower()
    return next((b.payload for b in buttons if b.title.lower() == wanted), typed)


class TerminalChat:
    """One person chatting with the engine through text streams."""

    def __init__(
        self,
        engine: Engine,
        user: str,
        out: TextIO = sys.stdout,
        width: int | None = None,
        base: str | None = None,
        language: str | None = None,
    ) -> None:
        self.engine = engine
        self.base = base
        """Where `cxbot serve` is reached, for links to its pages."""
        self.user = user
        self.out = out
        self.width = width
        """Wrap long lines at this width (interactive use); None leaves lines whole for scripts."""
        self.buttons: tuple[Button, ...] = ()
        self.language = language
        """`cxbot chat --language`: the person's language, as a hint (as Telegram's app gives one)."""

    async def send(self, text: str) -> None:
        """Send one line as the user and print the replies."""
        payload = payload_for(text, self.buttons)
        inbound = Inbound(CHANNEL, self.user, payload, display_name=self.user, language=self.language)
        try:
            replies = await self.engine.handle(inbound)
        except Exception as error:  # a bug or a database fault: say so, keep chatting (nothing half-stored)
            log_failure(log, "could not handle a message", error)
            print(self.engine.catalogue_for(self.language).text("internal_error"), end="\n\n", file=self.out)
            return
        cat = self.engine.catalogue_for(locale_of(replies) or self.language)
        for reply in replies:
            print(self._wrap(render(reply, self.base, cat)), end="\n\n", file=self.out)
            if reply.buttons:
                self.buttons = reply.buttons
        self.out.flush()

    def _wrap(self, text: str) -> str:
        return wrapped(text, self.width) if self.width else text

    async def run(self, first: str | None, read_line: Callable[[], str], prompt: str) -> None:
        """Send `first` (if any), then each line read until end of input."""
        await self.send(first or "/start")
        lines = input_lines(read_line)
        while True:
            if prompt:
                print(prompt, end="", file=self.out, flush=True)
            line = await lines.get()
            if not line:
                break
            if line.strip():
                await self.send(line.rstrip("\n"))


def input_lines(read_line: Callable[[], str]) -> asyncio.Queue[str]:
    """Lines as they are read, "" at the end. The reader is a daemon thread, not the executor: a
    blocked read must not keep Ctrl-C from ending the program."""
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str] = asyncio.Queue()

    def pump() -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed first: nobody is reading
            while True:
                line = read_line()
                loop.call_soon_threadsafe(lines.put_nowait, line)
                if not line:
                    return

    threading.Thread(target=pump, name="cxbot-input", daemon=True).start()
    return lines
