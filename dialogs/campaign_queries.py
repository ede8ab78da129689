"""Reading campaigns from the chat: `/campaigns`, `/campaign status CODE`, `/campaign report CODE`.

These change nothing, so they run as one read-only job on a reader connection (not in the writer's
queue, and without creating anyone): check who is asking, then read. Anyone who does not run the
campaign gets the same refusal whether or not the code exists.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import Connection

from dialogs import codes
from dialogs.campaign_dialogue import QUERIES
from dialogs.catalogue import Catalogue
from dialogs.commands import Command
from dialogs.conversation import Context
from dialogs.group_report import ROUND_CLOSED, ROUND_OPEN, ROUND_PAST, GroupReport, build_report
from dialogs.pinning import load_versions
from dialogs.report_view import report_replies, status_reply
from dialogs.types import Inbound, Reply, ReplyKind
from storage import campaign_reads as reads
from storage.campaign_records import CampaignRecord
from storage.campaign_repository import campaign_by_code, campaign_by_dashboard, role
from storage.executor import as_executor
from storage.report_queries import publication, report_numbers


def is_query(command: Command) -> bool:
    """Whether the command only reads campaigns."""
    if command.name == "campaigns":
        return True
    return command.name == "campaign" and bool(command.args) and command.args[0].lower() in QUERIES


def answer_query(conn: Connection, context: Context, inbound: Inbound, command: Command) -> list[Reply]:
    """The replies to a reading command, read in one transaction."""
    cat = context.cat
    person = reads.participant_id(conn, inbound.channel, inbound.sender)
    if command.name == "campaigns":
        return [campaigns_reply(conn, cat, person)]
    name = command.args[0].lower()
    if len(command.args) < 2:
        return [Reply(text=cat.text("campaign_needs_code", name=name), kind=ReplyKind.NOTICE)]
    campaign = run_by(conn, person, command.args[1])
    if campaign is None:
        return [Reply(text=cat.text("campaign_refused", code=command.args[1][:32]), kind=ReplyKind.NOTICE)]
    if name == "status":
        return [campaign_status(conn, cat, campaign)]
    report = group_report(conn, context, campaign)
    if report is None:
        return [Reply(text=cat.text("join_unavailable", title=campaign.title), kind=ReplyKind.NOTICE)]
    return report_replies(cat, report, campaign.dashboard_token)


def run_by(conn: Connection, person: int | None, typed_code: str) -> CampaignRecord | None:
    """The campaign a code names, if this person owns or co-facilitates it."""
    code = codes.canonical(typed_code)
    if person is None or code is None:
        return None
    campaign = campaign_by_code(conn, code)
    if campaign is None or role(conn, campaign.id, person) is None:
        return None
    return campaign


def campaign_status(conn: Connection, cat: Catalogue, campaign: CampaignRecord) -> Reply:
    """The campaign's progress in its current round, what of it is in the report, and reminders."""
    progress = reads.progress(conn, [campaign])[campaign.id]
    published = publication(conn, campaign.id, campaign.round)
    state = round_state(campaign, campaign.round)
    return status_reply(cat, campaign, progress, reads.nudge_outcomes(conn, campaign), published, state)


def round_state(campaign: CampaignRecord, round_: int) -> str:
    """Whether a round still takes answers: closed with its campaign, past once a later one opened."""
    if not campaign.is_open(datetime.now(UTC)):
        return ROUND_CLOSED
    return ROUND_PAST if round_ < campaign.round else ROUND_OPEN


def group_report(
    conn: Connection, context: Context, campaign: CampaignRecord, round_: int | None = None
) -> GroupReport | None:
    """A round's report (the current one unless named), read with the framework version the round
    opened with; None if that version cannot be had."""
    number = round_ or campaign.round
    numbers = report_numbers(conn, campaign.id, number, campaign.min_group)
    key = (campaign.framework_id, numbers.framework_version)
    load_versions(context.frameworks, as_executor(conn), [key])
    framework = context.frameworks.pinned(*key)
    if framework is None:
        return None
    report = build_report(
        framework,
        campaign.title,
        codes.shown(campaign.code),
        numbers,
        grouped=bool(campaign.groups),
        round_state=round_state(campaign, number),
    )
    elsewhere = reads.rounds_of_other_versions(conn, campaign.id, numbers.framework_version)
    return replace(report, trend_elsewhere=elsewhere) if elsewhere else report


@dataclass(frozen=True, slots=True)
class Dashboard:
    """What a dashboard link shows: the campaign, its progress, and one round's report."""

    campaign: CampaignRecord
    progress: reads.Progress
    report: GroupReport


def dashboard(conn: Connection, context: Context, token: str, round_: int | None = None) -> Dashboard | None:
    """The dashboard a secret link names (None if none, or its framework is gone)."""
    campaign = campaign_by_dashboard(conn, token) if 0 < len(token) <= 64 else None
    if campaign is None:
        return None
    if round_ is not None and not 1 <= round_ <= campaign.round:
        round_ = None
    report = group_report(conn, context, campaign, round_)
    if report is None:
        return None
    return Dashboard(campaign, reads.progress(conn, [campaign])[campaign.id], report)


def campaigns_reply(conn: Connection, cat: Catalogue, person: int | None) -> Reply:
    """The campaigns the person runs (with progress counts) and takes part in."""
    running = reads.campaigns_run_by(conn, person) if person is not None else []
    member = reads.memberships(conn, person) if person is not None else []
    if not running and not member:
        return Reply(text=cat.text("campaigns_none"), title=cat.text("campaigns_title"))
    lines = []
    if running:
        progress = reads.progress(conn, [campaign for campaign, _ in running])
        lines.append(cat.text("campaigns_running"))
        for campaign, _ in running:
            counts = progress[campaign.id]
            closed = cat.text("campaigns_closed_mark") if campaign.closed_at else ""
            code = codes.shown(campaign.code)
            line = cat.text(
                "campaigns_running_line",
                title=campaign.title,
                code=code,
                completed=counts.completed,
                joined=counts.members,
                closed=closed,
            )
            lines.append(line)
    if member:
        lines += ["", cat.text("campaigns_member")] if lines else [cat.text("campaigns_member")]
        for campaign, state, _ in member:
            lines.append(
                cat.text(
                    "campaigns_member_line", title=campaign.title, progress=cat.text(f"progress_{state}")
                )
            )
    return Reply(text="\n".join(lines), title=cat.text("campaigns_title"))
