"""A campaign round's numbers, aggregated in SQL from its tallies, with the privacy rules applied as
they are made.

- The tallies hold only published runs: a finished run waits (pending, in `tallied_runs`) until at
  least `min_group` of its group (and round and framework version) have finished, and then enters
  the tallies with them (`storage.campaign_repository.publish_pending`). Each group's published
  count is so 0 or at least `min_group`, and any two readings of a report differ by whole batches,
  never by one person. Pending runs are only counted, per group: nothing of their answers is read.
- Until `min_group` people are published in the round, nothing but those counts is read: no score,
  distribution or answer leaves the database.
- Groups: a group with fewer than `min_group` published is withheld, and then the next-smallest
  groups too, until the withheld groups together hold at least `min_group` people (or all are
  withheld), so no withheld group can be recovered by subtracting the others from the total. With
  batches this happens only after an erasure has taken someone out of a published group.
- Rounds in a trend are withheld the same way as a round's report.

The tallies (`storage.tables.campaign_tallies`) count people per property, so each query reads a
few hundred rows however many took part. Statements are built once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.sql.elements import ColumnElement

from storage.campaign_records import DONE, LEVEL, SCORE, SKIPPED_LEVEL, STAGE
from storage.tables import campaign_groups, campaign_rounds, tallied_runs
from storage.tables import campaign_tallies as t

Histogram = dict[tuple[int, int], int]
"""People per score as (sum of answers, number of answers): the score is sum / number, exactly."""


@dataclass(frozen=True, slots=True)
class GroupNumbers:
    position: int
    name: str
    completed: int
    """Published: in the report."""
    withheld: bool
    scores: dict[str, Histogram] = field(default_factory=dict)
    """Per part (a dimension id, or `records.OVERALL`); empty when withheld."""
    pending: int = 0
    """Finished, not yet in the report (fewer than the minimum since the group's last batch)."""


@dataclass(frozen=True, slots=True)
class Pending:
    """Finished answer sets of one group of a round that are not in its report yet."""

    position: int | None
    """The group's position (from 1), or None for people without a group."""
    name: str
    count: int


@dataclass(frozen=True, slots=True)
class Publication:
    """How much of a round is in its report: counts only."""

    framework_version: str
    completed: int
    """Published on the round's framework version."""
    other_versions: int
    """Finished in the round on another version of the framework (never in its report)."""
    pending: tuple[Pending, ...] = ()
    """Per group with any (in group order; people without a group last), on the round's version."""

    @property
    def pending_count(self) -> int:
        return sum(p.count for p in self.pending)


@dataclass(frozen=True, slots=True)
class RoundNumbers:
    round: int
    completed: int
    withheld: bool
    scores: dict[str, Histogram] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReportNumbers:
    """What a report may show of one round. When `withheld`, only the counts are filled in."""

    round: int
    framework_version: str
    min_group: int
    completed: int
    """Published: the people the report's figures are over."""
    other_versions: int
    """Finished in this round on another version of the framework: not counted."""
    withheld: bool
    scores: dict[str, Histogram] = field(default_factory=dict)
    stages: dict[str, int] = field(default_factory=dict)
    """People per stage id (each person's own rounded overall stage)."""
    levels: dict[str, dict[int | None, int]] = field(default_factory=dict)
    """Per question id: how many chose each level (None: skipped)."""
    groups: tuple[GroupNumbers, ...] = ()
    trend: tuple[RoundNumbers, ...] = ()
    """Every round of this framework version, oldest first."""
    pending: tuple[Pending, ...] = ()
    """Finished but not yet published, per group (see `Publication.pending`)."""

    @property
    def pending_count(self) -> int:
        return sum(p.count for p in self.pending)

    @property
    def needed(self) -> int:
        """How many more must finish before the report is shown: enough to complete a batch in the
        group closest to one (0 once shown)."""
        return 0 if not self.withheld else to_next_batch(self.pending, self.min_group)


def to_next_batch(pending: tuple[Pending, ...], min_group: int) -> int:
    """How many more must finish before more answers enter the report: what the group closest to a
    batch lacks (in a campaign without groups, simply the minimum less those pending)."""
    return max(min_group - max((p.count for p in pending), default=0), 1)


def _of(kind: str, with_version: bool = True) -> list[ColumnElement[bool]]:
    conditions = [t.c.campaign_id == bindparam("campaign"), t.c.round == bindparam("round"), t.c.kind == kind]
    if with_version:
        conditions.append(t.c.framework_version == bindparam("version"))
    return conditions


_people = func.sum(t.c.count)

ROUND_VERSION = select(campaign_rounds.c.framework_version).where(
    campaign_rounds.c.campaign_id == bindparam("campaign"), campaign_rounds.c.number == bindparam("round")
)
COMPLETED = (
    select(t.c.framework_version, _people)
    .where(*_of(DONE, with_version=False))
    .group_by(t.c.framework_version)
)
SCORES = select(t.c.part, t.c.a, t.c.b, _people).where(*_of(SCORE)).group_by(t.c.part, t.c.a, t.c.b)
"""The round's score histograms, all groups together: a few hundred rows however many took part."""
STAGES = select(t.c.part, _people).where(*_of(STAGE)).group_by(t.c.part)
LEVELS = select(t.c.part, t.c.a, _people).where(*_of(LEVEL)).group_by(t.c.part, t.c.a)
GROUP_SIZES = (
    select(campaign_groups.c.id, campaign_groups.c.position, campaign_groups.c.name)
    .where(campaign_groups.c.campaign_id == bindparam("campaign"))
    .order_by(campaign_groups.c.position)
)
GROUP_DONE = select(t.c.group_id, _people).where(*_of(DONE)).group_by(t.c.group_id)
GROUP_SCORES = (
    select(t.c.group_id, t.c.part, t.c.a, t.c.b, _people)
    .where(*_of(SCORE), t.c.group_id.in_(bindparam("groups", expanding=True)))
    .group_by(t.c.group_id, t.c.part, t.c.a, t.c.b)
)
_rounds_of_version = (
    select(t.c.round)
    .join(
        campaign_rounds,
        (campaign_rounds.c.campaign_id == t.c.campaign_id) & (campaign_rounds.c.number == t.c.round),
    )
    .where(
        t.c.campaign_id == bindparam("campaign"),
        t.c.framework_version == bindparam("version"),
        campaign_rounds.c.framework_version == bindparam("version"),
    )
)
PENDING = (
    select(
        tallied_runs.c.framework_version,
        tallied_runs.c.group_id,
        campaign_groups.c.position,
        campaign_groups.c.name,
        func.count(),
    )
    .select_from(tallied_runs)
    .outerjoin(campaign_groups, campaign_groups.c.id == tallied_runs.c.group_id)
    .where(
        tallied_runs.c.campaign_id == bindparam("campaign"),
        tallied_runs.c.round == bindparam("round"),
        tallied_runs.c.batch.is_(None),
    )
    .group_by(
        tallied_runs.c.framework_version,
        tallied_runs.c.group_id,
        campaign_groups.c.position,
        campaign_groups.c.name,
    )
)
"""Pending runs per version and group: fewer than the minimum per group, so a few rows (and an index
range of as many runs) however many took part."""
TREND_DONE = _rounds_of_version.add_columns(_people).where(t.c.kind == DONE).group_by(t.c.round)
TREND = (
    _rounds_of_version.add_columns(t.c.part, t.c.a, t.c.b, _people)
    .where(t.c.kind == SCORE)
    .group_by(t.c.round, t.c.part, t.c.a, t.c.b)
)


def publication(conn: Connection, campaign_id: int, round_: int) -> Publication:
    """How many of a round's finished answer sets are in its report, and how many wait, per group."""
    version = conn.execute(ROUND_VERSION, {"campaign": campaign_id, "round": round_}).scalar_one()
    params = {"campaign": campaign_id, "round": round_}
    by_version = {str(row[0]): int(row[1]) for row in conn.execute(COMPLETED, params)}
    completed = by_version.pop(version, 0)
    others = sum(by_version.values())
    waiting: dict[int, Pending] = {}
    for row_version, group_id, position, name, count in conn.execute(PENDING, params):
        if row_version != version:
            others += int(count)
        else:
            waiting[int(group_id)] = Pending(position, name or "", int(count))
    order = sorted(waiting.values(), key=lambda p: (p.position is None, p.position or 0))
    return Publication(version, completed, others, tuple(order))


def report_numbers(conn: Connection, campaign_id: int, round_: int, min_group: int) -> ReportNumbers:
    """One round's numbers over its published runs, or only its counts while fewer than `min_group`
    are published."""
    shown = publication(conn, campaign_id, round_)
    version = shown.framework_version
    params = {"campaign": campaign_id, "round": round_, "version": version}
    head = ReportNumbers(
        round=round_,
        framework_version=version,
        min_group=min_group,
        completed=shown.completed,
        other_versions=shown.other_versions,
        withheld=shown.completed < min_group,
        pending=shown.pending,
        trend=trend(conn, campaign_id, version, min_group),  # other rounds show under the same rule
    )
    if head.withheld:
        return head
    return replace(
        head,
        scores=histograms(conn.execute(SCORES, params)),
        stages={str(part): int(count) for part, count in conn.execute(STAGES, params) if count},
        levels=_levels(conn, params),
        groups=_groups(conn, params, min_group, shown.pending),
    )


def histograms(rows: Iterable[Any]) -> dict[str, Histogram]:
    """(part, sum, number, people) rows as a histogram per part; bins left empty by erasure dropped."""
    out: dict[str, Histogram] = {}
    for part, total, answered, people in rows:
        if people:
            out.setdefault(str(part), {})[(int(total), int(answered))] = int(people)
    return out


def _levels(conn: Connection, params: dict[str, Any]) -> dict[str, dict[int | None, int]]:
    levels: dict[str, dict[int | None, int]] = {}
    for question, value, count in conn.execute(LEVELS, params):
        level = None if value == SKIPPED_LEVEL else int(value)
        levels.setdefault(str(question), {})[level] = int(count)
    return levels


def _groups(
    conn: Connection, params: dict[str, Any], min_group: int, pending: tuple[Pending, ...]
) -> tuple[GroupNumbers, ...]:
    groups = conn.execute(GROUP_SIZES, params).all()
    if not groups:
        return ()
    done = {int(group): int(count) for group, count in conn.execute(GROUP_DONE, params)}
    sizes = {int(row.id): done.get(int(row.id), 0) for row in groups}
    withheld = withheld_groups(sizes, min_group)
    shown = [group for group in sizes if group not in withheld]
    rows: dict[int, list[Any]] = {}
    if shown:
        for group, *row in conn.execute(GROUP_SCORES, {**params, "groups": shown}):
            rows.setdefault(int(group), []).append(row)
    waiting = {p.position: p.count for p in pending}
    return tuple(
        GroupNumbers(
            row.position,
            row.name,
            sizes[row.id],
            # a group none of whose answers are in the report shows nothing either, whether or
            # not some wait: so that a finisher changes nothing shown but the count of those waiting
            row.id in withheld or sizes[row.id] == 0,
            histograms(rows.get(row.id, ())),
            waiting.get(row.position, 0),
        )
        for row in groups
    )


def withheld_groups(sizes: dict[int, int], min_group: int) -> set[int]:
    """Groups to withhold: those under the minimum (an empty group reveals nothing), then the next
    smallest until the withheld groups together hold at least the minimum, or all are withheld."""
    withheld = {group for group, size in sizes.items() if 0 < size < min_group}
    if not withheld:
        return set()
    shown = sorted((size, group) for group, size in sizes.items() if size >= min_group)
    while shown and sum(sizes[group] for group in withheld) < min_group:
        withheld.add(shown.pop(0)[1])
    return withheld


def trend(conn: Connection, campaign_id: int, version: str, min_group: int) -> tuple[RoundNumbers, ...]:
    """Every round of one framework version, oldest first; rounds under the minimum withheld."""
    params = {"campaign": campaign_id, "version": version}
    counts = {int(round_): int(count) for round_, count in conn.execute(TREND_DONE, params)}
    rows: dict[int, list[Any]] = {}
    for round_, *row in conn.execute(TREND, params):
        rows.setdefault(int(round_), []).append(row)
    return tuple(
        RoundNumbers(
            round_, count, count < min_group, {} if count < min_group else histograms(rows.get(round_, ()))
        )
        for round_, count in sorted(counts.items())
        if count
    )
