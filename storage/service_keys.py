"""Secret keys the service makes for itself, kept in `service_facts` so every process and every
restart uses the same one (for example the key that tags the web chat's visitor ids)."""

from __future__ import annotations

import secrets

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.tables import service_facts

KEY_BYTES = 32
KEY_PREFIX = "key:"
"""Names of keys start with it; nothing else in `service_facts` does."""


def service_key(conn: Connection, name: str) -> bytes:
    """The key stored under `name`, made at random the first time it is asked for. Two processes
    starting together both try to make it; the database keeps the first, and both read that one."""
    if not name.startswith(KEY_PREFIX):
        raise ValueError(f"a service key's name starts with {KEY_PREFIX!r}")
    insert = postgres_insert if conn.dialect.name == "postgresql" else sqlite_insert
    fresh = secrets.token_hex(KEY_BYTES)
    conn.execute(insert(service_facts).values(name=name, value=fresh).on_conflict_do_nothing())
    stored = conn.execute(select(service_facts.c.value).where(service_facts.c.name == name)).scalar_one()
    return bytes.fromhex(stored)
