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
from pathlib import Path

from pydantic import ValidationError

from bot.app import running_engine
from bot.settings import Settings
from bot.terminal import GOODBYE, TerminalChat
from dialogs.engine import MAX_SENDER
from frameworks.loader import FrameworkError, load_framework
from frameworks.registry import FrameworkRegistry
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
    first = f"/start {args.framework}" if args.framework else "/start"
    interactive = sys.stdin.isatty()
    if isinstance(sys.stdin, io.TextIOWrapper):  # bytes that are not UTF-8 become U+FFFD, not a crash
        sys.stdin.reconfigure(errors="replace")
    if interactive:
        print("cxbot terminal chat. Type /help for commands; Ctrl-D to leave (your answers are saved).\n")

    async def talk() -> None:
        async with running_engine(settings) as engine:
            width = min(shutil.get_terminal_size().columns, 100) if interactive else None
            base = settings.public_url or f"http://{settings.host}:{settings.port}"
            await TerminalChat(engine, user, width=width, base=base).run(
                first, sys.stdin.readline, "> " if interactive else ""
            )

    asyncio.run(talk())
    if interactive:  # Ctrl-D: end the prompt's line, and say the answers are kept
        print(f"\n{GOODBYE}")
    return 0


def serve(args: argparse.Namespace) -> int:
    """`cxbot serve`, with `--host` and `--port` over the settings."""
    from bot.server import serve

    settings = Settings()
    updates = {k: v for k, v in {"host": args.host, "port": args.port}.items() if v is not None}
    return serve(settings.model_copy(update=updates))


def frameworks(args: argparse.Namespace) -> int:
    """`cxbot frameworks`: list the assessments, or check the framework files given."""
    if args.files:
        for name in args.files:
            framework = load_framework(Path(name))
            count = len(framework.questions)
            print(f"{name}: OK ({framework.id}, version {framework.version}, {count} questions)")
        return 0
    for framework in FrameworkRegistry.from_directories(Settings().framework_dirs()).all():
        print(f"{framework.id}\t{framework.version}\t{framework.title}")
    return 0
