"""What facilitators read about campaigns (outside the per-message transaction): who runs what,
progress counts, reminder outcomes. Counts and times only: nothing here lists people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select

from storage.campaign_records import CampaignRecord, NudgesSent
from storage.campaign_repository import campaigns_by_id
from storage.campaign_statements import COMPLETED, DROPPED, JOINED, LEFT, STARTED
from storage.executor import Executor, on_executor
from storage.tables import campaign_members, campaign_nudges, campaign_rounds, campaign_staff, participants
from storage.time import utc

PARTICIPANT_ID = select(participants.c.id).where(
    participants.c.channel == bindparam("channel"), participants.c.external_id == bindparam("sender")
)
RUN_BY = select(campaign_staff.c.campaign_id, campaign_staff.c.role).where(
    campaign_staff.c.participant_id == bindparam("participant")
)
MEMBER_OF = select(
    campaign_members.c.campaign_id, campaign_members.c.progress, campaign_members.c.progress_round
).where(campaign_members.c.participant_id == bindparam("participant"))
PROGRESS = (
    select(
        campaign_members.c.progress,
        campaign_members.c.progress_round,
        func.count(),
        func.max(campaign_members.c.moved_at),
        func.max(campaign_members.c.joined_at),
    )
    .where(campaign_members.c.campaign_id.in_(bindparam("ids", expanding=True)))
    .add_columns(campaign_members.c.campaign_id)
    .group_by(campaign_members.c.campaign_id, campaign_members.c.progress, campaign_members.c.progress_round)
)
NUDGES = (
    select(campaign_nudges.c.status, func.count())
    .where(
        campaign_nudges.c.campaign_id == bindparam("campaign"), campaign_nudges.c.round == bindparam("round")
    )
    .group_by(campaign_nudges.c.status)
)
NUDGES_OF = (
    select(
        campaign_nudges.c.campaign_id,
        func.count().label("count"),
        func.max(campaign_nudges.c.created_at).label("latest"),
    )
    .where(campaign_nudges.c.participant_id == bindparam("participant"))
    .where(campaign_nudges.c.status != DROPPED)  # never sent nor shown
    .group_by(campaign_nudges.c.campaign_id)
    .order_by(campaign_nudges.c.campaign_id)
)

ROUNDS_OF_OTHER_VERSIONS = (
    select(campaign_rounds.c.number)
    .where(
        campaign_rounds.c.campaign_id == bindparam("campaign"),
        campaign_rounds.c.framework_version != bindparam("version"),
    )
    .order_by(campaign_rounds.c.number)
)


@dataclass(frozen=True, slots=True)
class Progress:
    """A campaign's members in its current round (a member who finished only an earlier round has
    joined this one, not started it)."""

    not_started: int = 0
    """Joined, and not started this round yet."""
    started: int = 0
    completed: int = 0
    left: int = 0
    last_joined: datetime | None = None
    last_started: datetime | None = None
    last_completed: datetime | None = None

    @property
    def members(self) -> int:
        """Everyone who joined and has not left."""
        return self.not_started + self.started + self.completed


@on_executor
def participant_id(db: Executor, channel: str, sender: str) -> int | None:
    """The person's id, if they are known (reading never creates anyone)."""
    return db.scalar_or_none(PARTICIPANT_ID, {"channel": channel, "sender": sender})


@on_executor
def campaigns_run_by(db: Executor, participant: int) -> list[tuple[CampaignRecord, str]]:
    """The campaigns the person owns or co-facilitates, with their role, newest first."""
    roles = {row.campaign_id: row.role for row in db.rows(RUN_BY, {"participant": participant})}
    found = campaigns_by_id(db, roles)
    return [(found[i], str(roles[i])) for i in sorted(found, reverse=True)]


@on_executor
def nudges_of(db: Executor, participant: int) -> list[NudgesSent]:
    """The reminders and notices each campaign sent the person: how many, and the latest."""
    rows = db.rows(NUDGES_OF, {"participant": participant})
    found = campaigns_by_id(db, (row.campaign_id for row in rows))
    return [NudgesSent(found[row.campaign_id], int(row.count), utc(row.latest)) for row in rows]


@on_executor
def memberships(db: Executor, participant: int) -> list[tuple[CampaignRecord, str, int]]:
    """The campaigns the person takes part in: (campaign, progress, round of that progress)."""
    rows = db.rows(MEMBER_OF, {"participant": participant})
    found = campaigns_by_id(db, (row.campaign_id for row in rows))
    return [(found[row.campaign_id], row.progress, row.progress_round) for row in rows]


@on_executor
def progress(db: Executor, campaigns: list[CampaignRecord]) -> dict[int, Progress]:
    """Each campaign's progress in its current round, counted in SQL."""
    current = {c.id: c.round for c in campaigns}
    counts: dict[int, dict[str, int]] = {c.id: {} for c in campaigns}
    latest: dict[int, dict[str, datetime]] = {c.id: {} for c in campaigns}
    if not campaigns:
        return {}
    for state, round_, count, moved, joined_at, campaign_id in db.rows(PROGRESS, {"ids": list(current)}):
        key = state if state == LEFT or round_ == current[campaign_id] else JOINED
        counts[campaign_id][key] = counts[campaign_id].get(key, 0) + int(count)
        _later(latest[campaign_id], key, utc(moved))
        _later(latest[campaign_id], "joined_at", utc(joined_at))
    return {
        campaign_id: Progress(
            not_started=counts[campaign_id].get(JOINED, 0),
            started=counts[campaign_id].get(STARTED, 0),
            completed=counts[campaign_id].get(COMPLETED, 0),
            left=counts[campaign_id].get(LEFT, 0),
            last_joined=latest[campaign_id].get("joined_at"),
            last_started=latest[campaign_id].get(STARTED),
            last_completed=latest[campaign_id].get(COMPLETED),
        )
        for campaign_id in current
    }


def _later(latest: dict[str, datetime], key: str, moment: datetime) -> None:
    if key not in latest or moment > latest[key]:
        latest[key] = moment


@on_executor
def rounds_of_other_versions(db: Executor, campaign_id: int, version: str) -> tuple[int, ...]:
    """The campaign's rounds opened on another version of its framework than `version`."""
    params = {"campaign": campaign_id, "version": version}
    return tuple(int(row.number) for row in db.rows(ROUNDS_OF_OTHER_VERSIONS, params))


@on_executor
def nudge_outcomes(db: Executor, campaign: CampaignRecord) -> dict[str, int]:
    """Reminders of the current round by outcome (pending, sending, sent, shown, unreachable...)."""
    params = {"campaign": campaign.id, "round": campaign.round}
    return {str(status): int(count) for status, count in db.rows(NUDGES, params)}
