"""A campaign round's report as values every renderer shares (chat text, JSON, CSV, PDF, dashboard).

Built from `storage.report_queries.ReportNumbers`, which already withheld what privacy requires:
its figures are over published answer sets only, and a withheld report has no scores here either,
so no renderer can show what the query did not give. What is pending is only counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from frameworks.group_scoring import (
    GroupScore,
    RoadmapItem,
    SubScore,
    group_score,
    road_map,
    sub_scores,
    weakest,
)
from frameworks.schema import Dimension, Framework, Question, Stage
from storage.records import OVERALL
from storage.report_queries import Histogram, Pending, ReportNumbers

ROUND_OPEN = "open"
ROUND_PAST = "past"
ROUND_CLOSED = "closed"
"""Whether a round still takes answers (see `GroupReport.round_state`)."""


@dataclass(frozen=True, slots=True)
class GroupLine:
    name: str
    completed: int
    withheld: bool
    overall: GroupScore | None = None
    dimensions: tuple[tuple[Dimension, GroupScore | None], ...] = ()
    pending: int = 0


@dataclass(frozen=True, slots=True)
class TrendPoint:
    round: int
    completed: int
    withheld: bool
    overall: GroupScore | None = None
    dimensions: tuple[tuple[Dimension, GroupScore | None], ...] = ()


@dataclass(frozen=True, slots=True)
class GroupReport:
    framework: Framework
    title: str
    code: str
    round: int
    completed: int
    min_group: int
    withheld: bool
    other_versions: int
    overall: GroupScore | None = None
    stages: tuple[tuple[Stage, int], ...] = ()
    dimensions: tuple[tuple[Dimension, GroupScore | None], ...] = ()
    levels: tuple[tuple[Question, tuple[tuple[int | None, int], ...]], ...] = ()
    """Per question: people per level (None: skipped), in scale order."""
    weakest: tuple[SubScore, ...] = ()
    roadmap: tuple[RoadmapItem, ...] = ()
    groups: tuple[GroupLine, ...] = ()
    trend: tuple[TrendPoint, ...] = field(default=())
    pending: tuple[Pending, ...] = ()
    """Finished answer sets not in the report yet, per group (see `storage.report_queries`)."""
    needed: int = 0
    """While withheld: how many more must finish (in the group closest to the minimum)."""
    grouped: bool = False
    """Whether the campaign has groups (each publishes its own answers)."""
    round_state: str = ROUND_OPEN
    """`ROUND_OPEN`, `ROUND_PAST` (a later round has opened: few more will finish this one) or
    `ROUND_CLOSED` (the campaign closed: nobody more will, so what is pending stays out)."""
    trend_elsewhere: tuple[int, ...] = ()
    """Rounds opened on another version of the framework: the trend leaves them out."""

    @property
    def pending_count(self) -> int:
        return sum(p.count for p in self.pending)

    @property
    def finished(self) -> int:
        """Everyone who finished on the round's version: in the report or not yet."""
        return self.completed + self.pending_count


def build_report(
    framework: Framework,
    title: str,
    code: str,
    numbers: ReportNumbers,
    grouped: bool = False,
    round_state: str = ROUND_OPEN,
) -> GroupReport:
    """The report of one round (only counts when the numbers were withheld)."""
    head = GroupReport(
        framework,
        title,
        code,
        numbers.round,
        numbers.completed,
        numbers.min_group,
        numbers.withheld,
        numbers.other_versions,
        trend=_trend(framework, numbers),
        pending=numbers.pending,
        needed=numbers.needed,
        grouped=grouped,
        round_state=round_state,
    )
    if numbers.withheld:
        return head
    subs = sub_scores(framework, numbers.levels)
    stages = {stage.id: stage for stage in framework.stages}
    return replace(
        head,
        overall=group_score(framework, numbers.scores.get(OVERALL, {})),
        stages=tuple((stage, numbers.stages.get(stage.id, 0)) for stage in stages.values()),
        dimensions=_dimensions(framework, numbers.scores),
        levels=tuple((q, _levels(framework, numbers.levels.get(q.id, {}))) for q in framework.questions),
        weakest=tuple(weakest(subs)),
        roadmap=tuple(road_map(framework, subs)),
        groups=tuple(
            GroupLine(
                g.name,
                g.completed,
                g.withheld,
                group_score(framework, g.scores.get(OVERALL, {})),
                _dimensions(framework, g.scores),
                g.pending,
            )
            for g in numbers.groups
        ),
    )


def _trend(framework: Framework, numbers: ReportNumbers) -> tuple[TrendPoint, ...]:
    return tuple(
        TrendPoint(
            r.round,
            r.completed,
            r.withheld,
            group_score(framework, r.scores.get(OVERALL, {})),
            _dimensions(framework, r.scores),
        )
        for r in numbers.trend
    )


def _dimensions(
    framework: Framework, scores: dict[str, Histogram]
) -> tuple[tuple[Dimension, GroupScore | None], ...]:
    return tuple((d, group_score(framework, scores.get(d.id, {}))) for d in framework.dimensions)


def _levels(framework: Framework, counts: dict[int | None, int]) -> tuple[tuple[int | None, int], ...]:
    values: list[int | None] = [*framework.scale_values, None]
    return tuple((value, counts.get(value, 0)) for value in values)
