"""campaigns: rounds, groups, staff, members, nudges, schedule, tallies

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 20:07:44.948662
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("framework_id", sa.String(length=48), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("min_group", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), server_default="1", nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("max_reminders", sa.Integer(), server_default="3", nullable=False),
        sa.Column("reminder_gap_hours", sa.Integer(), server_default="48", nullable=False),
        sa.Column("dashboard_token", sa.String(length=64), nullable=False),
        sa.Column("pseudonym_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("code", name=op.f("uq_campaigns_code")),
        sa.UniqueConstraint("dashboard_token", name=op.f("uq_campaigns_dashboard_token")),
    )
    op.create_table(
        "service_facts",
        sa.Column("name", sa.String(length=48), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_service_facts")),
    )
    op.create_table(
        "campaign_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_groups_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_groups")),
        sa.UniqueConstraint("campaign_id", "position", name="uq_campaign_groups_campaign_id_position"),
    )
    op.create_table(
        "campaign_invitations",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_invitations_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_campaign_invitations")),
    )
    op.create_table(
        "campaign_nudges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_nudges_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_campaign_nudges_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_nudges")),
    )
    with op.batch_alter_table("campaign_nudges", schema=None) as batch_op:
        batch_op.create_index(
            "ix_campaign_nudges_campaign", ["campaign_id", "round", "participant_id"], unique=False
        )
        batch_op.create_index(
            "ix_campaign_nudges_participant_status", ["participant_id", "status"], unique=False
        )
        batch_op.create_index("ix_campaign_nudges_status", ["status", "created_at"], unique=False)

    op.create_table(
        "campaign_rounds",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("framework_version", sa.String(length=16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_rounds_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", "number", name=op.f("pk_campaign_rounds")),
    )
    op.create_table(
        "campaign_schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("every_hours", sa.Integer(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_schedule_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_schedule")),
    )
    with op.batch_alter_table("campaign_schedule", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_schedule_due", ["done_at", "due_at"], unique=False)

    op.create_table(
        "campaign_staff",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_staff_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_campaign_staff_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", "participant_id", name=op.f("pk_campaign_staff")),
    )
    with op.batch_alter_table("campaign_staff", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_staff_participant", ["participant_id"], unique=False)

    op.create_table(
        "campaign_tallies",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("framework_version", sa.String(length=16), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("part", sa.String(length=48), nullable=False),
        sa.Column("a", sa.Integer(), nullable=False),
        sa.Column("b", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_tallies_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "campaign_id",
            "round",
            "framework_version",
            "group_id",
            "kind",
            "part",
            "a",
            "b",
            name=op.f("pk_campaign_tallies"),
        ),
    )
    op.create_table(
        "campaign_members",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("progress", sa.String(length=16), nullable=False),
        sa.Column("progress_round", sa.Integer(), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("moved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_members_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["campaign_groups.id"],
            name=op.f("fk_campaign_members_group_id_campaign_groups"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_campaign_members_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", "participant_id", name=op.f("pk_campaign_members")),
    )
    with op.batch_alter_table("campaign_members", schema=None) as batch_op:
        batch_op.create_index(
            "ix_campaign_members_progress", ["campaign_id", "progress_round", "progress"], unique=False
        )

    op.create_table(
        "tallied_runs",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("framework_version", sa.String(length=16), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_tallied_runs_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_tallied_runs")),
    )
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("joining_campaign", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("callback_url", sa.String(length=2048), nullable=True))

    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index("ix_runs_campaign", ["campaign_id", "round", "status"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index("ix_runs_campaign")

    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_column("callback_url")
        batch_op.drop_column("joining_campaign")

    op.drop_table("tallied_runs")
    with op.batch_alter_table("campaign_members", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_members_progress")

    op.drop_table("campaign_members")
    op.drop_table("campaign_tallies")
    with op.batch_alter_table("campaign_staff", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_staff_participant")

    op.drop_table("campaign_staff")
    with op.batch_alter_table("campaign_schedule", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_schedule_due")

    op.drop_table("campaign_schedule")
    op.drop_table("campaign_rounds")
    with op.batch_alter_table("campaign_nudges", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_nudges_status")
        batch_op.drop_index("ix_campaign_nudges_participant_status")
        batch_op.drop_index("ix_campaign_nudges_campaign")

    op.drop_table("campaign_nudges")
    op.drop_table("campaign_invitations")
    op.drop_table("campaign_groups")
    op.drop_table("service_facts")
    op.drop_table("campaigns")
