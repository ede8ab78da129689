"""published batches: a finished campaign run waits in `tallied_runs` until enough of its group have
finished, then enters the tallies with them

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tallied_runs") as batch:
        batch.add_column(sa.Column("batch", sa.Integer(), nullable=True))
        batch.create_index("ix_tallied_runs_pending", ["campaign_id", "round", "batch"], unique=False)
    # every run tallied so far is already in the tallies (it was counted as it finished): published
    op.execute("UPDATE tallied_runs SET batch = 0")


def downgrade() -> None:
    # runs still pending were never counted: count them now, as the tallies did before batches
    # (done in SQL over their JSON rows would need each dialect's JSON functions; downgrades are rare
    # and small, so they are counted here)
    conn = op.get_bind()
    tallied = sa.table(
        "tallied_runs",
        sa.column("campaign_id"),
        sa.column("round"),
        sa.column("framework_version"),
        sa.column("group_id"),
        sa.column("rows", sa.JSON()),
        sa.column("batch"),
    )
    tallies = sa.table(
        "campaign_tallies",
        *(sa.column(name) for name in ("campaign_id", "round", "framework_version", "group_id")),
        *(sa.column(name) for name in ("kind", "part", "a", "b", "count")),
    )
    for row in conn.execute(sa.select(tallied).where(tallied.c.batch.is_(None))).all():
        key = {
            "campaign_id": row.campaign_id,
            "round": row.round,
            "framework_version": row.framework_version,
            "group_id": row.group_id,
        }
        for kind, part, a, b in row.rows:
            where = [tallies.c[name] == value for name, value in {**key, "kind": kind, "part": part}.items()]
            where += [tallies.c.a == a, tallies.c.b == b]
            if not conn.execute(tallies.update().where(*where).values(count=tallies.c.count + 1)).rowcount:
                values = {**key, "kind": kind, "part": part, "a": a, "b": b, "count": 1}
                conn.execute(tallies.insert().values(values))
    with op.batch_alter_table("tallied_runs") as batch:
        batch.drop_index("ix_tallied_runs_pending")
        batch.drop_column("batch")
