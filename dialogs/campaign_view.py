"""Campaign messages a participant or facilitator sees in the chat (not the report: `report_view`).

Links to this service's own pages (the dashboard, the web chat) are paths starting with `/`; each
channel makes them absolute with the address people reach it at.
"""

from __future__ import annotations

from datetime import datetime

from dialogs import codes
from dialogs.catalogue import Catalogue
from dialogs.types import Button, Link, Reply, ReplyKind
from storage.campaign_records import CampaignRecord, NudgeRecord
from storage.campaign_statements import REMINDER

TELEGRAM_USERNAME = "telegram_username"
"""The `service_facts` name under which the Telegram channel records its bot's username."""


def dashboard_path(token: str) -> str:
    return f"/dashboard/{token}"


def join_links(cat: Catalogue, code: str, facts: dict[str, str]) -> list[Link]:
    """Where people can join: the web chat, and Telegram when its bot is known."""
    links = [Link(cat.text("link_web_join"), f"/?join={codes.shown(code)}")]
    if username := facts.get(TELEGRAM_USERNAME):
        links.append(
            Link(cat.text("link_telegram_join"), f"https://t.me/{username}?start={codes.shown(code)}")
        )
    return links


def created_reply(cat: Catalogue, campaign: CampaignRecord, facts: dict[str, str]) -> Reply:
    code = codes.shown(campaign.code)
    links = (
        Link(cat.text("link_dashboard"), dashboard_path(campaign.dashboard_token)),
        *join_links(cat, campaign.code, facts),
    )
    return Reply(
        text=cat.text("campaign_created", code=code, min_group=campaign.min_group),
        title=cat.text("campaign_created_title", title=campaign.title),
        links=links,
    )


def group_reply(cat: Catalogue, campaign: CampaignRecord) -> Reply:
    """The groups to choose from when joining, one button each."""
    code = codes.shown(campaign.code)
    lines = [cat.text("choose_group", min_group=campaign.min_group)]
    lines += [f"{n} - {name}" for n, name in enumerate(campaign.groups, start=1)]
    buttons = tuple(
        Button(cat.text("group_button", name=name), f"/join {code} {n}")
        for n, name in enumerate(campaign.groups, start=1)
    )
    return Reply(text="\n".join(lines), title=campaign.title, buttons=buttons)


def join_notice(cat: Catalogue, campaign: CampaignRecord) -> Reply:
    """Who sees what, said once when someone joins."""
    text = cat.text(
        "join_notice", title=campaign.title, min_group=campaign.min_group, code=codes.shown(campaign.code)
    )
    if campaign.round > 1:
        text = f"{text} {cat.text('join_round', round=campaign.round)}"
    return Reply(text=text, title=campaign.title, kind=ReplyKind.INFO)


def nudge_reply(cat: Catalogue, nudge: NudgeRecord) -> Reply:
    """A reminder (or a new round's notice), with a button that carries on where they stopped."""
    campaign = nudge.campaign
    code = codes.shown(campaign.code)
    if nudge.kind == REMINDER:
        text = cat.text("nudge_reminder", title=campaign.title, code=code)
    else:
        text = cat.text("nudge_round", title=campaign.title, code=code, round=campaign.round)
    button = Button(cat.text("nudge_button", title=campaign.title), f"/start {code}")
    return Reply(text=text, buttons=(button,), kind=ReplyKind.NOTICE)


def when(moment: datetime | None, cat: Catalogue) -> str:
    """A time as facilitators see it: to the hour (finer would help tell people apart)."""
    return cat.text("status_never") if moment is None else moment.strftime("%Y-%m-%d %H:00 UTC")
