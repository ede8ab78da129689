"""The `cxbot db|export|import` command line: its arguments only. What the commands do is in
`bot.db_commands`, imported when one of them runs, so that `cxbot chat` and `cxbot serve` do not
load Alembic and the export code at start-up (a third of a second)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

Command = Callable[[argparse.Namespace], int]


def _deferred(name: str) -> Command:
    """The command `name` of `bot.db_commands`, imported when it is run."""

    def run(args: argparse.Namespace) -> int:
        from bot import db_commands

        command: Command = getattr(db_commands, name)
        return command(args)

    return run


def add_commands(commands: Any) -> None:
    """Add `db`, `export` and `import` to the `cxbot` parser."""
    db = commands.add_parser("db", help="the database: migrate it, see its schema revision, back it up")
    actions = db.add_subparsers(required=True, metavar="ACTION")
    upgrade_ = actions.add_parser("upgrade", help="apply the migrations (cxbot serve also does, at start)")
    upgrade_.set_defaults(func=_deferred("upgrade"))
    current_ = actions.add_parser(
        "current", help="the schema revision; exit status 1 unless it is the latest"
    )
    current_.set_defaults(func=_deferred("current"))
    backup_ = actions.add_parser("backup", help="copy a SQLite database, even while cxbot serves from it")
    backup_.add_argument("file", metavar="FILE", help="the copy to make (a new file)")
    backup_.set_defaults(func=_deferred("backup"))

    export_ = commands.add_parser("export", help="write everything in the database to FILE (JSON Lines)")
    export_.add_argument("file", metavar="FILE", help="a new file (FILE.gz: compressed; -: standard output)")
    export_.set_defaults(func=_deferred("export"))
    import_ = commands.add_parser("import", help="load an export into a new, empty database")
    import_.add_argument("file", metavar="FILE", help="what `cxbot export` wrote (-: standard input)")
    import_.set_defaults(func=_deferred("import_file"))
