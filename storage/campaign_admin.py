"""Campaign actions of the operator's command line (`cxbot campaign ...`).

The command line has the database itself, so it acts with the owner's rights on any campaign; it
uses the same writes as the chat commands (`CampaignWriter`), each call one transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, select

from storage import statements as sql
from storage.campaign_reads import PARTICIPANT_ID
from storage.campaign_records import (
    CampaignRecord,
    CloseCampaign,
    CreateCampaign,
    QueueNudges,
    ScheduleJob,
    StartRound,
)
from storage.campaign_repository import CampaignWriter, campaign_by_code, campaigns_by_id, remindable
from storage.campaign_statements import REMINDER, ROUND
from storage.tables import campaigns


def create(conn: Connection, change: CreateCampaign, owner_channel: str, owner: str) -> CampaignRecord:
    """A new campaign owned by (channel, sender), who is created if new."""
    now = datetime.now(UTC)
    key = {"channel": owner_channel, "sender": owner}
    conn.execute(sql.INSERT_PARTICIPANT[conn.dialect.name], {**key, "display_name": None, "now": now})
    owner_id = conn.execute(PARTICIPANT_ID, key).scalar_one()
    CampaignWriter(conn, now).apply(owner_id, change)
    found = campaign_by_code(conn, change.code)
    assert found is not None
    return found


def every_campaign(conn: Connection) -> list[CampaignRecord]:
    """All campaigns, newest first."""
    ids = conn.execute(select(campaigns.c.id).order_by(campaigns.c.id.desc())).scalars().all()
    found = campaigns_by_id(conn, ids)
    return [found[i] for i in ids]


def close(conn: Connection, campaign: CampaignRecord) -> None:
    CampaignWriter(conn, datetime.now(UTC)).apply(0, CloseCampaign(campaign.id))


def remind(conn: Connection, campaign: CampaignRecord) -> int:
    """Queue reminders for the unfinished (within the limits); how many were queued."""
    now = datetime.now(UTC)
    count = remindable(conn, campaign, now)
    if count:
        CampaignWriter(conn, now).apply(0, QueueNudges(campaign.id, campaign.round, REMINDER))
    return count


def next_round(conn: Connection, campaign: CampaignRecord, framework_version: str) -> int:
    """Open the next round (members are told); its number."""
    number = campaign.round + 1
    writer = CampaignWriter(conn, datetime.now(UTC))
    writer.apply(0, StartRound(campaign.id, number, framework_version))
    writer.apply(0, QueueNudges(campaign.id, number, ROUND))
    return number


def schedule_every(conn: Connection, campaign: CampaignRecord, kind: str, days: int) -> None:
    """Remind (or open a round) every `days` from `days` from now on; 0 stops it."""
    now = datetime.now(UTC)
    job = ScheduleJob(campaign.id, kind, now + timedelta(days=days), days * 24)
    CampaignWriter(conn, now).apply(0, job)
