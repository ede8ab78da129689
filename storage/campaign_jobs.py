"""Scheduled campaign work and reminder delivery, claimed in the database.

Each due job is claimed, done and marked done in one transaction; on PostgreSQL the claim is
`FOR UPDATE SKIP LOCKED`, so however many `cxbot serve` processes share the database, each job runs
once, and a restart finds what is still due. Reminders to push are claimed the same way and
marked `sending` before anything is sent, so two processes never send the same one; a reminder
whose process died mid-send is shown to the person when they next write instead (at most once).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, func, or_, select, update

from storage.campaign_records import (
    CLOSE_JOB,
    REMIND_JOB,
    ROUND_JOB,
    CampaignRecord,
    CloseCampaign,
    NudgeRecord,
    QueueNudges,
    StartRound,
)
from storage.campaign_repository import CampaignWriter, campaigns_by_id
from storage.campaign_statements import NUDGE_MOOT, PENDING, REMINDER, ROUND, SENDING
from storage.tables import campaign_members, campaign_nudges, campaign_schedule, campaigns, participants
from storage.time import utc

CLAIM_LIMIT = 100

DUE = (
    select(campaign_schedule)
    .where(campaign_schedule.c.done_at.is_(None), campaign_schedule.c.due_at <= bindparam("now"))
    .order_by(campaign_schedule.c.due_at)
    .limit(CLAIM_LIMIT)
    .with_for_update(skip_locked=True)
)
MARK_DONE = (
    update(campaign_schedule)
    .where(campaign_schedule.c.id == bindparam("job"))
    .values(done_at=bindparam("now"))
)
ADD_JOB = campaign_schedule.insert().values(
    campaign_id=bindparam("campaign"),
    kind=bindparam("kind"),
    due_at=bindparam("due_at"),
    every_hours=bindparam("every_hours"),
)
TO_PUSH = (
    select(
        campaign_nudges.c.id,
        campaign_nudges.c.kind,
        campaign_nudges.c.campaign_id,
        participants.c.channel,
        participants.c.external_id,
        participants.c.callback_url,
        participants.c.locale,
    )
    .join(participants, participants.c.id == campaign_nudges.c.participant_id)
    .join(campaigns, campaigns.c.id == campaign_nudges.c.campaign_id)
    .outerjoin(
        campaign_members,
        (campaign_members.c.campaign_id == campaign_nudges.c.campaign_id)
        & (campaign_members.c.participant_id == campaign_nudges.c.participant_id),
    )
    .where(campaign_nudges.c.status == PENDING)
    # checked again now, not only when queued: whoever has since been found unreachable (blocked the
    # bot), left, or finished, and a campaign since closed, get nothing pushed
    .where(participants.c.inactive.is_(False), ~func.coalesce(NUDGE_MOOT, False))
    .where(
        campaigns.c.closed_at.is_(None),
        or_(campaigns.c.closes_at.is_(None), campaigns.c.closes_at > bindparam("now")),
    )
    .where(
        or_(
            participants.c.channel.in_(bindparam("direct", expanding=True)),
            participants.c.channel.in_(bindparam("addressed", expanding=True))
            & participants.c.callback_url.is_not(None),
        )
    )
    .order_by(campaign_nudges.c.id)
    .limit(bindparam("limit"))
    .with_for_update(of=campaign_nudges, skip_locked=True)
)
MARK_SENDING = (
    update(campaign_nudges)
    .where(campaign_nudges.c.id.in_(bindparam("ids", expanding=True)))
    .values(status=SENDING, claimed_at=bindparam("now"))
)
SETTLE = (
    update(campaign_nudges)
    .where(campaign_nudges.c.id == bindparam("nudge"), campaign_nudges.c.status == SENDING)
    .values(status=bindparam("outcome"), settled_at=bindparam("now"))
)


@dataclass(frozen=True, slots=True)
class Push:
    """A reminder claimed for delivery through its person's channel."""

    nudge: NudgeRecord
    channel: str
    sender: str
    callback_url: str | None
    locale: str | None = None
    """The language the person is answered in (None: the default)."""


def run_due_jobs(
    conn: Connection, now: datetime, versions: Callable[[str], str | None]
) -> list[tuple[int, str]]:
    """Do every job that is due (close, remind, round) and mark it done; (campaign id, kind) of each.

    `versions` gives the version of a framework id as this process loaded it (for a new round).
    """
    jobs = conn.execute(DUE, {"now": now}).all()
    if not jobs:
        return []
    found = campaigns_by_id(conn, {job.campaign_id for job in jobs})
    writer = CampaignWriter(conn, now)
    for job in jobs:
        campaign = found.get(job.campaign_id)
        if campaign is not None and (campaign.closed_at is None):
            _do(writer, job.kind, campaign, versions(campaign.framework_id))
        conn.execute(MARK_DONE, {"job": job.id, "now": now})
        if job.every_hours and campaign is not None and campaign.closed_at is None and job.kind != CLOSE_JOB:
            following = utc(job.due_at) + timedelta(hours=job.every_hours)
            params = {
                "campaign": job.campaign_id,
                "kind": job.kind,
                "due_at": max(following, now),
                "every_hours": job.every_hours,
            }
            conn.execute(ADD_JOB, params)
    return [(job.campaign_id, job.kind) for job in jobs]


def _do(writer: CampaignWriter, kind: str, campaign: CampaignRecord, version: str | None) -> None:
    if kind == CLOSE_JOB:
        writer.apply(0, CloseCampaign(campaign.id))
    elif kind == REMIND_JOB:
        writer.apply(0, QueueNudges(campaign.id, campaign.round, REMINDER))
    elif kind == ROUND_JOB and version is not None:
        writer.apply(0, StartRound(campaign.id, campaign.round + 1, version))
        writer.apply(0, QueueNudges(campaign.id, campaign.round + 1, ROUND))


def schedule(
    conn: Connection, campaign: CampaignRecord, kind: str, due_at: datetime, every_hours: int | None
) -> None:
    """Add a job: once at `due_at`, or from then on every `every_hours`."""
    params = {"campaign": campaign.id, "kind": kind, "due_at": due_at, "every_hours": every_hours}
    conn.execute(ADD_JOB, params)


def claim_pushes(
    conn: Connection, direct: list[str], addressed: list[str], now: datetime, limit: int
) -> list[Push]:
    """Claim up to `limit` pending reminders (marked `sending`) of people on the `direct` channels,
    and on the `addressed` ones if their bridge gave a callback URL."""
    if not direct and not addressed:
        return []
    params = {"direct": direct or [""], "addressed": addressed or [""], "limit": limit, "now": now}
    rows = conn.execute(TO_PUSH, params).all()
    if not rows:
        return []
    conn.execute(MARK_SENDING, {"ids": [row.id for row in rows], "now": now})
    found = campaigns_by_id(conn, {row.campaign_id for row in rows})
    return [
        Push(
            NudgeRecord(row.id, row.kind, found[row.campaign_id]),
            row.channel,
            row.external_id,
            row.callback_url,
            row.locale,
        )
        for row in rows
    ]


def settle_push(conn: Connection, nudge: int, outcome: str, now: datetime) -> None:
    """Record how a claimed reminder went: sent, unreachable, or failed (then shown when they write)."""
    conn.execute(SETTLE, {"nudge": nudge, "outcome": outcome, "now": now})
