"""The database from a shell: `cxbot db upgrade|current|backup`, `cxbot export FILE`, `cxbot import FILE`
(their arguments are in `bot.db_cli`).

They act on `CXBOT_DATABASE_URL`, like `cxbot serve`. Exports and backups hold every answer and the
service's secrets, so the files are made readable by their owner only, and never overwrite a file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import io
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from functools import partial, wraps
from pathlib import Path
from typing import IO, Any, TextIO, cast

from sqlalchemy.engine import make_url

from bot.settings import Settings
from storage import revision
from storage.direct import run_direct, sqlite_file
from storage.sqlite_store import BUSY_WAIT_MS
from storage.store import StoreUnavailable, open_store
from storage.transfer import TransferError, check_revision, export_database, import_database, read_header

STDIO = "-"
GZIP_MAGIC = b"\x1f\x8b"
Command = Callable[[argparse.Namespace], int]


def _one_line(command: Command) -> Command:
    """A `TransferError` (a refused export, import or backup: nothing was changed) is one line on
    stderr and exit status 1; problems with the setup itself (settings, an unreachable database) are
    exit status 2, as for every command (`bot.commands`)."""

    @wraps(command)
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except TransferError as error:
            print(f"cxbot: {error}", file=sys.stderr)
            return 1

    return run


def _shown(url: str) -> str:
    """The database URL as it may be printed: without its password."""
    return make_url(url).render_as_string(hide_password=True)


async def _revision_of(url: str) -> str | None:
    """The database's schema revision; None for a SQLite file not made yet."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        return None
    return await run_direct(url, revision.current)


def upgrade(args: argparse.Namespace) -> int:
    """`cxbot db upgrade`: bring the schema to the latest revision, as `cxbot serve` does at start."""
    settings = Settings()

    async def migrate() -> tuple[str | None, str | None]:
        before = await _revision_of(settings.database_url)
        store = await open_store(settings.database_url, synchronous=settings.sqlite_synchronous)
        await store.close()
        return before, await _revision_of(settings.database_url)

    before, after = asyncio.run(migrate())
    where = _shown(settings.database_url)
    if before == after:
        print(f"{where}: at revision {after}, the latest; nothing to do")
    else:
        print(f"{where}: migrated from revision {before or '(none)'} to {after}, the latest")
    return 0


def current(args: argparse.Namespace) -> int:
    """`cxbot db current`: the revision, and whether it is the latest (exit status 0) or not (1)."""
    settings = Settings()
    path = sqlite_file(settings.database_url)
    if path is not None and not path.exists():
        print(f"no database at {path} yet (cxbot db upgrade, or cxbot serve, makes it)")
        return 1
    at, head = asyncio.run(_revision_of(settings.database_url)), revision.head()
    if at == head:
        print(f"{at} (the latest)")
        return 0
    if at is None:
        print(f"no schema yet; the latest revision is {head} (cxbot db upgrade, or cxbot serve, makes it)")
    elif revision.is_known(at):
        print(f"{at} (behind: the latest is {head}; cxbot db upgrade applies it)")
    else:
        print(f"{at} (not a revision this cxbot knows: a newer version of cxbot migrated this database)")
    return 1


@_one_line
def backup(args: argparse.Namespace) -> int:
    """`cxbot db backup FILE`: SQLite's online backup, a consistent copy while the server writes."""
    settings = Settings()
    path = sqlite_file(settings.database_url)
    if path is None:
        raise TransferError(
            "cxbot db backup copies a SQLite database; back up PostgreSQL with pg_dump (docs/operations.md)"
        )
    if not path.exists():
        raise StoreUnavailable(f"there is no database at {path}")
    target = Path(args.file)
    with _new_file(target) as (partial_path, _):
        source = sqlite3.connect(path, timeout=BUSY_WAIT_MS / 1000)
        copy = sqlite3.connect(partial_path)
        try:
            source.backup(copy)  # all pages in one step: one snapshot, and writers go on (WAL)
            checked = copy.execute("PRAGMA quick_check").fetchone()[0]
            at = _sqlite_revision(copy)
        finally:
            copy.close()
            source.close()
        if checked != "ok":
            raise TransferError(f"the copy failed its check ({checked}); {path} is unchanged")
    size = target.stat().st_size
    print(f"backed up {path} to {target} ({size:,} bytes, schema revision {at or '(none)'})")
    return 0


def _sqlite_revision(conn: sqlite3.Connection) -> str | None:
    try:
        found = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:  # no such table: never migrated
        return None
    return str(found[0]) if found else None


@_one_line
def export(args: argparse.Namespace) -> int:
    """`cxbot export FILE`: every table of the database, from one snapshot, to a new file."""
    settings = Settings()
    with _output(args.file) as out:
        summary = asyncio.run(run_direct(settings.database_url, partial(export_database, out=out)))
    where = "standard output" if args.file == STDIO else args.file
    print(
        f"exported {summary.total:,} rows of {len(summary.rows)} tables (schema revision {summary.revision})"
        f" from {_shown(settings.database_url)} to {where}",
        file=sys.stderr,  # standard output may be the export itself
    )
    return 0


@_one_line
def import_file(args: argparse.Namespace) -> int:
    """`cxbot import FILE`: migrate the database, then load the export in one transaction if the
    database is empty; nothing is changed otherwise."""
    settings = Settings()
    url = settings.database_url

    async def load(lines: Iterator[str]) -> Any:
        store = await open_store(url, synchronous=settings.sqlite_synchronous)
        await store.close()
        job = partial(import_database, lines=lines)
        return await run_direct(url, job, write=True, synchronous=settings.sqlite_synchronous)

    with _nothing_imported(), _input(args.file) as text:
        first = text.readline()
        # before the database is made or migrated: is this an export, and of this schema?
        check_revision(read_header(first))
        summary = asyncio.run(load(_chain(first, text)))
    print(
        f"imported {summary.total:,} rows of {len(summary.rows)} tables (schema revision {summary.revision})"
        f" into {_shown(url)}",
        file=sys.stderr,
    )
    return 0


@contextlib.contextmanager
def _nothing_imported() -> Iterator[None]:
    """A refused import says that the database is as it was (the import is one transaction)."""
    try:
        yield
    except TransferError as error:
        raise TransferError(f"{error} (nothing was imported)") from None


def _chain(first: str, rest: TextIO) -> Iterator[str]:
    yield first
    for line in rest:  # noqa: UP028 - `yield from` would close `rest` with the generator, and twice
        yield line


@contextlib.contextmanager
def _new_file(target: Path) -> Iterator[tuple[Path, IO[bytes]]]:
    """A new file readable by its owner only, written under a temporary name and renamed to
    `target` when done (removed if anything fails), so a file at `target` is always complete."""
    if target.exists():
        raise TransferError(f"{target} exists: give a new file name (nothing is overwritten)")
    partial_path = target.with_name(f"{target.name}.partial")
    try:
        handle = os.fdopen(os.open(partial_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")
    except FileExistsError:
        raise TransferError(f"{partial_path} exists: another export or backup may be writing it") from None
    except OSError as error:
        raise TransferError(f"cannot write {target}: {error.strerror}") from None
    try:
        with handle:
            yield partial_path, handle
        partial_path.rename(target)
    except BaseException:
        partial_path.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def _output(name: str) -> Iterator[TextIO]:
    """Text to standard output, or to a new file (gzip-compressed if its name ends in .gz)."""
    if name == STDIO:
        yield sys.stdout
        sys.stdout.flush()
        return
    with _new_file(Path(name)) as (_, raw):
        binary: IO[bytes] = raw
        if name.endswith(".gz"):
            binary = cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="wb"))
        text = io.TextIOWrapper(binary, encoding="utf-8", newline="\n")
        yield text
        text.flush()
        text.detach()
        if binary is not raw:
            binary.close()  # writes gzip's trailer (the file itself is closed and renamed after)


@contextlib.contextmanager
def _input(name: str) -> Iterator[TextIO]:
    """The text of standard input or a file, decompressed if it is gzip."""
    try:
        raw: IO[bytes] = sys.stdin.buffer if name == STDIO else open(name, "rb")  # noqa: SIM115
    except OSError as error:
        raise TransferError(f"cannot read {name}: {error.strerror}") from None
    try:
        start = raw.peek(2)[:2] if isinstance(raw, io.BufferedReader) else b""
        binary: IO[bytes] = cast(IO[bytes], gzip.GzipFile(fileobj=raw)) if start == GZIP_MAGIC else raw
        text = io.TextIOWrapper(binary, encoding="utf-8")
        try:
            yield text
        except EOFError:  # gzip's data ends before its end marker
            raise TransferError(f"{name} was cut short (its compressed data ends early)") from None
        except (UnicodeDecodeError, gzip.BadGzipFile) as error:
            raise TransferError(f"{name} cannot be read as an export: {error}") from None
        finally:
            text.detach()
    finally:
        if name != STDIO:
            raw.close()
