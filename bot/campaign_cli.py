"""`cxbot campaign ...`: facilitators' campaigns from a shell, beside a running `cxbot serve`.

Each command opens the database, does one thing in one transaction and exits, so it works while
the server runs on the same SQLite file (its writer waits for a moment at most) or PostgreSQL.
The command line has the database, so it acts on any campaign; in a chat only the people who run
a campaign may.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from bot.app import running_engine
from bot.links import resolved
from bot.settings import Settings
from dialogs import codes
from dialogs.campaign_dialogue import (
    DEFAULT_MAX_REMINDERS,
    DEFAULT_REMINDER_GAP_HOURS,
    MIN_GROUP_FLOOR,
    REMINDER_LIMITS,
    SCHEDULE_LIMITS,
    new_campaign,
)
from dialogs.campaign_queries import campaign_status, group_report
from dialogs.campaign_view import dashboard_path, join_links
from dialogs.engine import Engine
from dialogs.report_csv import answer_sets_csv
from dialogs.report_json import report_json
from dialogs.report_view import report_replies
from dialogs.types import Reply
from storage import campaign_admin as admin
from storage import campaign_reads as reads
from storage.campaign_records import REMIND_JOB, ROUND_JOB, CampaignRecord
from storage.campaign_repository import campaign_by_code, facts
from storage.response_rows import answer_sets

FORMATS = ("text", "json", "csv", "pdf")


class CampaignError(Exception):
    """A campaign command that cannot be done; the message says why."""


def add_commands(commands: Any) -> None:
    """Add `campaign` and its subcommands to the `cxbot` parser."""
    campaign = commands.add_parser("campaign", help="run campaigns: collect answers from many people")
    actions = campaign.add_subparsers(required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a campaign and print its join code and links")
    create.add_argument(
        "--framework", required=True, metavar="ID", help="the assessment (see cxbot frameworks)"
    )
    create.add_argument(
        "--title", required=True, help="what participants see, e.g. 'Service desk CX, spring'"
    )
    create.add_argument(
        "--min-group", type=int, default=5, metavar="N", help="people before results show (>= 3)"
    )
    create.add_argument(
        "--closes", metavar="DATE", help="stop taking answers after this day (YYYY-MM-DD, UTC)"
    )
    create.add_argument(
        "--groups", metavar="A,B,...", help="groups people pick when they join, comma-separated"
    )
    create.add_argument(
        "--owner", metavar="[CHANNEL:]ID", help="who runs it in chats (default: you in cxbot chat)"
    )
    create.add_argument(
        "--max-reminders",
        type=int,
        default=DEFAULT_MAX_REMINDERS,
        metavar="N",
        help=f"reminders per person and round, at most (default {DEFAULT_MAX_REMINDERS}; 0: none)",
    )
    create.add_argument(
        "--reminder-gap-days",
        type=int,
        default=DEFAULT_REMINDER_GAP_HOURS // 24,
        metavar="D",
        help=f"days at least between two reminders to a person (default {DEFAULT_REMINDER_GAP_HOURS // 24})",
    )
    create.set_defaults(func=_create)
    actions.add_parser("list", help="every campaign with its progress").set_defaults(func=_list)
    for name, func, text in (
        ("status", _status, "who has joined, started and finished"),
        ("close", _close, "stop taking answers (the report stays)"),
        ("remind", _remind, "nudge those who have not finished"),
        ("round", _round, "open the next round of a pulse check"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("code", help="the campaign's join code")
        action.set_defaults(func=func)
    timing = actions.add_parser("schedule", help="remind, or open rounds, every few days by themselves")
    timing.add_argument("code", help="the campaign's join code")
    timing.add_argument("--remind-every", type=int, metavar="DAYS", help="remind the unfinished (0: stop)")
    timing.add_argument("--round-every", type=int, metavar="DAYS", help="open a new round (0: stop)")
    timing.set_defaults(func=_schedule)
    report = actions.add_parser("report", help="the group report")
    report.add_argument("code", help="the campaign's join code")
    report.add_argument("--format", choices=FORMATS, default="text")
    report.add_argument("--round", type=int, metavar="N", help="a past round (default: the current one)")
    report.add_argument("--output", metavar="FILE", help="write to a file (a PDF always goes to one)")
    report.set_defaults(func=_report)


def run(command: Callable[[Engine, argparse.Namespace], Awaitable[int]], args: argparse.Namespace) -> int:
    """Run a command with an engine on the configured database; a `CampaignError` is one line."""

    async def main() -> int:
        async with running_engine(Settings()) as engine:
            return await command(engine, args)

    try:
        return asyncio.run(main())
    except CampaignError as error:
        print(f"cxbot: {error}", file=sys.stderr)
        return 1


def _create(args: argparse.Namespace) -> int:
    return run(_create_campaign, args)


async def _create_campaign(engine: Engine, args: argparse.Namespace) -> int:
    framework = engine.context.frameworks.get(args.framework)
    if framework is None:
        offered = ", ".join(f.id for f in engine.context.frameworks.all())
        raise CampaignError(f"there is no assessment called {args.framework!r}; these are: {offered}")
    if args.min_group < MIN_GROUP_FLOOR:
        raise CampaignError(
            f"--min-group must be at least {MIN_GROUP_FLOOR}, so no result points to a person"
        )
    title = " ".join(args.title.split())[:120]
    if not title:
        raise CampaignError("--title must not be empty")
    groups = _groups(args.groups)
    _check_limits(args)
    change = new_campaign(
        framework.id,
        framework.version,
        title,
        args.min_group,
        groups,
        _closing(args.closes),
        max_reminders=args.max_reminders,
        reminder_gap_hours=args.reminder_gap_days * 24,
    )
    channel, owner = _owner(args.owner)
    campaign = await engine.store.run(
        partial(admin.create, change=change, owner_channel=channel, owner=owner)
    )
    known = await engine.store.run(facts)
    print(f"Campaign created: {campaign.title} ({framework.title}), run by {channel}:{owner}")
    print(f"Join code: {codes.shown(campaign.code)}")
    base = _base()
    for link in resolved(tuple(join_links(engine.context.cat, campaign.code, known)), base):
        print(f"{link.title}: {link.url}")
    print(f"Dashboard (keep it private): {base}{dashboard_path(campaign.dashboard_token)}")
    return 0


def _check_limits(args: argparse.Namespace) -> None:
    for name, (low, high) in REMINDER_LIMITS.items():
        if not low <= getattr(args, name) <= high:
            raise CampaignError(f"--{name.replace('_', '-')} must be from {low} to {high}")


def _groups(text: str | None) -> tuple[str, ...]:
    names = tuple(" ".join(part.split())[:60] for part in (text or "").split(",") if part.strip())
    if len({name.lower() for name in names}) != len(names):
        raise CampaignError("--groups names a group twice")
    if len(names) == 1:
        raise CampaignError("--groups needs at least two groups (one group is the whole campaign)")
    return names


def _closing(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise CampaignError(f"--closes {text!r} is not a date like 2027-01-31") from None
    closes = datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)
    if closes <= datetime.now(UTC):
        raise CampaignError(f"--closes {text} has already passed")
    return closes


def _owner(text: str | None) -> tuple[str, str]:
    """(channel, sender) of the owner: `telegram:12345`, `webhook:crm-7`, or a terminal user name."""
    if not text:
        return "terminal", getpass.getuser()
    channel, found, sender = text.partition(":")
    if found and channel in ("telegram", "webhook", "web", "terminal") and sender:
        return channel, sender
    return "terminal", text


def _base() -> str:
    settings = Settings()
    return (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")


def _list(args: argparse.Namespace) -> int:
    return run(_list_campaigns, args)


async def _list_campaigns(engine: Engine, args: argparse.Namespace) -> int:
    def job(conn: Any) -> list[tuple[CampaignRecord, reads.Progress]]:
        found = admin.every_campaign(conn)
        progress = reads.progress(conn, found)
        return [(campaign, progress[campaign.id]) for campaign in found]

    rows = await engine.store.read(job)
    if not rows:
        print("No campaigns yet: cxbot campaign create --framework ID --title TITLE")
        return 0
    print("code\tround\tfinished\tjoined\tstate\tframework\ttitle")
    for campaign, progress in rows:
        state = "closed" if campaign.closed_at else "open"
        print(
            f"{codes.shown(campaign.code)}\t{campaign.round}\t{progress.completed}\t{progress.members}\t"
            f"{state}\t{campaign.framework_id}\t{campaign.title}"
        )
    return 0


async def _find(engine: Engine, typed: str) -> CampaignRecord:
    code = codes.canonical(typed)
    campaign = await engine.store.read(partial(campaign_by_code, code=code)) if code else None
    if campaign is None:
        raise CampaignError(f"no campaign has the code {typed!r} (cxbot campaign list shows them)")
    return campaign


def _status(args: argparse.Namespace) -> int:
    return run(_print_status, args)


async def _print_status(engine: Engine, args: argparse.Namespace) -> int:
    campaign = await _find(engine, args.code)

    _print(await engine.store.read(partial(campaign_status, cat=engine.context.cat, campaign=campaign)))
    return 0


def _close(args: argparse.Namespace) -> int:
    return run(_close_campaign, args)


async def _close_campaign(engine: Engine, args: argparse.Namespace) -> int:
    campaign = await _find(engine, args.code)
    if campaign.closed_at is not None:
        print(f"{campaign.title} was already closed.")
        return 0
    await engine.store.run(partial(admin.close, campaign=campaign))
    print(f"{campaign.title} is closed: it takes no more answers. Its report stays available.")
    return 0


def _remind(args: argparse.Namespace) -> int:
    return run(_remind_campaign, args)


async def _remind_campaign(engine: Engine, args: argparse.Namespace) -> int:
    campaign = await _open_campaign(engine, args.code)
    count = await engine.store.run(partial(admin.remind, campaign=campaign))
    if count == 0:
        print(
            "Nobody to remind now: everyone unfinished was reminded lately, had the most reminders, or left."
        )
    else:
        print(
            f"Reminding {count} people. A running cxbot serve delivers them; the rest see it when they write."
        )
    return 0


def _round(args: argparse.Namespace) -> int:
    return run(_next_round, args)


async def _next_round(engine: Engine, args: argparse.Namespace) -> int:
    campaign = await _open_campaign(engine, args.code)
    framework = engine.context.frameworks.get(campaign.framework_id)
    if framework is None:
        raise CampaignError(
            f"{campaign.title} uses the assessment {campaign.framework_id!r}, which is not installed"
        )
    number = await engine.store.run(
        partial(admin.next_round, campaign=campaign, framework_version=framework.version)
    )
    print(f"Round {number} of {campaign.title} is open; members are told.")
    return 0


async def _open_campaign(engine: Engine, typed: str) -> CampaignRecord:
    campaign = await _find(engine, typed)
    if not campaign.is_open(datetime.now(UTC)):
        raise CampaignError(f"{campaign.title} is closed")
    return campaign


def _schedule(args: argparse.Namespace) -> int:
    return run(_schedule_campaign, args)


async def _schedule_campaign(engine: Engine, args: argparse.Namespace) -> int:
    campaign = await _open_campaign(engine, args.code)
    wanted = {REMIND_JOB: args.remind_every, ROUND_JOB: args.round_every}
    if all(days is None for days in wanted.values()):
        raise CampaignError("say what to schedule: --remind-every DAYS and/or --round-every DAYS")
    for kind, days in wanted.items():
        if days is None:
            continue
        if not 0 <= days <= SCHEDULE_LIMITS[kind]:
            raise CampaignError(f"--{kind}-every must be 0 (stop) to {SCHEDULE_LIMITS[kind]} days")
        await engine.store.run(partial(admin.schedule_every, campaign=campaign, kind=kind, days=days))
        what = "reminders" if kind == REMIND_JOB else "new rounds"
        print(
            f"{campaign.title}: {what} every {days} day(s)"
            if days
            else f"{campaign.title}: no scheduled {what}"
        )
    return 0


def _report(args: argparse.Namespace) -> int:
    return run(_write_report, args)


async def _write_report(engine: Engine, args: argparse.Namespace) -> int:
    campaign = await _find(engine, args.code)
    if args.round is not None and not 1 <= args.round <= campaign.round:
        raise CampaignError(f"--round must be between 1 and {campaign.round}")
    report = await engine.store.read(
        partial(group_report, context=engine.context, campaign=campaign, round_=args.round)
    )
    if report is None:
        raise CampaignError(
            f"{campaign.title} uses the assessment {campaign.framework_id!r}, which is not installed"
        )
    cat = engine.context.cat
    if args.format == "json":
        _write(args.output, json.dumps(report_json(cat, report), indent=2) + "\n")
    elif args.format == "csv":
        job = partial(answer_sets, campaign_id=campaign.id, round_=report.round, min_group=campaign.min_group)
        sets = await engine.store.read(job)
        if sets is None:
            raise CampaignError(f"no answers are shown until {campaign.min_group} people have finished")
        _write(args.output, answer_sets_csv(report.framework, sets))
    elif args.format == "pdf":
        from bot.report_pdf import report_pdf

        path = Path(args.output or f"cxbot-report-{codes.shown(campaign.code)}-round-{report.round}.pdf")
        document = await asyncio.to_thread(report_pdf, cat, report)
        await asyncio.to_thread(path.write_bytes, document)
        print(f"Wrote {path}")
    else:
        replies = report_replies(cat, report, campaign.dashboard_token)
        _write(args.output, "\n\n".join(_text(reply) for reply in replies) + "\n")
    return 0


def _text(reply: Reply) -> str:
    from bot.terminal import render

    return render(reply, _base())


def _print(reply: Reply) -> None:
    print(_text(reply))


def _write(output: str | None, text: str) -> None:
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
