"""`/mydata`: everything stored about the person, as readable text.

Every column kept about a person appears: their row (name, first and last seen, where they are in
the dialogue, whether they are reachable, where a bridge takes reminders), each attempt with its
answers and result, campaigns joined and run, reminders sent, and the replies kept for deduplication.
"""

from __future__ import annotations

from datetime import datetime

from dialogs import codes
from dialogs.calculator_view import calculation_lines
from dialogs.catalogue import Catalogue, catalogue
from dialogs.render import answer_text, split_lines
from dialogs.types import Reply, ReplyKind
from frameworks.registry import FrameworkRegistry
from storage.campaign_records import CampaignRecord
from storage.campaign_repository import FACILITATOR, OWNER
from storage.records import ResultRecord, RunRecord, Snapshot


def my_data_replies(
    cat: Catalogue, frameworks: FrameworkRegistry, snapshot: Snapshot, channel: str, sender: str
) -> list[Reply]:
    """Profile, every attempt with every answer, and every result."""
    if not snapshot.stored:
        return [Reply(text=cat.text("mydata_none"))]
    lines = _profile_lines(cat, snapshot, channel, sender)
    results = {r.run_number: r for r in snapshot.results}
    campaigns = _known_campaigns(snapshot)
    for run in sorted(snapshot.runs.values(), key=lambda r: r.number):
        result = results.get(run.number)
        lines += calculation_lines(cat, frameworks, run, result) or _run_lines(cat, frameworks, run, result)
        lines += _run_campaign_lines(cat, run, campaigns)
    lines += _campaign_lines(cat, snapshot)
    lines += ["", _kept_line(cat, snapshot), "", cat.text("mydata_footer")]
    title = cat.text("mydata_title")
    return [Reply(text=part, title=title, kind=ReplyKind.INFO) for part in split_lines("\n".join(lines))]


def _profile_lines(cat: Catalogue, snapshot: Snapshot, channel: str, sender: str) -> list[str]:
    """The person's own row: who, when, where in the dialogue, and whether messages reach them."""
    assert snapshot.created_at is not None
    assert snapshot.last_seen_at is not None
    seen = {"created": _when(snapshot.created_at), "last_seen": _when(snapshot.last_seen_at)}
    name = snapshot.display_name
    return [
        cat.text("mydata_profile", channel=channel, sender=sender, **seen),
        cat.text("mydata_name", name=name) if name else cat.text("mydata_no_name"),
        cat.text("mydata_where", where=_where(cat, snapshot)),
        _language_line(cat, snapshot),
        cat.text("mydata_unreachable" if snapshot.inactive else "mydata_reachable"),
    ]


def _language_line(cat: Catalogue, snapshot: Snapshot) -> str:
    """The stored language, and whether it was chosen or taken from the person's app or browser."""
    if snapshot.locale is None:
        return cat.text("mydata_language_none")
    key = "mydata_language" if snapshot.locale_chosen else "mydata_language_hinted"
    return cat.text(key, language=catalogue(snapshot.locale).name, locale=snapshot.locale)


def _where(cat: Catalogue, snapshot: Snapshot) -> str:
    """The stored dialogue state in words (the question is the active attempt's cursor)."""
    run = snapshot.runs.get(snapshot.active_run) if snapshot.active_run is not None else None
    number = run.cursor + 1 if run else 0
    title = snapshot.joining.title if snapshot.joining else ""
    return cat.text(f"mydata_where_{snapshot.state}", run=snapshot.active_run, number=number, title=title)


def _known_campaigns(snapshot: Snapshot) -> dict[int, CampaignRecord]:
    """The campaigns loaded with the person's history, by id."""
    found = dict(snapshot.run_campaigns)
    found.update((campaign.id, campaign) for campaign, _ in snapshot.memberships)
    found.update((campaign.id, campaign) for campaign, _ in snapshot.running)
    return found


def _run_campaign_lines(cat: Catalogue, run: RunRecord, campaigns: dict[int, CampaignRecord]) -> list[str]:
    campaign = campaigns.get(run.campaign_id) if run.campaign_id is not None else None
    if campaign is None:
        return []
    return [cat.text("mydata_run_campaign", title=campaign.title, round=run.round)]


def _kept_line(cat: Catalogue, snapshot: Snapshot) -> str:
    kept = snapshot.kept_replies
    if kept is None:
        return cat.text("mydata_kept_none")
    return cat.text(
        "mydata_kept",
        count=kept.count,
        first=_when(kept.first),
        last=_when(kept.last),
        until=_when(kept.until),
    )


def _run_lines(
    cat: Catalogue, frameworks: FrameworkRegistry, run: RunRecord, result: ResultRecord | None
) -> list[str]:
    framework = frameworks.pinned(run.framework_id, run.framework_version)
    status = cat.text(f"status_{run.status}", finished=_when(run.finished_at) if run.finished_at else "")
    lines = [
        "",
        cat.text(
            "mydata_run",
            number=run.number,
            title=framework.title if framework else run.framework_id,
            version=run.framework_version,
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
        lines.append(cat.text("mydata_result", stage=stage, score=cat.score(result.score_tenths / 10)))
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
            cat.text(
                "mydata_running", title=campaign.title, code=codes.shown(campaign.code), role=_role(cat, role)
            ),
        ]
    for sent in snapshot.nudges_sent:
        when = _when(sent.latest)
        lines += ["", cat.text("mydata_nudges", title=sent.campaign.title, count=sent.count, when=when)]
    if snapshot.callback_url:
        lines += ["", cat.text("mydata_callback", url=snapshot.callback_url)]
    return lines


ROLE_KEYS = {OWNER: "role_owner", FACILITATOR: "role_facilitator"}


def _role(cat: Catalogue, role: str) -> str:
    """A campaign role in the person's words (a role this code does not know, as it is stored)."""
    key = ROLE_KEYS.get(role)
    return cat.text(key) if key is not None else role


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
