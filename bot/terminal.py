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
from dialogs.engine import Engine
from dialogs.types import Button, Inbound, Reply, ReplyKind

CHANNEL = "terminal"
GOODBYE = "Bye. Your answers are saved."
"""The last line of an interactive chat, however it ends (Ctrl-D, Ctrl-C)."""
log = logging.getLogger(__name__)


def render(reply: Reply, base: str | None = None) -> str:
    """A reply as plain text; buttons become a line of options that can be typed. `base` is the
    server's address, for links to its pages (the dashboard)."""
    if reply.kind is ReplyKind.ANSWERED:
        return f"  \u2713 {reply.text}"
    parts = []
    if reply.title:
        parts.append(f"== {reply.title} ==")
    parts.append(reply.text)
    if reply.chart is not None:
        parts.append("(The chart of these scores is shown in the web and Telegram chats.)")
    parts += [
        f"  {link.title}: {link.url}" if link.url else f"  {link.title}"
        for link in resolved(reply.links, base)
    ]
    if reply.buttons:
        parts.append("Options: " + " | ".join(f"[{button.title}]" for button in reply.buttons))
    return "\n".join(parts)


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
    ) -> None:
        self.engine = engine
        self.base = base
        """Where `cxbot serve` is reached, for links to its pages."""
        self.user = user
        self.out = out
        self.width = width
        """Wrap long lines at this width (interactive use); None leaves lines whole for scripts."""
        self.buttons: tuple[Button, ...] = ()

    async def send(self, text: str) -> None:
        """Send one line as the user and print the replies."""
        inbound = Inbound(CHANNEL, self.user, payload_for(text, self.buttons), display_name=self.user)
        try:
            replies = await self.engine.handle(inbound)
        except Exception as error:  # a bug or a database fault: say so, keep chatting (nothing half-stored)
            log_failure(log, "could not handle a message", error)
            print(self.engine.context.cat.text("internal_error"), end="\n\n", file=self.out)
            return
        for reply in replies:
            print(self._wrap(render(reply, self.base)), end="\n\n", file=self.out)
            if reply.buttons:
                self.buttons = reply.buttons
        self.out.flush()

    def _wrap(self, text: str) -> str:
        if not self.width:
            return text
        return "\n".join(
            textwrap.fill(line, self.width, subsequent_indent="  ") or line for line in text.split("\n")
        )

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
