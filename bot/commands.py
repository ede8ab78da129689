"""What the `cxbot` commands do, and how their errors are told: one line each, exit status 2.

`bot.cli` imports this module (and through it the engine, storage and frameworks, most of a second)
only inside its Ctrl-C guard, so a Ctrl-C while cxbot starts is as quiet as one later.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import io
import os
import shutil
import sys

from pydantic import ValidationError

from bot.app import running_engine
from bot.settings import Settings
from bot.terminal import GOODBYE, TerminalChat
from dialogs.engine import MAX_SENDER
from dialogs.languages import normalized
from frameworks.loader import FrameworkError
from storage.store import DatabaseURLError, StoreUnavailable


def run(args: argparse.Namespace) -> int:
    """Run the parsed command; the exit status. A problem with the setup is one line on stderr."""
    try:
        return int(args.func(args))
    except (FrameworkError, DatabaseURLError, StoreUnavailable) as error:
        print(f"cxbot: {error}", file=sys.stderr)
        return 2
    except ValidationError as error:  # a CXBOT_* setting of the wrong kind
        for problem in error.errors():
            name = "CXBOT_" + "_".join(map(str, problem["loc"])).upper()
            print(f"cxbot: invalid setting {name}: {problem['msg']}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader of a piped session went away
        return 0


def chat(args: argparse.Namespace) -> int:
    """`cxbot chat`: interactive in a terminal, else one message a line from stdin."""
    settings = Settings()
    # a name given in bytes that are not UTF-8 is kept readable rather than refused by the database
    user = os.fsencode(args.user or getpass.getuser()).decode("utf-8", "replace").replace("\x00", "")
    if not 0 < len(user) <= MAX_SENDER:
        print(f"cxbot: --user must be 1 to {MAX_SENDER} characters", file=sys.stderr)
        return 2
    language = args.language
    if language is not None and normalized(language) is None:
        print(f"cxbot: --language {language!r} is not a language tag: use one such as pt-BR", file=sys.stderr)
        return 2
    first = f"/start {args.framework}" if args.framework else "/start"
    interactive = sys.stdin.isatty()
    if isinstance(sys.stdin, io.TextIOWrapper):  # bytes that are not UTF-8 become U+FFFD, not a crash
        sys.stdin.reconfigure(errors="replace")
    goodbye = GOODBYE

    async def talk() -> None:
        nonlocal goodbye
        async with running_engine(settings) as engine:
            words = engine.catalogue_for(language)
            goodbye = words.text("terminal_goodbye")
            if language is not None and engine.languages.match(language) is None:
                spoken = ", ".join(engine.languages.locales)
                print(f"cxbot: no messages in {language} yet ({spoken} exist)", file=sys.stderr)
            if interactive:
                print(words.text("terminal_welcome") + "\n")
            width = min(shutil.get_terminal_size().columns, 100) if interactive else None
            base = settings.public_url or f"http://{settings.host}:{settings.port}"
            await TerminalChat(engine, user, width=width, base=base, language=language).run(
                first, sys.stdin.readline, "> " if interactive else ""
            )

    asyncio.run(talk())
    if interactive:  # Ctrl-D: end the prompt's line, and say the answers are kept
        print(f"\n{goodbye}")
    return 0


def serve(args: argparse.Namespace) -> int:
    """`cxbot serve`, with `--host` and `--port` over the settings."""
    from bot.server import serve

    settings = Settings()
    updates = {k: v for k, v in {"host": args.host, "port": args.port}.items() if v is not None}
    return serve(settings.model_copy(update=updates))
