"""participant locale chosen: whether participants.locale was chosen with /language or hinted

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # a choice made with /language outlasts a channel's later hints; a hinted locale follows them
    with op.batch_alter_table("participants") as batch:
        batch.add_column(sa.Column("locale_chosen", sa.Boolean(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("participants") as batch:
        batch.drop_column("locale_chosen")
