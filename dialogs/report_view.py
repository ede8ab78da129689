"""A campaign's group report and progress as chat messages, with their charts.

Every number comes from a `GroupReport`, which holds nothing of a withheld report but its counts.
"""

from __future__ import annotations

from dialogs import codes
from dialogs.campaign_view import dashboard_path, when
from dialogs.catalogue import Catalogue
from dialogs.group_report import ROUND_CLOSED, ROUND_OPEN, GroupReport
from dialogs.render import level_label, split_lines, text_bar
from dialogs.types import PROFILE, Band, Chart, LevelChart, Link, Reply, ReplyKind, TrendChart
from frameworks.group_scoring import GroupScore
from frameworks.schema import Framework
from storage.campaign_reads import Progress
from storage.campaign_records import CampaignRecord
from storage.report_queries import Pending, Publication, to_next_batch

ROADMAP_SHOWN = 12


def report_replies(cat: Catalogue, report: GroupReport, dashboard_token: str) -> list[Reply]:
    """The report in reading order: summary (with the profile chart), groups, trend, answers per
    question (with their chart), road map; a withheld report says only how many more are needed."""
    title = cat.text("report_title", title=report.title)
    dashboard = Link(cat.text("link_dashboard"), dashboard_path(dashboard_token))
    if report.withheld or report.overall is None:
        text = "\n\n".join(withheld_lines(cat, report))
        return [Reply(text=text, title=title, links=(dashboard,), kind=ReplyKind.RESULT)]
    replies = [_summary(cat, report, title, dashboard_token)]
    if report.groups:
        replies.append(Reply(text="\n".join(group_lines(cat, report)), title=cat.text("report_groups_title")))
    if len(report.trend) > 1:
        replies.append(_trend(cat, report, dashboard_token))
    replies.append(_levels(cat, report, dashboard_token))
    lines = roadmap_lines(cat, report)
    replies += [
        Reply(text=part, title=cat.text("report_roadmap_title")) for part in split_lines("\n".join(lines))
    ]
    replies[-1] = Reply(
        text=replies[-1].text, title=replies[-1].title, links=(dashboard,), kind=replies[-1].kind
    )
    return [
        Reply(text=r.text, title=r.title, links=r.links, chart=r.chart, kind=ReplyKind.RESULT)
        for r in replies
    ]


def withheld_lines(cat: Catalogue, report: GroupReport) -> list[str]:
    """Why a withheld report shows nothing, and (with groups, or once the round is over) what waits."""
    if report.round_state != ROUND_OPEN:
        lines = [cat.text("report_withheld_over", min_group=report.min_group)]
    else:
        key = "report_withheld_groups" if report.grouped else "report_withheld"
        lines = [cat.text(key, min_group=report.min_group, completed=report.finished, needed=report.needed)]
    if report.grouped or report.round_state != ROUND_OPEN:
        lines += pending_lines(cat, report.pending, report.min_group, report.grouped, report.round_state)
    return lines


def pending_lines(
    cat: Catalogue, pending: tuple[Pending, ...], min_group: int, grouped: bool, state: str
) -> list[str]:
    """How many finished answer sets are not in the report yet, per group where there are groups,
    and why; nothing when none are."""
    count = sum(p.count for p in pending)
    if not count:
        return []
    items = ""
    if grouped:
        names = (p.name or cat.text("report_group_none") for p in pending)
        items = cat.text(
            "report_pending_items",
            items=", ".join(f"{n} {p.count}" for n, p in zip(names, pending, strict=True)),
        )
    first = cat.text(
        "report_left_out" if state == ROUND_CLOSED else "report_pending", pending=count, items=items
    )
    if state == ROUND_OPEN:
        key = "report_pending_open_groups" if grouped else "report_pending_open"
    else:
        key = f"report_pending_{state}"
    why = cat.text(key, min_group=min_group, needed=to_next_batch(pending, min_group))
    return [f"{first} {why}"]


def _summary(cat: Catalogue, report: GroupReport, title: str, token: str) -> Reply:
    text = "\n".join(summary_lines(cat, report))
    chart = profile_chart(report.framework, report, token, cat.text("decimal_mark"))
    return Reply(text=text, title=title, chart=chart)


def summary_lines(cat: Catalogue, report: GroupReport) -> list[str]:
    """Overall, people per stage, the dimensions, the weakest areas and any version note, in
    paragraphs separated by empty lines."""
    assert report.overall is not None
    lines = [overall_line(cat, report, report.overall)]
    stages = ", ".join(f"{stage.name} {count}" for stage, count in report.stages)
    lines.append(cat.text("report_stage_distribution", items=stages))
    if waiting := pending_lines(cat, report.pending, report.min_group, report.grouped, report.round_state):
        lines += ["", *waiting]
    lines.append("")
    lines += dimension_lines(cat, report)
    if report.weakest:
        items = ", ".join(f"{s.sub_dimension.name} ({cat.score(s.score)})" for s in report.weakest)
        lines += ["", cat.text("report_weakest", items=items)]
    if report.other_versions:
        lines += ["", cat.text("report_version_note", count=report.other_versions)]
    if report.trend_elsewhere:
        rounds = ", ".join(cat.text("report_round_label", round=number) for number in report.trend_elsewhere)
        lines += ["", cat.text("report_trend_elsewhere", rounds=rounds)]
    return lines


def overall_line(cat: Catalogue, report: GroupReport, overall: GroupScore) -> str:
    stage = overall.stage.name if overall.stage else ""
    high = report.framework.scale_values[-1]
    score = cat.score(overall.score)
    return cat.text("report_overall", stage=stage, score=score, max=high, completed=report.completed)


def dimension_lines(cat: Catalogue, report: GroupReport) -> list[str]:
    lines = []
    low, high = report.framework.scale_values[0], report.framework.scale_values[-1]
    for dimension, scored in report.dimensions:
        if scored is None:
            lines.append(cat.text("result_dimension_unscored", name=dimension.name))
            continue
        lines.append(
            cat.text(
                "report_dimension_line",
                name=dimension.name,
                score=f"{text_bar(scored.score, low, high)} {cat.score(scored.score)}",
                stage=scored.stage.name if scored.stage else "",
                median=cat.score(scored.median),
                spread=cat.score(scored.spread),
            )
        )
    return lines


def group_lines(cat: Catalogue, report: GroupReport) -> list[str]:
    lines = []
    for group in report.groups:
        if group.withheld or group.overall is None:
            lines.append(cat.text("report_group_withheld", name=group.name))
            continue
        stage = group.overall.stage.name if group.overall.stage else ""
        score = cat.score(group.overall.score)
        lines.append(
            cat.text(
                "report_group_line", name=group.name, score=score, stage=stage, completed=group.completed
            )
        )
    return lines


def trend_lines(cat: Catalogue, report: GroupReport) -> list[str]:
    """The rounds, then per dimension (and overall) each round's score in order."""
    withheld = cat.text("report_trend_withheld")
    names: list[tuple[str, str | None]] = [(report.framework.short_title or report.framework.title, None)]
    names += [(d.name, d.id) for d in report.framework.dimensions]
    lines = []
    for name, dimension_id in names:
        values = []
        for point in report.trend:
            scored = (
                point.overall
                if dimension_id is None
                else dict((d.id, s) for d, s in point.dimensions).get(dimension_id)
            )
            values.append(withheld if point.withheld or scored is None else cat.score(scored.score))
        lines.append(cat.text("report_trend_line", name=name, changes=" -> ".join(values)))
    rounds = ", ".join(cat.text("report_round_label", round=point.round) for point in report.trend)
    return [rounds, *lines]


def _trend(cat: Catalogue, report: GroupReport, token: str) -> Reply:
    text = "\n".join(trend_lines(cat, report))
    return Reply(text=text, title=cat.text("report_trend_title"), chart=trend_chart(cat, report, token))


def level_lines(cat: Catalogue, report: GroupReport) -> list[str]:
    lines = []
    for question, counts in report.levels:
        parts = [
            f"{value if value is not None else cat.text('review_skipped')}: {count}"
            for value, count in counts
        ]
        lines.append(cat.text("report_level_line", short=question.short, counts=" \u00b7 ".join(parts)))
    return lines


def _levels(cat: Catalogue, report: GroupReport, token: str) -> Reply:
    return Reply(
        text="\n".join(level_lines(cat, report)),
        title=cat.text("report_levels_title"),
        chart=level_chart(cat, report, token),
    )


def roadmap_lines(cat: Catalogue, report: GroupReport) -> list[str]:
    lines = []
    for item in report.roadmap[:ROADMAP_SHOWN]:
        sub = item.sub
        if item.next_stage is None:
            lines.append(
                cat.text(
                    "report_roadmap_top",
                    sub_dimension=sub.sub_dimension.name,
                    stage=sub.stage.name,
                    text=item.text,
                )
            )
            continue
        lines.append(
            cat.text(
                "report_roadmap_line",
                label=cat.text(f"roadmap_priority_{item.priority}"),
                sub_dimension=sub.sub_dimension.name,
                stage=sub.stage.name,
                next_stage=item.next_stage.name,
                text=item.text,
            )
        )
    return lines


def _bands(framework: Framework) -> tuple[Band, ...]:
    return tuple(Band(s.name, float(s.min_score), float(s.max_score)) for s in framework.stages)


def profile_chart(framework: Framework, report: GroupReport, token: str, decimal_mark: str = ".") -> Chart:
    """The group's dimension profile over the stage bands (the same picture as a person's)."""
    scores = tuple(None if s is None else float(s.score) for _, s in report.dimensions)
    return Chart(
        token=token,
        title=report.title,
        labels=tuple(d.name for d, _ in report.dimensions),
        scores=scores,
        bands=_bands(framework),
        scale_min=float(framework.scale_values[0]),
        scale_max=float(framework.scale_values[-1]),
        of=PROFILE,
        round=report.round,
        decimal_mark=decimal_mark,
    )


def level_chart(cat: Catalogue, report: GroupReport, token: str) -> LevelChart:
    framework = report.framework
    first = framework.questions[0]
    labels = [level_label(framework, first, value) for value in framework.scale_values]
    return LevelChart(
        token=token,
        title=report.title,
        questions=tuple(q.short for q, _ in report.levels),
        levels=(*labels, cat.text("review_skipped")),
        counts=tuple(tuple(count for _, count in counts) for _, counts in report.levels),
        round=report.round,
    )


def trend_chart(cat: Catalogue, report: GroupReport, token: str) -> TrendChart:
    framework = report.framework
    series = []
    for dimension in framework.dimensions:
        values: list[float | None] = []
        for point in report.trend:
            scored = dict((d.id, s) for d, s in point.dimensions).get(dimension.id)
            values.append(None if point.withheld or scored is None else float(scored.score))
        series.append((dimension.name, tuple(values)))
    return TrendChart(
        token=token,
        title=report.title,
        rounds=tuple(cat.text("report_round_label", round=point.round) for point in report.trend),
        series=tuple(series),
        bands=_bands(framework),
        scale_min=float(framework.scale_values[0]),
        scale_max=float(framework.scale_values[-1]),
        round=report.round,
    )


def status_reply(
    cat: Catalogue,
    campaign: CampaignRecord,
    progress: Progress,
    nudges: dict[str, int],
    published: Publication,
    state: str = ROUND_OPEN,
) -> Reply:
    """Who has joined, started and finished (counts and when each last moved), how many finished
    answer sets are in the report and how many wait (per group), and reminder outcomes."""
    lines = [
        cat.text(
            "status_lines",
            round=campaign.round,
            members=progress.members,
            not_started=progress.not_started,
            started=progress.started,
            completed=progress.completed,
            left=progress.left,
            last_joined=when(progress.last_joined, cat),
            last_started=when(progress.last_started, cat),
            last_completed=when(progress.last_completed, cat),
            reached=nudges.get("sent", 0) + nudges.get("shown", 0),
            waiting=nudges.get("pending", 0) + nudges.get("sending", 0) + nudges.get("failed", 0),
            unreachable=nudges.get("unreachable", 0),
        )
    ]
    lines.append(cat.text("status_in_report", published=published.completed))
    lines += pending_lines(cat, published.pending, campaign.min_group, bool(campaign.groups), state)
    gap = f"{campaign.reminder_gap_hours / 24:g}"
    lines.append(cat.text("status_reminder_limits", max=campaign.max_reminders, days=gap))
    if campaign.closed_at is not None:
        lines.append(cat.text("status_closed", when=when(campaign.closed_at, cat)))
    elif campaign.closes_at is not None:
        lines.append(cat.text("status_closes", when=when(campaign.closes_at, cat)))
    title = cat.text("status_title", title=f"{campaign.title} ({codes.shown(campaign.code)})")
    return Reply(text="\n".join(lines), title=title, kind=ReplyKind.INFO)
