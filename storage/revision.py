"""Which schema revision a database is at, read without changing it (`cxbot db current`, export)."""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection

from storage.migrate import alembic_config


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    """The revision this cxbot's migrations end at."""
    heads = _scripts().get_heads()
    if len(heads) != 1:  # two migrations with the same parent: a mistake to fix before release
        raise RuntimeError(f"the migrations have {len(heads)} heads ({', '.join(heads)}); they must have one")
    return heads[0]


def current(conn: Connection) -> str | None:
    """The revision the database is at; None before the first migration."""
    return MigrationContext.configure(conn).get_current_revision()


def is_known(revision: str) -> bool:
    """Whether this cxbot's migrations include the revision (a newer cxbot's are unknown to it)."""
    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:
        return False
