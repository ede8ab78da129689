"""A group report as JSON-ready data (the CLI's `--format json` and the dashboard).

A withheld report keeps its shape, with every score null and no distributions, so a client can
read `overall.score` either way and never finds a number the query withheld. `completed` counts the
answer sets the figures are over; `pending` those finished but not in the report yet (each group's
go in together once there are at least `min_group`), and `pending_note` says so in words.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dialogs.catalogue import Catalogue
from dialogs.group_report import GroupReport
from dialogs.render import level_label
from dialogs.report_view import pending_lines
from frameworks.group_scoring import GroupScore
from frameworks.schema import Dimension


def report_json(cat: Catalogue, report: GroupReport) -> dict[str, Any]:
    """The whole report; see docs/facilitators.md for the fields."""
    framework = report.framework
    data: dict[str, Any] = {
        "campaign": {"code": report.code, "title": report.title, "round": report.round},
        "framework": {"id": framework.id, "title": framework.title, "version": framework.version},
        "completed": report.completed,
        "min_group": report.min_group,
        "withheld": report.withheld,
        "needed": report.needed,
        "pending": report.pending_count,
        "pending_groups": [
            {"name": p.name or cat.text("report_group_none"), "pending": p.count} for p in report.pending
        ]
        if report.grouped
        else [],
        "pending_note": "\n".join(
            pending_lines(cat, report.pending, report.min_group, report.grouped, report.round_state)
        )
        or None,
        "round_state": report.round_state,
        "grouped": report.grouped,
        "other_versions": report.other_versions,
        "trend_other_versions": list(report.trend_elsewhere),
        "scale": {"min": framework.scale_values[0], "max": framework.scale_values[-1]},
        "overall": _score(report.overall),
        "dimensions": _dimensions(report.dimensions or tuple((d, None) for d in framework.dimensions)),
        "stages": [{"id": s.id, "name": s.name, "people": n} for s, n in report.stages],
        "questions": [
            {
                "id": question.id,
                "short": question.short,
                "dimension": framework.dimension_of[question.id].id,
                "levels": [
                    {
                        "level": value,
                        "label": cat.text("review_skipped")
                        if value is None
                        else level_label(framework, question, value),
                        "people": people,
                    }
                    for value, people in counts
                ],
            }
            for question, counts in report.levels
        ],
        "weakest": [
            {
                "id": s.sub_dimension.id,
                "name": s.sub_dimension.name,
                "dimension": s.dimension.id,
                **_stage(s.score, s.stage.id, s.stage.name),
            }
            for s in report.weakest
        ],
        "roadmap": [
            {
                "id": item.id,
                "priority": item.priority,
                "label": cat.text(f"roadmap_priority_{item.priority}"),
                "dimension": item.sub.dimension.id,
                "sub_dimension": item.sub.sub_dimension.id,
                "name": item.sub.sub_dimension.name,
                "score": _number(item.sub.score),
                "stage": item.sub.stage.id,
                "stage_name": item.sub.stage.name,
                "next_stage": item.next_stage.id if item.next_stage else None,
                "next_stage_name": item.next_stage.name if item.next_stage else None,
                "text": item.text,
            }
            for item in report.roadmap
        ],
        "groups": [
            {
                "name": group.name,
                "completed": None if group.withheld else group.completed,
                "withheld": group.withheld,
                "pending": group.pending,
                "overall": _score(None if group.withheld else group.overall),
                "dimensions": _dimensions(() if group.withheld else group.dimensions),
            }
            for group in report.groups
        ],
        "trend": [
            {
                "round": point.round,
                "completed": point.completed,
                "withheld": point.withheld,
                "overall": _score(None if point.withheld else point.overall),
                "dimensions": _dimensions(() if point.withheld else point.dimensions),
            }
            for point in report.trend
        ],
    }
    return data


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _stage(score: Decimal | None, stage: str | None, name: str | None) -> dict[str, Any]:
    return {"score": _number(score), "stage": stage, "stage_name": name}


def _score(scored: GroupScore | None) -> dict[str, Any]:
    if scored is None:
        return {
            "score": None,
            "stage": None,
            "stage_name": None,
            "median": None,
            "spread": None,
            "people": None,
        }
    stage = scored.stage
    return {
        **_stage(scored.score, stage.id if stage else None, stage.name if stage else None),
        "median": _number(scored.median),
        "spread": _number(scored.spread),
        "people": scored.people,
    }


def _dimensions(dimensions: tuple[tuple[Dimension, GroupScore | None], ...]) -> list[dict[str, Any]]:
    return [{"id": d.id, "name": d.name, **_score(scored)} for d, scored in dimensions]
