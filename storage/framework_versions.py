"""The content of every framework version the service has offered (table `framework_versions`).

Each process records the versions it loaded when it starts, before it serves anyone, so every run
it opens has its version's content stored: a run, result or campaign round of a version whose file
has since changed (or gone) is asked, scored and shown with the content it started on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.executor import Executor, on_executor
from storage.tables import framework_versions as versions


@dataclass(frozen=True, slots=True)
class OfferedVersion:
    framework_id: str
    version: str
    content: dict[str, Any]


CONTENT = select(versions.c.content).where(
    versions.c.framework_id == bindparam("framework_id"), versions.c.version == bindparam("version")
)


def record_versions(
    conn: Connection, offered: Iterable[OfferedVersion], now: datetime
) -> list[OfferedVersion]:
    """Store each version unless it is stored already; the ones that were new. Several processes
    starting together may record the same version: the database keeps the first, and none fails."""
    insert = postgres_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = insert(versions).on_conflict_do_nothing(index_elements=["framework_id", "version"])
    new = []
    for item in offered:
        row = {"framework_id": item.framework_id, "version": item.version, "content": item.content}
        if conn.execute(statement, {**row, "first_seen_at": now}).rowcount:
            new.append(item)
    return new


@on_executor
def stored_content(db: Executor, framework_id: str, version: str) -> dict[str, Any] | None:
    """The content of one stored version, or None if it was never recorded."""
    found: dict[str, Any] | None = db.scalar_or_none(
        CONTENT, {"framework_id": framework_id, "version": version}
    )
    return found
