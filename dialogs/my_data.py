"""`/mydata`: everything stored about the person, as readable text."""

from __future__ import annotations

from datetime import datetime

from dialogs import codes
from dialogs.catalogue import Catalogue
from dialogs.render import answer_text, split_lines
from dialogs.types import Reply, ReplyKind
from frameworks.registry import FrameworkRegistry
from storage.records import ResultRecord, RunRecord, Snapshot


def my_data_replies(
    cat: Catalogue, frameworks: FrameworkRegistry, snapshot: Snapshot, channel: str, sender: str
) -> list[Reply]:
    """Profile, every attempt with every answer, and every result."""
    if snapshot.created_at is None:
        return [Reply(text=cat.text("mydata_none"))]
    lines = [cat.text("mydata_profile", channel=channel, sender=sender, created=_when(snapshot.created_at))]
    results = {r.run_number: r for r in snapshot.results}
    for run in sorted(snapshot.runs.values(), key=lambda r: r.number):
        lines += _run_lines(cat, frameworks, run, results.get(run.number))
    lines += _campaign_lines(cat, snapshot)
    lines += ["", cat.text("mydata_footer")]
    title = cat.text("mydata_title")
    return [Reply(text=part, title=title, kind=ReplyKind.INFO) for part in split_lines("\n".join(lines))]


def _run_lines(
    cat: Catalogue, frameworks: FrameworkRegistry, run: RunRecord, result: ResultRecord | None
) -> list[str]:
    framework = frameworks.get(run.framework_id)
    status = cat.text(f"status_{run.status}", finished=_when(run.finished_at) if run.finished_at else "")
    lines = [
        "",
        cat.text(
            "mydata_run",
            number=run.number,
            title=framework.title if framework else run.framework_id,
            started=_when(run.started_at),
            status=status,
            answered=sum(1 for value in run.answers.values() if value is not None),
        ),
    ]
    questions = {q.id: q for q in framework.questions} if framework else {}
    for question_id, value in run.answers.items():
        question = questions.get(question_id)
        if question is None or framework is None:
            shown, short = str(value) if value is not None else cat.text("review_skipped"), question_id
        else:
            shown, short = answer_text(cat, framework, question, value), question.short
        lines.append(cat.text("mydata_answer", short=short, answer=shown))
    if result is not None and result.score_tenths is not None:
        stages = {stage.id: stage.name for stage in framework.stages} if framework else {}
        stage = stages.get(result.stage_id or "", result.stage_id or "")
        lines.append(cat.text("mydata_result", stage=stage, score=f"{result.score_tenths / 10:.1f}"))
    return lines


def _campaign_lines(cat: Catalogue, snapshot: Snapshot) -> list[str]:
    """Campaigns joined (group, progress) and run (role), and where reminders are pushed."""
    lines = []
    for campaign, member in snapshot.memberships:
        group = campaign.groups[member.group - 1] if member.group else cat.text("mydata_no_group")
        progress = cat.text(f"progress_{member.progress}")
        lines += [
            "",
            cat.text(
                "mydata_member",
                title=campaign.title,
                group=group,
                progress=progress,
                round=member.progress_round,
            ),
        ]
    for campaign, role in snapshot.running:
        lines += [
            "",
            cat.text("mydata_running", title=campaign.title, code=codes.shown(campaign.code), role=role),
        ]
    if snapshot.callback_url:
        lines += ["", cat.text("mydata_callback", url=snapshot.callback_url)]
    return lines


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
