"""The result as a few short messages: stage line and scores, what would move you up,
recommendations, a best-practice case, and links."""

from __future__ import annotations

from decimal import Decimal

from dialogs.catalogue import Catalogue
from dialogs.render import answer_text, format_score, split_lines, text_bar
from dialogs.types import Band, Chart, Link, Reply, ReplyKind
from frameworks.schema import Framework
from frameworks.scoring import Result
from storage.records import ResultRecord


def result_replies(cat: Catalogue, result: Result, chart_token: str, note: str | None = None) -> list[Reply]:
    """Every message of a result, in reading order."""
    replies = [summary_reply(cat, result, chart_token, note)]
    if (move_up := move_up_reply(cat, result)) is not None:
        replies.append(move_up)
    replies += recommendation_replies(cat, result)
    if (case := case_reply(cat, result)) is not None:
        replies.append(case)
    replies.append(links_reply(cat, result))
    return replies


def summary_reply(cat: Catalogue, result: Result, chart_token: str, note: str | None) -> Reply:
    framework = result.framework
    low, high = framework.scale_values[0], framework.scale_values[-1]
    if result.score is None or result.stage is None:
        return Reply(text=cat.text("result_no_score"), kind=ReplyKind.RESULT)
    lines = [result.stage.description, ""]
    for item in result.dimensions:
        if item.score is None or item.stage is None:
            lines.append(cat.text("result_dimension_unscored", name=item.dimension.name))
            continue
        lines.append(
            cat.text(
                "result_dimension_line",
                name=item.dimension.name,
                bar=text_bar(item.score, low, high),
                score=format_score(item.score),
                stage=item.stage.name,
            )
        )
    if result.skipped:
        lines += ["", cat.text("result_skipped", questions=", ".join(q.short for q in result.skipped))]
    if note:
        lines += ["", note]
    title = cat.text(
        "result_stage_line",
        short_title=framework.short_title or framework.title,
        stage=result.stage.name,
        score=format_score(result.score),
        max=high,
    )
    return Reply(text="\n".join(lines), title=title, kind=ReplyKind.RESULT, chart=chart(result, chart_token))


def chart(result: Result, token: str) -> Chart:
    scores = tuple(None if d.score is None else float(d.score) for d in result.dimensions)
    return _chart(result.framework, token, scores)


def stored_chart(framework: Framework, record: ResultRecord) -> Chart:
    """The chart of a stored result (dimension scores are kept in tenths)."""
    tenths = [record.dimension_tenths.get(d.id) for d in framework.dimensions]
    return _chart(framework, record.chart_token, tuple(None if t is None else t / 10 for t in tenths))


def _chart(framework: Framework, token: str, scores: tuple[float | None, ...]) -> Chart:
    return Chart(
        token=token,
        title=framework.short_title or framework.title,
        labels=tuple(d.name for d in framework.dimensions),
        scores=scores,
        bands=tuple(Band(s.name, float(s.min_score), float(s.max_score)) for s in framework.stages),
        scale_min=float(framework.scale_values[0]),
        scale_max=float(framework.scale_values[-1]),
    )


def move_up_reply(cat: Catalogue, result: Result) -> Reply | None:
    move = result.move_up
    if move is None:
        return None
    framework = result.framework
    answers = result.answers
    lead = (
        cat.text("result_move_up", stage=move.target.name)
        if move.needed == len(move.questions)
        else cat.text("result_move_up_more", stage=move.target.name, needed=move.needed)
    )
    lines = [lead] + [
        cat.text(
            "result_move_up_line",
            short=q.short,
            answer=answer_text(cat, framework, q, answers.get(q.id)),
        )
        for q in move.questions
    ]
    return Reply(text="\n".join(lines), title=cat.text("result_move_up_title"), kind=ReplyKind.RESULT)


def recommendation_replies(cat: Catalogue, result: Result) -> list[Reply]:
    replies = []
    for dimension in result.framework.dimensions:
        items = [r for r in result.recommendations if r.dimension.id == dimension.id]
        if not items:
            continue
        lines = [
            cat.text(
                "result_recommendation_line",
                sub_dimension=r.sub_dimension_name,
                stage=r.stage.name,
                next_stage=r.next_stage.name,
                text=r.text,
            )
            if r.next_stage
            else cat.text(
                "result_recommendation_top",
                sub_dimension=r.sub_dimension_name,
                stage=r.stage.name,
                text=r.text,
            )
            for r in items
        ]
        title = cat.text("result_recommendations_title", dimension=dimension.name)
        replies += [
            Reply(text=part, title=title, kind=ReplyKind.RESULT) for part in split_lines("\n".join(lines))
        ]
    return replies


def case_reply(cat: Catalogue, result: Result) -> Reply | None:
    """The best-practice case of the weakest scored dimension."""
    scored = [d for d in result.dimensions if d.score is not None and d.dimension.case]
    if not scored:
        return None
    weakest = min(scored, key=lambda d: d.score or Decimal(0)).dimension
    case = weakest.case
    assert case is not None
    links = (Link(case.title, str(case.url)),) if case.url else ()
    text = "\n\n".join([case.what, case.how, case.benefits])
    return Reply(
        text=text, title=cat.text("result_case_title", title=case.title), links=links, kind=ReplyKind.RESULT
    )


def links_reply(cat: Catalogue, result: Result) -> Reply:
    links = tuple(Link(r.title, str(r.url)) for _, r in result.resources if r.url)
    unlinked = [r.title for _, r in result.resources if not r.url]
    lines = []
    if unlinked:
        lines.append(cat.text("result_unlinked", titles="; ".join(unlinked)))
    lines.append(cat.text("result_footer"))
    return Reply(
        text="\n\n".join(lines),
        title=cat.text("result_links_title") if links else None,
        links=links,
        kind=ReplyKind.RESULT,
    )
