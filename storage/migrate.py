"""Apply Alembic migrations on an open connection (run at every start-up)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(conn: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def upgrade(conn: Connection) -> None:
    """Bring the schema to the latest revision; a no-op when it is already there."""
    command.upgrade(alembic_config(conn), "head")
