"""The `cxbot` command: the command line is parsed here, and run by `bot.commands`.

This module imports almost nothing itself: the commands' modules take most of a second to import,
and are imported inside the guard that turns Ctrl-C into one quiet line (`cxbot: stopped`, or the
chat's goodbye) instead of a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

STOPPED = "cxbot: stopped"
"""What Ctrl-C prints, except in the chat (which says goodbye)."""


def main(argv: Sequence[str] | None = None) -> int:
    interrupted = STOPPED
    try:
        from bot import commands
        from bot.framework_cli import with_action

        args = _parser().parse_args(with_action(sys.argv[1:] if argv is None else argv))
        interrupted = getattr(args, "interrupted", STOPPED)
        return commands.run(args)
    except KeyboardInterrupt:
        after_echo = "\n" if sys.stderr.isatty() else ""  # the terminal has just echoed ^C
        print(after_echo + interrupted, file=sys.stderr)
        return 130


def port_number(text: str) -> int:
    """A `--port` value: a whole number from 0 (any free port) to 65535."""
    if not (text.isascii() and text.isdigit() and int(text) <= 65535):
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number: use 0 to 65535")
    return int(text)


def version() -> str:
    """cxbot's version, from the installed package's metadata."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("cxbot")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "(not installed)"


def _parser() -> argparse.ArgumentParser:
    from bot import commands
    from bot.campaign_cli import add_commands as add_campaign_commands
    from bot.db_cli import add_commands as add_db_commands
    from bot.framework_cli import add_commands as add_framework_commands
    from bot.terminal import GOODBYE

    parser = argparse.ArgumentParser(prog="cxbot", description="Maturity self-assessments as a chat.")
    parser.add_argument("--version", action="version", version=f"cxbot {version()}")
    subcommands = parser.add_subparsers(required=True, metavar="COMMAND")

    chat = subcommands.add_parser("chat", help="chat with the bot in this terminal")
    chat.add_argument("--framework", metavar="ID", help="start (or resume) this assessment straight away")
    chat.add_argument("--user", metavar="NAME", help="who you are (default: your login name)")
    chat.add_argument(
        "--language", metavar="TAG", help="the language you speak, such as pt-BR (/language changes it later)"
    )
    chat.set_defaults(func=commands.chat, interrupted=GOODBYE)

    serve = subcommands.add_parser("serve", help="run the HTTP server (web chat, webhook, Telegram)")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=port_number, help="port to listen on (default 8080; 0: any free port)")
    serve.set_defaults(func=commands.serve)

    add_campaign_commands(subcommands)
    add_db_commands(subcommands)

    add_framework_commands(subcommands)
    return parser


if __name__ == "__main__":
    sys.exit(main())
