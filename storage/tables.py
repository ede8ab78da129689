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
    Column("locale_chosen", Boolean, nullable=False, server_default="0"),
    Column("state", String(32), nullable=False, server_default="idle"),
    Column("active_run", Integer),
    Column("inactive", Boolean, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("joining_campaign", Integer),
    Column("callback_url", String(2048)),
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
    Column("inputs", JSON(none_as_null=True)),
    UniqueConstraint("participant_id", "number", name="uq_runs_participant_id_number"),
    Index("ix_runs_participant_status", "participant_id", "status"),
    Index("ix_runs_framework_status", "framework_id", "framework_version", "status"),
    Index("ix_runs_campaign", "campaign_id", "round", "status"),
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
    Column("calculation", JSON(none_as_null=True)),
)
"""A finished run's result; `chart_token` also names a calculator result's CSV export. Calculator runs
keep their inputs in `runs.inputs` and the calculation shown in `calculation`
(`storage.calculator_records`); both are NULL for assessments."""

processed_messages = Table(
    "processed_messages",
    metadata,
    Column("channel", String(32), primary_key=True),
    Column("message_id", String(128), primary_key=True),
    Column("participant_id", ForeignKey("participants.id", ondelete="CASCADE")),
    Column("replies", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# --- campaigns -----------------------------------------------------------------------------------

campaigns = Table(
    "campaigns",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(16), nullable=False, unique=True),
    Column("framework_id", String(48), nullable=False),
    Column("title", String(120), nullable=False),
    Column("min_group", Integer, nullable=False),
    Column("round", Integer, nullable=False, server_default="1"),
    Column("closes_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    Column("max_reminders", Integer, nullable=False, server_default="3"),
    Column("reminder_gap_hours", Integer, nullable=False, server_default="48"),
    Column("dashboard_token", String(64), nullable=False, unique=True),
    Column("pseudonym_key", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
"""A facilitator's collection of answers. `code` is the join code (canonical form, no hyphen);
`dashboard_token` is the secret of the owner's dashboard link; `pseudonym_key` keys the per-campaign
pseudonyms of the CSV export."""

campaign_rounds = Table(
    "campaign_rounds",
    metadata,
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("framework_version", String(16), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
)
"""Each round pins the framework version it opened with: trends compare only rounds of one version."""

campaign_groups = Table(
    "campaign_groups",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("name", String(60), nullable=False),
    UniqueConstraint("campaign_id", "position", name="uq_campaign_groups_campaign_id_position"),
)

campaign_staff = Table(
    "campaign_staff",
    metadata,
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("participant_id", ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Index("ix_campaign_staff_participant", "participant_id"),
)
"""Who may see a campaign's status and report and act on it: its owner and co-facilitators."""

campaign_invitations = Table(
    "campaign_invitations",
    metadata,
    Column("code", String(16), primary_key=True),
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
"""One-time codes that make whoever sends them a co-facilitator (deleted when used)."""

campaign_members = Table(
    "campaign_members",
    metadata,
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("participant_id", ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("campaign_groups.id", ondelete="SET NULL")),
    Column("progress", String(16), nullable=False),
    Column("progress_round", Integer, nullable=False),
    Column("joined_at", DateTime(timezone=True), nullable=False),
    Column("moved_at", DateTime(timezone=True), nullable=False),
    Index("ix_campaign_members_progress", "campaign_id", "progress_round", "progress"),
)
"""Who joined and how far they got (joined, started, completed, left) in which round: kept apart
from what they answered, which lives in their runs."""

campaign_nudges = Table(
    "campaign_nudges",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
    Column("participant_id", ForeignKey("participants.id", ondelete="CASCADE"), nullable=False),
    Column("round", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("claimed_at", DateTime(timezone=True)),
    Column("settled_at", DateTime(timezone=True)),
    Index("ix_campaign_nudges_participant_status", "participant_id", "status"),
    Index("ix_campaign_nudges_status", "status", "created_at"),
    Index("ix_campaign_nudges_campaign", "campaign_id", "round", "participant_id"),
)
"""Reminders and new-round notices, one per person: pushed through channels that can push, shown
when the person next writes otherwise."""

campaign_schedule = Table(
    "campaign_schedule",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("every_hours", Integer),
    Column("done_at", DateTime(timezone=True)),
    Index("ix_campaign_schedule_due", "done_at", "due_at"),
)
"""Scheduled work (reminders, new rounds, closing): claimed in the database, so it survives a restart
and runs once however many processes serve one database."""

campaign_tallies = Table(
    "campaign_tallies",
    metadata,
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("round", Integer, primary_key=True),
    Column("framework_version", String(16), primary_key=True),
    Column("group_id", Integer, primary_key=True),
    Column("kind", String(8), primary_key=True),
    Column("part", String(48), primary_key=True),
    Column("a", Integer, primary_key=True),
    Column("b", Integer, primary_key=True),
    Column("count", Integer, nullable=False),
)
"""How many finished answer sets of a campaign round have each property, counted as they finish and
uncounted when erased, so a report costs the same for ten people or a hundred thousand. Per
`group_id` (0: no group) and framework version, `kind` is one of:

- `done`: finished (part "", a = b = 0);
- `level`: question `part` answered at level `a` (-1: skipped);
- `score`: a score of `part` (a dimension id, or `records.OVERALL`) whose answers sum to `a` over
  `b` answers (so the unrounded score is a / b, and means over people are exact);
- `stage`: the person's own overall stage was `part`.

No row names a person: only counts of people."""

tallied_runs = Table(
    "tallied_runs",
    metadata,
    Column("run_id", ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("campaign_id", Integer, nullable=False),
    Column("round", Integer, nullable=False),
    Column("framework_version", String(16), nullable=False),
    Column("group_id", Integer, nullable=False),
    Column("rows", JSON, nullable=False),
    Column("batch", Integer),
    Index("ix_tallied_runs_pending", "campaign_id", "round", "batch"),
)
"""What each finished campaign run adds to `campaign_tallies`, so erasing the person takes exactly
that away again (and tests can check that the tallies are the sum of these).

A run is counted in the tallies only when it is published with others: `batch` is NULL while it is
pending, and once at least the campaign's minimum group of its round, framework version and group
are pending they are added together and all marked with the id of the run whose finish completed
the batch (0: published one by one before batches existed, migration 0006). So the report never
changes by fewer than the minimum group of people, and no one's answers can be had by subtracting
one reading from the next."""

service_facts = Table(
    "service_facts",
    metadata,
    Column("name", String(48), primary_key=True),
    Column("value", String(256), nullable=False),
)
"""What a running service learnt that commands run elsewhere need (the Telegram bot's username)."""

framework_versions = Table(
    "framework_versions",
    metadata,
    Column("framework_id", String(48), primary_key=True),
    Column("version", String(16), primary_key=True),
    Column("content", JSON, nullable=False),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
)
"""Every version of a framework the service has offered, as validated data, so a run (or a campaign
round) keeps the questions, levels and scoring it started with after the file changes."""
