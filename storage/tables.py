"""The schema as SQLAlchemy Core tables. Alembic migrations create it; this is what queries use."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

participants = Table(
    "participants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", String(32), nullable=False),
    Column("external_id", String(128), nullable=False),
    Column("display_name", String(128)),
    Column("locale", String(16)),
    Column("state", String(32), nullable=False, server_default="idle"),
    Column("active_run", Integer),
    Column("inactive", Boolean, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("channel", "external_id", name="uq_participants_channel_external_id"),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("participant_id", ForeignKey("participants.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("framework_id", String(48), nullable=False),
    Column("framework_version", String(16), nullable=False),
    Column("campaign_id", Integer),
    Column("round", Integer),
    Column("status", String(16), nullable=False),
    Column("cursor", Integer, nullable=False, server_default="0"),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    UniqueConstraint("participant_id", "number", name="uq_runs_participant_id_number"),
    Index("ix_runs_participant_status", "participant_id", "status"),
    Index("ix_runs_framework_status", "framework_id", "framework_version", "status"),
)

answers = Table(
    "answers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("question_id", String(48), nullable=False),
    Column("dimension_id", String(48), nullable=False),
    Column("framework_version", String(16), nullable=False),
    Column("value", Integer),
    Column("answered_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("run_id", "question_id", name="uq_answers_run_id_question_id"),
)

results = Table(
    "results",
    metadata,
    Column("run_id", ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("framework_id", String(48), nullable=False),
    Column("framework_version", String(16), nullable=False),
    Column("score_tenths", Integer),
    Column("stage_id", String(48)),
    Column("dimension_tenths", JSON, nullable=False),
    Column("chart_token", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

processed_messages = Table(
    "processed_messages",
    metadata,
    Column("channel", String(32), primary_key=True),
    Column("message_id", String(128), primary_key=True),
    Column("participant_id", ForeignKey("participants.id", ondelete="CASCADE")),
    Column("replies", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
