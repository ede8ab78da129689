"""The campaign statements of the per-message step, built once with bind parameters (as in
`storage.statements`). Where SQLite and PostgreSQL differ there is one statement per dialect."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, delete, exists, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from storage.service_keys import KEY_PREFIX
from storage.tables import (
    campaign_groups,
    campaign_invitations,
    campaign_members,
    campaign_nudges,
    campaign_rounds,
    campaign_schedule,
    campaign_staff,
    campaign_tallies,
    campaigns,
    participants,
    results,
    runs,
    service_facts,
    tallied_runs,
)

JOINED = "joined"
STARTED = "started"
COMPLETED = "completed"
LEFT = "left"
UNFINISHED = (JOINED, STARTED)

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
SHOWN = "shown"
UNREACHABLE = "unreachable"
FAILED = "failed"
DROPPED = "dropped"
"""No longer wanted before it reached the person: they finished, left, or came back by themselves,
or the campaign closed. Counted neither as reached nor as waiting."""
REACHED = (SENT, SHOWN)
TO_SHOW = (PENDING, SENDING, FAILED, UNREACHABLE)
"""Reminders not known to have reached the person: shown when they next write."""

REMINDER = "reminder"
ROUND = "round"

CAMPAIGNS_BY_ID = (
    select(campaigns, campaign_rounds.c.framework_version.label("round_version"))
    .outerjoin(
        campaign_rounds,
        and_(campaign_rounds.c.campaign_id == campaigns.c.id, campaign_rounds.c.number == campaigns.c.round),
    )
    .where(campaigns.c.id.in_(bindparam("ids", expanding=True)))
)
CAMPAIGN_BY_CODE = select(campaigns).where(campaigns.c.code == bindparam("code"))
CAMPAIGN_BY_DASHBOARD = select(campaigns).where(campaigns.c.dashboard_token == bindparam("token"))
GROUPS = (
    select(campaign_groups.c.campaign_id, campaign_groups.c.position, campaign_groups.c.name)
    .where(campaign_groups.c.campaign_id.in_(bindparam("ids", expanding=True)))
    .order_by(campaign_groups.c.campaign_id, campaign_groups.c.position)
)
MEMBERSHIP = (
    select(campaign_members.c.progress, campaign_members.c.progress_round, campaign_groups.c.position)
    .outerjoin(campaign_groups, campaign_groups.c.id == campaign_members.c.group_id)
    .where(
        campaign_members.c.campaign_id == bindparam("campaign"),
        campaign_members.c.participant_id == bindparam("participant"),
    )
)
MEMBERSHIPS = (
    select(
        campaign_members.c.campaign_id,
        campaign_members.c.progress,
        campaign_members.c.progress_round,
        campaign_groups.c.position,
    )
    .outerjoin(campaign_groups, campaign_groups.c.id == campaign_members.c.group_id)
    .where(campaign_members.c.participant_id == bindparam("participant"))
    .order_by(campaign_members.c.joined_at)
)
ROLE = select(campaign_staff.c.role).where(
    campaign_staff.c.campaign_id == bindparam("campaign"),
    campaign_staff.c.participant_id == bindparam("participant"),
)
INVITATION = select(campaign_invitations).where(campaign_invitations.c.code == bindparam("code"))
_member_of_nudge = and_(
    campaign_members.c.campaign_id == campaign_nudges.c.campaign_id,
    campaign_members.c.participant_id == campaign_nudges.c.participant_id,
)
NUDGE_MOOT = or_(
    campaign_members.c.progress == LEFT,
    and_(
        campaign_members.c.progress == COMPLETED, campaign_members.c.progress_round >= campaign_nudges.c.round
    ),
)
"""The member left, or finished the round the reminder (or round notice) is about."""
PENDING_NUDGES = (
    select(
        campaign_nudges.c.id,
        campaign_nudges.c.kind,
        campaign_nudges.c.campaign_id,
        NUDGE_MOOT.label("moot"),
    )
    .outerjoin(campaign_members, _member_of_nudge)
    .where(
        campaign_nudges.c.participant_id == bindparam("participant"),
        campaign_nudges.c.status.in_(TO_SHOW),
    )
    .order_by(campaign_nudges.c.id)
)
HAS_NUDGES = (
    exists()
    .where(
        campaign_nudges.c.participant_id == participants.c.id,
        campaign_nudges.c.status.in_([literal(status) for status in TO_SHOW]),
    )
    .correlate(participants)
)
"""On the per-message path: its IN list is literal values, not an expanding parameter, so the
statement compiles once with all its parameters known (`storage.executor`)."""
LATEST_RESULTS = (
    select(results.c.framework_id, results, runs.c.number)
    .join(runs, runs.c.id == results.c.run_id)
    .where(runs.c.participant_id == bindparam("participant"))
    .order_by(results.c.created_at.desc(), runs.c.number.desc())
)
FACTS = select(service_facts.c.name, service_facts.c.value).where(
    service_facts.c.name.not_like(f"{KEY_PREFIX}%")  # the service's secret keys stay out of snapshots
)
FORGET_FACT = delete(service_facts).where(service_facts.c.name == bindparam("name"))
ADD_FACT = service_facts.insert().values(name=bindparam("name"), value=bindparam("value"))

# --- who a reminder reaches ----------------------------------------------------------------------

_m = campaign_members
_earlier = campaign_nudges.alias("earlier")
_reminders_so_far = (
    select(func.count())
    .where(
        _earlier.c.campaign_id == _m.c.campaign_id,
        _earlier.c.participant_id == _m.c.participant_id,
        _earlier.c.round == bindparam("round"),
        _earlier.c.kind == REMINDER,
    )
    .correlate(_m)
    .scalar_subquery()
)
_reminded_lately = (
    exists()
    .where(
        _earlier.c.campaign_id == _m.c.campaign_id,
        _earlier.c.participant_id == _m.c.participant_id,
        or_(_earlier.c.created_at > bindparam("since"), _earlier.c.status.in_((PENDING, SENDING))),
    )
    .correlate(_m)
)
_unfinished_now = or_(
    _m.c.progress.in_(UNFINISHED),
    and_(_m.c.progress == COMPLETED, _m.c.progress_round < bindparam("round")),
)
"""Not finished the current round: joined or started it, or finished only an earlier one."""
REMINDABLE = (
    select(_m.c.participant_id)
    .join(participants, participants.c.id == _m.c.participant_id)
    .where(
        _m.c.campaign_id == bindparam("campaign"),
        _unfinished_now,
        participants.c.inactive.is_(False),
        _reminders_so_far < bindparam("max_reminders"),
        ~_reminded_lately,
    )
)
"""Members a reminder may nudge now: unfinished, reachable, under the limit, not nudged lately."""
ROUND_NOTIFIABLE = (
    select(_m.c.participant_id)
    .join(participants, participants.c.id == _m.c.participant_id)
    .where(
        _m.c.campaign_id == bindparam("campaign"), _m.c.progress != LEFT, participants.c.inactive.is_(False)
    )
)
"""Members told that a new round opened: everyone who has not left, and can be reached."""


def _queue(source: Any) -> Any:
    rows = source.subquery()
    return campaign_nudges.insert().from_select(
        ["campaign_id", "participant_id", "round", "kind", "status", "created_at"],
        select(
            bindparam("campaign"),
            rows.c.participant_id,
            bindparam("round"),
            bindparam("kind"),
            literal(PENDING),
            bindparam("now", type_=campaign_nudges.c.created_at.type),
        ),
    )


QUEUE_REMINDERS = _queue(REMINDABLE)
QUEUE_ROUND_NOTICES = _queue(ROUND_NOTIFIABLE)
COUNT_REMINDABLE = select(func.count()).select_from(REMINDABLE.subquery())

# --- writes ---------------------------------------------------------------------------------------

INSERT_CAMPAIGN = (
    campaigns.insert()
    .values(
        code=bindparam("code"),
        framework_id=bindparam("framework_id"),
        title=bindparam("title"),
        min_group=bindparam("min_group"),
        round=1,
        closes_at=bindparam("closes_at"),
        dashboard_token=bindparam("dashboard_token"),
        pseudonym_key=bindparam("pseudonym_key"),
        max_reminders=bindparam("max_reminders"),
        reminder_gap_hours=bindparam("reminder_gap_hours"),
        created_at=bindparam("now"),
    )
    .returning(campaigns.c.id)
)
INSERT_GROUP = campaign_groups.insert().values(
    campaign_id=bindparam("campaign"), position=bindparam("position"), name=bindparam("name")
)
INSERT_ROUND = campaign_rounds.insert().values(
    campaign_id=bindparam("campaign"),
    number=bindparam("round"),
    framework_version=bindparam("framework_version"),
    opened_at=bindparam("now"),
)
CANCEL_SCHEDULE = (
    update(campaign_schedule)
    .where(
        campaign_schedule.c.campaign_id == bindparam("campaign"),
        campaign_schedule.c.kind == bindparam("of_kind"),
        campaign_schedule.c.done_at.is_(None),
    )
    .values(done_at=bindparam("now"))
)
"""Marks a kind's pending jobs done without doing them (a new schedule replaces the old)."""
INSERT_SCHEDULE = campaign_schedule.insert().values(
    campaign_id=bindparam("campaign"),
    kind=bindparam("kind"),
    due_at=bindparam("due_at"),
    every_hours=bindparam("every_hours"),
)


def _insert_staff(insert: Any) -> Any:
    return (
        insert(campaign_staff)
        .values(
            campaign_id=bindparam("campaign"),
            participant_id=bindparam("participant"),
            role=bindparam("role"),
            added_at=bindparam("now"),
        )
        .on_conflict_do_nothing(index_elements=["campaign_id", "participant_id"])
    )


INSERT_STAFF = {"sqlite": _insert_staff(sqlite.insert), "postgresql": _insert_staff(postgresql.insert)}

_group_at = (
    select(campaign_groups.c.id)
    .where(campaign_groups.c.campaign_id == bindparam("campaign"))
    .where(campaign_groups.c.position == bindparam("group"))
    .scalar_subquery()
)


def _join(insert: Any) -> Any:
    statement = insert(campaign_members).values(
        campaign_id=bindparam("campaign"),
        participant_id=bindparam("participant"),
        group_id=_group_at,
        progress=JOINED,
        progress_round=bindparam("round"),
        joined_at=bindparam("now"),
        moved_at=bindparam("now"),
    )
    # back after leaving, or into a new round: joined again (the group chosen first stays)
    again = or_(
        campaign_members.c.progress == LEFT,
        campaign_members.c.progress_round < statement.excluded.progress_round,
    )
    return statement.on_conflict_do_update(
        index_elements=["campaign_id", "participant_id"],
        set_={
            "progress": JOINED,
            "progress_round": statement.excluded.progress_round,
            "moved_at": statement.excluded.moved_at,
        },
        where=again,
    )


JOIN = {"sqlite": _join(sqlite.insert), "postgresql": _join(postgresql.insert)}

_member = and_(
    campaign_members.c.campaign_id == bindparam("campaign"),
    campaign_members.c.participant_id == bindparam("participant"),
)
MARK_STARTED = (
    update(campaign_members)
    .where(_member, campaign_members.c.progress == JOINED)
    .where(campaign_members.c.progress_round == bindparam("of_round"))
    .values(progress=STARTED, moved_at=bindparam("now"))
)
MARK_COMPLETED = (
    update(campaign_members)
    .where(_member, campaign_members.c.progress_round == bindparam("of_round"))
    .values(progress=COMPLETED, moved_at=bindparam("now"))
)
MARK_LEFT = update(campaign_members).where(_member).values(progress=LEFT, moved_at=bindparam("now"))
SET_JOINING = (
    update(participants)
    .where(participants.c.id == bindparam("participant"))
    .values(joining_campaign=bindparam("joining"))
)
SET_CALLBACK_URL = (
    update(participants)
    .where(participants.c.id == bindparam("participant"))
    .values(callback_url=bindparam("url"))
)
CLOSE = (
    update(campaigns)
    .where(campaigns.c.id == bindparam("campaign"), campaigns.c.closed_at.is_(None))
    .values(closed_at=bindparam("now"))
)
NEXT_ROUND = (
    update(campaigns)
    .where(campaigns.c.id == bindparam("campaign"), campaigns.c.round == bindparam("previous"))
    .values(round=bindparam("round"))
)
INSERT_INVITATION = campaign_invitations.insert().values(
    code=bindparam("code"),
    campaign_id=bindparam("campaign"),
    created_at=bindparam("now"),
    expires_at=bindparam("expires_at"),
)
DELETE_INVITATION = delete(campaign_invitations).where(campaign_invitations.c.code == bindparam("code"))
SETTLE_NUDGES = (
    update(campaign_nudges)
    .where(
        campaign_nudges.c.id.in_(bindparam("ids", expanding=True)),
        campaign_nudges.c.status.in_(TO_SHOW),
    )
    .values(status=bindparam("outcome"), settled_at=bindparam("now"))
)

# --- tallies --------------------------------------------------------------------------------------

_TALLY_KEY = ["campaign_id", "round", "framework_version", "group_id", "kind", "part", "a", "b"]


def _upsert_tally(insert: Any) -> Any:
    statement = insert(campaign_tallies).values(
        **{name: bindparam(name) for name in _TALLY_KEY}, count=bindparam("n")
    )
    return statement.on_conflict_do_update(
        index_elements=_TALLY_KEY, set_={"count": campaign_tallies.c.count + statement.excluded.count}
    )


ADD_TO_TALLY = {"sqlite": _upsert_tally(sqlite.insert), "postgresql": _upsert_tally(postgresql.insert)}
TAKE_FROM_TALLY = (
    update(campaign_tallies)
    .where(*(campaign_tallies.c[name] == bindparam(f"key_{name}") for name in _TALLY_KEY))
    .values(count=campaign_tallies.c.count - 1)
)
DROP_EMPTY_TALLIES = delete(campaign_tallies).where(campaign_tallies.c.count <= 0)
GROUP_OF_MEMBER = select(campaign_members.c.group_id).where(_member)
LOCK_ROUND = (
    select(campaigns.c.min_group)
    .select_from(campaign_rounds)
    .join(campaigns, campaigns.c.id == campaign_rounds.c.campaign_id)
    .where(
        campaign_rounds.c.campaign_id == bindparam("campaign"), campaign_rounds.c.number == bindparam("round")
    )
    .with_for_update(of=campaign_rounds)
)
"""PostgreSQL: the round's row, locked by whoever changes what of the round is published (a finish,
an erasure) before reading what is pending, so two processes never publish the same runs or miss a
batch between them; and the campaign's minimum group. Nothing else locks these rows (rounds are only
ever added), so only publications wait for each other. SQLite has one writer anyway."""
INSERT_TALLIED = tallied_runs.insert().values(
    run_id=bindparam("run_id"),
    campaign_id=bindparam("campaign"),
    round=bindparam("round"),
    framework_version=bindparam("version"),
    group_id=bindparam("group"),
    rows=bindparam("rows", type_=tallied_runs.c.rows.type),
)
PENDING_IN_GROUP = select(tallied_runs.c.run_id, tallied_runs.c.rows).where(
    tallied_runs.c.campaign_id == bindparam("campaign"),
    tallied_runs.c.round == bindparam("round"),
    tallied_runs.c.batch.is_(None),
    tallied_runs.c.framework_version == bindparam("version"),
    tallied_runs.c.group_id == bindparam("group"),
)
"""The finished runs of one group of a round (and framework version) not yet in the tallies."""
PUBLISH = (
    update(tallied_runs)
    .where(tallied_runs.c.run_id.in_(bindparam("runs", expanding=True)), tallied_runs.c.batch.is_(None))
    .values(batch=bindparam("batch"))
)
TALLIED_OF = (
    select(tallied_runs)
    .join(runs, runs.c.id == tallied_runs.c.run_id)
    .where(runs.c.participant_id == bindparam("participant"))
    .order_by(tallied_runs.c.campaign_id, tallied_runs.c.round)
)
