"""Campaign reads and writes of the per-message step, through its executor and in its transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from storage import campaign_statements as sql
from storage.campaign_records import (
    CLOSE_JOB,
    AcceptInvitation,
    CampaignRecord,
    ChooseGroup,
    CloseCampaign,
    CreateCampaign,
    InvitationRecord,
    InviteFacilitator,
    JoinCampaign,
    MemberRecord,
    NudgeRecord,
    QueueNudges,
    ScheduleJob,
    SetProgress,
    SettleNudges,
    StartRound,
    TallyRun,
)
from storage.executor import Executor, as_executor, on_executor
from storage.time import utc

OWNER = "owner"
FACILITATOR = "facilitator"


@on_executor
def campaigns_by_id(db: Executor, ids: Iterable[int]) -> dict[int, CampaignRecord]:
    """The campaigns with these ids, with their groups."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    groups: dict[int, list[str]] = {}
    for row in db.rows(sql.GROUPS, {"ids": wanted}):
        groups.setdefault(row.campaign_id, []).append(row.name)
    rows = db.rows(sql.CAMPAIGNS_BY_ID, {"ids": wanted})
    return {row.id: campaign_record(row, groups.get(row.id, ())) for row in rows}


@on_executor
def campaign_by_code(db: Executor, code: str) -> CampaignRecord | None:
    row = db.first(sql.CAMPAIGN_BY_CODE, {"code": code})
    return None if row is None else campaigns_by_id(db, [row.id])[row.id]


@on_executor
def campaign_by_dashboard(db: Executor, token: str) -> CampaignRecord | None:
    """The campaign whose dashboard link carries this token."""
    row = db.first(sql.CAMPAIGN_BY_DASHBOARD, {"token": token})
    return None if row is None else campaigns_by_id(db, [row.id])[row.id]


def campaign_record(row: Any, groups: Iterable[str]) -> CampaignRecord:
    return CampaignRecord(
        id=row.id,
        code=row.code,
        framework_id=row.framework_id,
        title=row.title,
        min_group=row.min_group,
        round=row.round,
        closes_at=utc(row.closes_at) if row.closes_at else None,
        closed_at=utc(row.closed_at) if row.closed_at else None,
        groups=tuple(groups),
        dashboard_token=row.dashboard_token,
        max_reminders=row.max_reminders,
        reminder_gap_hours=row.reminder_gap_hours,
        version=row.round_version or "",
    )


@on_executor
def membership(db: Executor, campaign_id: int, participant_id: int) -> MemberRecord | None:
    row = db.first(sql.MEMBERSHIP, {"campaign": campaign_id, "participant": participant_id})
    return None if row is None else MemberRecord(row.position, row.progress, row.progress_round)


@on_executor
def memberships_of(db: Executor, participant_id: int) -> list[tuple[CampaignRecord, MemberRecord]]:
    """Every campaign the person joined, with their group and progress."""
    rows = db.rows(sql.MEMBERSHIPS, {"participant": participant_id})
    found = campaigns_by_id(db, (row.campaign_id for row in rows))
    return [
        (found[row.campaign_id], MemberRecord(row.position, row.progress, row.progress_round)) for row in rows
    ]


@on_executor
def role(db: Executor, campaign_id: int, participant_id: int) -> str | None:
    """The person's role in the campaign (owner or facilitator), or None."""
    params = {"campaign": campaign_id, "participant": participant_id}
    return db.scalar_or_none(sql.ROLE, params)


@on_executor
def invitation(db: Executor, code: str) -> InvitationRecord | None:
    row = db.first(sql.INVITATION, {"code": code})
    if row is None:
        return None
    campaign = campaigns_by_id(db, [row.campaign_id])[row.campaign_id]
    return InvitationRecord(row.code, campaign, utc(row.expires_at))


@on_executor
def pending_nudges(db: Executor, participant_id: int) -> list[NudgeRecord]:
    rows = db.rows(sql.PENDING_NUDGES, {"participant": participant_id})
    found = campaigns_by_id(db, (row.campaign_id for row in rows))
    return [NudgeRecord(row.id, row.kind, found[row.campaign_id], bool(row.moot)) for row in rows]


@on_executor
def remindable(db: Executor, campaign: CampaignRecord, now: datetime) -> int:
    """How many members a reminder would nudge now."""
    return int(db.scalar(sql.COUNT_REMINDABLE, _remind_params(campaign, now)))


def _remind_params(campaign: CampaignRecord, now: datetime) -> dict[str, Any]:
    return {
        "campaign": campaign.id,
        "round": campaign.round,
        "max_reminders": campaign.max_reminders,
        "since": now - timedelta(hours=campaign.reminder_gap_hours),
        "now": now,
    }


@on_executor
def facts(db: Executor) -> dict[str, str]:
    return {row.name: row.value for row in db.rows(sql.FACTS, {})}


@on_executor
def set_fact(db: Executor, name: str, value: str) -> None:
    """Record what this service learnt (the Telegram bot's username), replacing what was there."""
    db.run(sql.FORGET_FACT, {"name": name})
    db.run(sql.ADD_FACT, {"name": name, "value": value[:256]})


@on_executor
def untally_participant(db: Executor, participant_id: int) -> None:
    """Take the person's published campaign runs out of the tallies (before they are erased; a
    pending run was never counted, and goes with the run)."""
    rounds = {
        (row.campaign_id, row.round) for row in db.rows(sql.TALLIED_OF, {"participant": participant_id})
    }
    if not rounds:
        return
    for campaign_id, round_ in sorted(rounds):  # in one order, so two erasures never deadlock
        db.first(sql.LOCK_ROUND, {"campaign": campaign_id, "round": round_})
    # read again under the locks: a finish may have just published one of them
    published = [
        row for row in db.rows(sql.TALLIED_OF, {"participant": participant_id}) if row.batch is not None
    ]
    for tallied in published:
        key = {
            "key_campaign_id": tallied.campaign_id,
            "key_round": tallied.round,
            "key_framework_version": tallied.framework_version,
            "key_group_id": tallied.group_id,
        }
        rows = [{**key, "key_kind": k, "key_part": p, "key_a": a, "key_b": b} for k, p, a, b in tallied.rows]
        db.many(sql.TAKE_FROM_TALLY, rows)
    if published:
        db.run(sql.DROP_EMPTY_TALLIES, {})


def publish_pending(db: Executor, key: dict[str, Any], min_group: int, batch: int) -> None:
    """Add a group's pending runs to the tallies together, marked with `batch`, if there are at
    least `min_group` of them (the caller holds the round's lock)."""
    params = {
        "campaign": key["campaign_id"],
        "round": key["round"],
        "version": key["framework_version"],
        "group": key["group_id"],
    }
    pending = db.rows(sql.PENDING_IN_GROUP, params)
    if len(pending) < min_group:
        return
    # summed here, not in SQL: a batch is a handful of runs, and their rows are JSON
    counts = Counter((kind, part, a, b) for row in pending for kind, part, a, b in row.rows)
    rows = [{**key, "kind": k, "part": p, "a": a, "b": b, "n": n} for (k, p, a, b), n in counts.items()]
    db.many(sql.ADD_TO_TALLY[db.dialect], rows)
    db.run(sql.PUBLISH, {"runs": [row.run_id for row in pending], "batch": batch})


class CampaignWriter:
    """Applies the campaign changes of one step."""

    def __init__(self, db: Connection | Executor, now: datetime) -> None:
        self.db = as_executor(db)
        self.now = now
        self.dialect = self.db.dialect

    def apply(self, participant_id: int, change: Any) -> None:
        handler = self._handlers.get(type(change))
        if handler is None:
            raise TypeError(f"not a campaign change: {change!r}")
        handler(self, participant_id, change)

    def _create(self, participant_id: int, change: CreateCampaign) -> None:
        params = {
            "code": change.code,
            "framework_id": change.framework_id,
            "title": change.title,
            "min_group": change.min_group,
            "closes_at": change.closes_at,
            "dashboard_token": change.dashboard_token,
            "pseudonym_key": change.pseudonym_key,
            "max_reminders": change.max_reminders,
            "reminder_gap_hours": change.reminder_gap_hours,
            "now": self.now,
        }
        campaign = self.db.scalar(sql.INSERT_CAMPAIGN, params)
        for position, name in enumerate(change.groups, start=1):
            self.db.run(sql.INSERT_GROUP, {"campaign": campaign, "position": position, "name": name})
        version = {"campaign": campaign, "round": 1, "framework_version": change.framework_version}
        self.db.run(sql.INSERT_ROUND, {**version, "now": self.now})
        self._add_staff(campaign, participant_id, OWNER)
        if change.closes_at is not None:
            schedule = {
                "campaign": campaign,
                "kind": CLOSE_JOB,
                "due_at": change.closes_at,
                "every_hours": None,
            }
            self.db.run(sql.INSERT_SCHEDULE, schedule)

    def _add_staff(self, campaign: int, participant_id: int, role: str) -> None:
        params = {"campaign": campaign, "participant": participant_id, "role": role, "now": self.now}
        self.db.run(sql.INSERT_STAFF[self.dialect], params)

    def _join(self, participant_id: int, change: JoinCampaign) -> None:
        round_now = campaigns_by_id(self.db, [change.campaign_id])[change.campaign_id].round
        params = {
            "campaign": change.campaign_id,
            "participant": participant_id,
            "group": change.group,
            "round": round_now,
            "now": self.now,
        }
        self.db.run(sql.JOIN[self.dialect], params)

    def _progress(self, participant_id: int, change: SetProgress) -> None:
        statement = {sql.STARTED: sql.MARK_STARTED, sql.COMPLETED: sql.MARK_COMPLETED}.get(
            change.progress, sql.MARK_LEFT
        )
        params = {
            "campaign": change.campaign_id,
            "participant": participant_id,
            "of_round": change.round,
            "now": self.now,
        }
        self.db.run(statement, params)

    def _choose_group(self, participant_id: int, change: ChooseGroup) -> None:
        self.db.run(sql.SET_JOINING, {"participant": participant_id, "joining": change.campaign_id})

    def _close(self, _: int, change: CloseCampaign) -> None:
        self.db.run(sql.CLOSE, {"campaign": change.campaign_id, "now": self.now})

    def _round(self, _: int, change: StartRound) -> None:
        params = {"campaign": change.campaign_id, "round": change.round, "previous": change.round - 1}
        if self.db.run(sql.NEXT_ROUND, params) == 1:
            version = {"framework_version": change.framework_version, "now": self.now}
            self.db.run(sql.INSERT_ROUND, {**params, **version})

    def _nudge(self, _: int, change: QueueNudges) -> None:
        campaign = campaigns_by_id(self.db, [change.campaign_id])[change.campaign_id]
        params = {**_remind_params(campaign, self.now), "kind": change.kind}
        statement = sql.QUEUE_REMINDERS if change.kind == sql.REMINDER else sql.QUEUE_ROUND_NOTICES
        self.db.run(statement, params)

    def _invite(self, _: int, change: InviteFacilitator) -> None:
        params = {
            "code": change.code,
            "campaign": change.campaign_id,
            "expires_at": change.expires_at,
            "now": self.now,
        }
        self.db.run(sql.INSERT_INVITATION, params)

    def _accept(self, participant_id: int, change: AcceptInvitation) -> None:
        if self.db.run(sql.DELETE_INVITATION, {"code": change.code}) == 1:
            self._add_staff(change.campaign_id, participant_id, FACILITATOR)

    def tally(self, participant_id: int, run_id: int, change: TallyRun) -> None:
        """Keep what a finished run adds to its round's tallies, in the person's group, as pending;
        publish the group's pending runs together once there are enough of them."""
        member = {"campaign": change.campaign_id, "participant": participant_id}
        group = self.db.scalar_or_none(sql.GROUP_OF_MEMBER, member) or 0
        min_group = self.db.scalar_or_none(
            sql.LOCK_ROUND, {"campaign": change.campaign_id, "round": change.round}
        )
        params = {
            "run_id": run_id,
            "campaign": change.campaign_id,
            "round": change.round,
            "version": change.framework_version,
            "group": group,
            "rows": [list(row) for row in change.rows],
        }
        self.db.run(sql.INSERT_TALLIED, params)
        if min_group is None:  # no such round (rounds are never deleted): nothing to publish into
            return
        key = {
            "campaign_id": change.campaign_id,
            "round": change.round,
            "framework_version": change.framework_version,
            "group_id": group,
        }
        publish_pending(self.db, key, int(min_group), batch=run_id)

    def _schedule(self, _: int, change: ScheduleJob) -> None:
        """A repeating job; it replaces any earlier schedule of the same kind for the campaign."""
        cancel = {"campaign": change.campaign_id, "of_kind": change.kind, "now": self.now}
        self.db.run(sql.CANCEL_SCHEDULE, cancel)
        if not change.every_hours:
            return
        params = {
            "campaign": change.campaign_id,
            "kind": change.kind,
            "due_at": change.first_at,
            "every_hours": change.every_hours,
        }
        self.db.run(sql.INSERT_SCHEDULE, params)

    def _settle(self, _: int, change: SettleNudges) -> None:
        params = {"ids": list(change.ids), "outcome": change.outcome, "now": self.now}
        self.db.run(sql.SETTLE_NUDGES, params)

    _handlers: dict[type, Any] = {
        CreateCampaign: _create,
        JoinCampaign: _join,
        SetProgress: _progress,
        ChooseGroup: _choose_group,
        CloseCampaign: _close,
        StartRound: _round,
        QueueNudges: _nudge,
        InviteFacilitator: _invite,
        AcceptInvitation: _accept,
        SettleNudges: _settle,
        ScheduleJob: _schedule,
    }
