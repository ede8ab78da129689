"""The result as a few short messages, in reading order:

1. the stage line, the stage's meaning, a score and bar per dimension (with the chart, which the
   channels show right after this text, so it must end with the scores it pictures);
2. what would move you up: every answer it takes, each one level higher;
3. the recommendations, grouped by dimension (split only if long);
4. the best-practice case of the weakest dimension;
5. resources picked for the weakest dimensions: the linked ones, then the titles without a link.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from dialogs.catalogue import Catalogue
from dialogs.render import MESSAGE_LIMIT, answer_text, split_lines, text_bar
from dialogs.types import Band, Chart, Link, Reply, ReplyKind
from frameworks.schema import Framework
from frameworks.scoring import Result, stage_for
from storage.records import ResultRecord

LINKS_SHOWN = 6
UNLINKED_SHOWN = 3


def result_replies(
    cat: Catalogue,
    result: Result,
    chart_token: str,
    note: str | None = None,
    previous: ResultRecord | None = None,
) -> list[Reply]:
    """Every message of a result; with the person's previous result, the change since then."""
    if result.score is None or result.stage is None:
        return [Reply(text=cat.text("result_no_score"), kind=ReplyKind.RESULT)]
    summary = summary_reply(cat, result, chart_token, note, change_lines(cat, result, previous))
    replies = [summary, *move_up_replies(cat, result), *recommendation_replies(cat, result)]
    if (case := case_reply(cat, result)) is not None:
        replies.append(case)
    replies += resource_replies(cat, result)
    replies.append(Reply(text=cat.text("result_footer"), kind=ReplyKind.RESULT))
    return replies


def summary_reply(
    cat: Catalogue, result: Result, chart_token: str, note: str | None, changes: Sequence[str] = ()
) -> Reply:
    framework = result.framework
    assert result.score is not None
    assert result.stage is not None
    lines = [result.stage.description, "", *dimension_lines(cat, result), *changes]
    if result.skipped:
        lines += ["", cat.text("result_skipped", questions=", ".join(q.short for q in result.skipped))]
    if note:
        lines += ["", note]
    title = stage_line(cat, framework, result.stage.name, result.score)
    return Reply(
        text="\n".join(lines),
        title=title,
        kind=ReplyKind.RESULT,
        chart=chart(result, chart_token, cat.text("decimal_mark")),
    )


def change_lines(cat: Catalogue, result: Result, previous: ResultRecord | None) -> list[str]:
    """ "Citizen insights: 2.3 -> 3.0" for the overall score and each dimension scored both times."""
    if previous is None or previous.score_tenths is None or result.score is None:
        return []
    lines = [
        cat.text(
            "change_line",
            name=result.framework.short_title or result.framework.title,
            before=cat.score(Decimal(previous.score_tenths) / 10),
            after=cat.score(result.score),
        )
    ]
    for scored in result.dimensions:
        before = _from_tenths(previous.dimension_tenths.get(scored.dimension.id))
        if before is not None and scored.score is not None:
            after = cat.score(scored.score)
            lines.append(
                cat.text("change_line", name=scored.dimension.name, before=cat.score(before), after=after)
            )
    when = previous.created_at.strftime("%Y-%m-%d")
    return ["", cat.text("change_title", when=when) + ":", *lines]


def stored_result_replies(
    cat: Catalogue, framework: Framework, record: ResultRecord, note: str
) -> list[Reply]:
    """A result given against an earlier version of the framework, as it was stored then: its score,
    stage and dimension scores (recommendations follow answers and bands that may have changed)."""
    if record.score_tenths is None:
        return [Reply(text=cat.text("result_no_score"), kind=ReplyKind.RESULT)]
    stages = {stage.id: stage.name for stage in framework.stages}
    lines = [
        dimension_line(cat, framework, d.name, _from_tenths(record.dimension_tenths.get(d.id)))
        for d in framework.dimensions
    ]
    stage = stages.get(record.stage_id or "", record.stage_id or "")
    title = stage_line(cat, framework, stage, Decimal(record.score_tenths) / 10)
    summary = Reply(
        text="\n".join([*lines, "", note]),
        title=title,
        kind=ReplyKind.RESULT,
        chart=stored_chart(framework, record, cat.text("decimal_mark")),
    )
    return [summary, Reply(text=cat.text("result_footer"), kind=ReplyKind.RESULT)]


def stage_line(cat: Catalogue, framework: Framework, stage: str, score: Decimal) -> str:
    """The result's first line: "Your CX maturity stage: Targeted (3.0 of 5)"."""
    short_title = framework.short_title or framework.title
    high = framework.scale_values[-1]
    return cat.text(
        "result_stage_line", short_title=short_title, stage=stage, score=cat.score(score), max=high
    )


def _from_tenths(tenths: int | None) -> Decimal | None:
    return None if tenths is None else Decimal(tenths) / 10


def dimension_lines(cat: Catalogue, result: Result) -> list[str]:
    return [dimension_line(cat, result.framework, d.dimension.name, d.score) for d in result.dimensions]


def dimension_line(cat: Catalogue, framework: Framework, name: str, score: Decimal | None) -> str:
    """One dimension's score, bar and stage, or that it has no answers."""
    stage = stage_for(framework, score)
    if score is None or stage is None:
        return cat.text("result_dimension_unscored", name=name)
    low, high = framework.scale_values[0], framework.scale_values[-1]
    bar = text_bar(score, low, high)
    return cat.text("result_dimension_line", name=name, bar=bar, score=cat.score(score), stage=stage.name)


def move_up_replies(cat: Catalogue, result: Result) -> list[Reply]:
    """What would move you up, as a message of its own: every answer it takes (one or several)."""
    move = result.move_up
    if move is None:
        return []
    needed = len(move.questions)
    lead = (
        cat.text("result_move_up_one", stage=move.target.name)
        if needed == 1
        else cat.text("result_move_up", stage=move.target.name, needed=needed)
    )
    items = [
        cat.text(
            "result_move_up_line",
            short=q.short,
            answer=answer_text(cat, result.framework, q, result.answers.get(q.id)),
        )
        for q in move.questions
    ]
    text = "\n".join([lead, *items])
    return [Reply(text=text, title=cat.text("result_move_up_title"), kind=ReplyKind.RESULT)]


def chart(result: Result, token: str, decimal_mark: str = ".") -> Chart:
    scores = tuple(None if d.score is None else float(d.score) for d in result.dimensions)
    overall = None if result.score is None else float(result.score)
    return _chart(result.framework, token, scores, overall, decimal_mark)


def stored_chart(framework: Framework, record: ResultRecord, decimal_mark: str = ".") -> Chart:
    """The chart of a stored result (dimension scores are kept in tenths)."""
    tenths = [record.dimension_tenths.get(d.id) for d in framework.dimensions]
    scores = tuple(None if t is None else t / 10 for t in tenths)
    overall = None if record.score_tenths is None else record.score_tenths / 10
    return _chart(framework, record.chart_token, scores, overall, decimal_mark)


def _chart(
    framework: Framework,
    token: str,
    scores: tuple[float | None, ...],
    overall: float | None,
    decimal_mark: str,
) -> Chart:
    return Chart(
        token=token,
        title=framework.short_title or framework.title,
        labels=tuple(d.name for d in framework.dimensions),
        scores=scores,
        bands=tuple(Band(s.name, float(s.min_score), float(s.max_score)) for s in framework.stages),
        scale_min=float(framework.scale_values[0]),
        scale_max=float(framework.scale_values[-1]),
        overall=overall,
        decimal_mark=decimal_mark,
    )


def recommendation_replies(cat: Catalogue, result: Result) -> list[Reply]:
    """All recommendations, grouped under their dimension, in as few messages as fit."""
    groups: list[str] = []
    for dimension in result.framework.dimensions:
        items = [r for r in result.recommendations if r.dimension.id == dimension.id]
        if not items:
            continue
        lines = [dimension.name]
        for r in items:
            if r.next_stage:
                lines.append(
                    cat.text(
                        "result_recommendation_line",
                        sub_dimension=r.sub_dimension.name,
                        stage=r.stage.name,
                        next_stage=r.next_stage.name,
                        text=r.text,
                    )
                )
            else:
                top = cat.text(
                    "result_recommendation_top",
                    sub_dimension=r.sub_dimension.name,
                    stage=r.stage.name,
                    text=r.text,
                )
                lines.append(top)
        groups.append("\n".join(lines))
    title = cat.text("result_recommendations_title")
    return [Reply(text=part, title=title, kind=ReplyKind.RESULT) for part in whole_groups(groups)]


def whole_groups(groups: list[str]) -> list[str]:
    """Groups joined by empty lines in as few messages as fit, each message starting with a whole
    group (a long framework's advice takes several messages, and each should open with its
    dimension's name); only a group too long for a message on its own is cut between lines."""
    parts: list[str] = []
    for group in groups:
        joined = f"{parts[-1]}\n\n{group}" if parts else group
        if parts and len(joined) <= MESSAGE_LIMIT:
            parts[-1] = joined
        else:
            parts += split_lines(group)
    return parts


def case_reply(cat: Catalogue, result: Result) -> Reply | None:
    """The best-practice case of the weakest scored dimension."""
    scored = [d for d in result.dimensions if d.score is not None and d.dimension.case]
    if not scored:
        return None
    case = min(scored, key=lambda d: d.score or Decimal(0)).dimension.case
    assert case is not None
    links = (Link(case.title, str(case.url)),) if case.url else ()
    text = "\n\n".join([case.what, case.how, case.benefits])
    title = cat.text("result_case_title", title=case.title)
    return Reply(text=text, title=title, links=links, kind=ReplyKind.RESULT)


def resource_replies(cat: Catalogue, result: Result) -> list[Reply]:
    """A few resources, those of the lowest-scoring dimensions first: the linked ones under the
    lead (channels show links after a message's text), then, as a message of its own, titles the
    framework has no confirmed address for, so they never read as part of the linked list."""
    links = tuple(Link(r.title, r.address) for _, r in result.resources if r.address)[:LINKS_SHOWN]
    unlinked = [r.title for _, r in result.resources if not r.address][:UNLINKED_SHOWN]
    title = cat.text("result_links_title")
    replies = []
    if links:
        replies.append(
            Reply(text=cat.text("result_links_lead"), title=title, links=links, kind=ReplyKind.RESULT)
        )
    if unlinked:
        text = cat.text("result_unlinked", titles="; ".join(unlinked))
        replies.append(Reply(text=text, title=None if links else title, kind=ReplyKind.RESULT))
    return replies
