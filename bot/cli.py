"""The `cxbot` command."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import io
import os
import shutil
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from bot.app import running_engine
from bot.campaign_cli import add_commands as add_campaign_commands
from bot.settings import Settings
from bot.terminal import TerminalChat
from dialogs.engine import MAX_SENDER
from frameworks.loader import FrameworkError, load_framework
from frameworks.registry import FrameworkRegistry
from storage.store import DatabaseURLError, StoreUnavailable


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
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
    except KeyboardInterrupt:
        print("\nBye. Your answers are saved.", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cxbot", description="Maturity self-assessments as a chat.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    chat = commands.add_parser("chat", help="chat with the bot in this terminal")
    chat.add_argument("--framework", metavar="ID", help="start (or resume) this assessment straight away")
    chat.add_argument("--user", metavar="NAME", help="who you are (default: your login name)")
    chat.set_defaults(func=_chat)

    serve = commands.add_parser("serve", help="run the HTTP server (web chat, webhook, Telegram)")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8080)")
    serve.set_defaults(func=_serve)

    add_campaign_commands(commands)

    check = commands.add_parser("frameworks", help="list the assessments, or check framework files")
    check.add_argument("files", nargs="*", metavar="FILE", help="framework files to validate")
    check.set_defaults(func=_frameworks)
    return parser


def _chat(args: argparse.Namespace) -> int:
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

    async def chat() -> None:
        async with running_engine(settings) as engine:
            width = min(shutil.get_terminal_size().columns, 100) if interactive else None
            base = settings.public_url or f"http://{settings.host}:{settings.port}"
            await TerminalChat(engine, user, width=width, base=base).run(
                first, sys.stdin.readline, "> " if interactive else ""
            )

    asyncio.run(chat())
    return 0


def _serve(args: argparse.Namespace) -> int:
    from bot.server import serve

    settings = Settings()
    updates = {k: v for k, v in {"host": args.host, "port": args.port}.items() if v is not None}
    return serve(settings.model_copy(update=updates))


def _frameworks(args: argparse.Namespace) -> int:
    if args.files:
        from pathlib import Path

        for name in args.files:
            framework = load_framework(Path(name))
            count = len(framework.questions)
            print(f"{name}: OK ({framework.id}, version {framework.version}, {count} questions)")
        return 0
    for framework in FrameworkRegistry.from_directories(Settings().framework_dirs()).all():
        print(f"{framework.id}\t{framework.version}\t{framework.title}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
