"""Apply Alembic migrations on an open connection (run at every start-up)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK = 0x63786D6967726174
"""PostgreSQL advisory lock key ("cxmigrat") held while migrating: several processes starting at once
on one database migrate one after the other (the later ones find nothing left to do)."""


def alembic_config(conn: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def upgrade(conn: Connection) -> None:
    """Bring the schema to the latest revision; a no-op when it is already there."""
    if conn.dialect.name == "postgresql":  # released when the caller's transaction ends
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    command.upgrade(alembic_config(conn), "head")
