"""calculators: a calculator run's inputs on its run, and the calculation shown with its result

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # nullable and without a default: adding them rewrites no row (assessment runs leave them NULL)
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("inputs", sa.JSON(none_as_null=True), nullable=True))
    with op.batch_alter_table("results") as batch:
        batch.add_column(sa.Column("calculation", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("results") as batch:
        batch.drop_column("calculation")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("inputs")
