"""Campaign commands that change something: joining and leaving, and a facilitator's actions.

Reading a campaign (`/campaigns`, `/campaign status`, `/campaign report`) changes nothing and is
answered outside the per-message transaction (`dialogs.campaign_queries`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from dialogs import codes
from dialogs import machine as m
from dialogs.calculator_dialogue import refuses_campaign
from dialogs.campaign_view import created_reply, join_notice
from dialogs.commands import Command, whole_number
from dialogs.conversation import Conversation
from dialogs.types import Reply, ReplyKind
from storage.campaign_records import (
    REMIND_JOB,
    ROUND_JOB,
    AcceptInvitation,
    CampaignRecord,
    CloseCampaign,
    CreateCampaign,
    InviteFacilitator,
    JoinCampaign,
    MemberRecord,
    QueueNudges,
    ScheduleJob,
    SetProgress,
    StartRound,
)
from storage.campaign_repository import OWNER
from storage.campaign_statements import COMPLETED, LEFT, REMINDER, ROUND

if TYPE_CHECKING:
    from dialogs.dialogue import Dialogue

DEFAULT_MIN_GROUP = 5
MIN_GROUP_FLOOR = 3
"""Below three, a group result says too much about each person in it."""
DEFAULT_MAX_REMINDERS = 3
DEFAULT_REMINDER_GAP_HOURS = 48
REMINDER_LIMITS = {"max_reminders": (0, 10), "reminder_gap_days": (1, 30)}
"""What a campaign may set: reminders per person and round (0: none), and days between two."""
INVITATION_DAYS = 7
SCHEDULE_LIMITS = {REMIND_JOB: 30, ROUND_JOB: 365}
"""The longest gap, in days, between scheduled reminders and between rounds."""
QUERIES = frozenset({"status", "report"})
"""Subcommands answered by `dialogs.campaign_queries` (they read, and change nothing)."""


class CampaignCommands:
    """`/join`, `/leave` and `/campaign ...`, on the dialogue's shared machine."""

    def __init__(self, dialogue: Dialogue) -> None:
        self.dialogue = dialogue
        self._actions: dict[str, Callable[[Conversation, Command], None]] = {
            "new": self._new,
            "remind": self._remind,
            "close": self._close,
            "round": self._round,
            "add-facilitator": self._invite,
            "schedule": self._schedule,
            "accept": self._accept,
        }

    # --- taking part ----------------------------------------------------------------------

    def join_command(self, conv: Conversation, command: Command) -> None:
        """`/join CODE [group]`."""
        if not command.args:
            conv.say("join_usage")
            return
        self.join(conv, command.args[0], conv.snapshot.campaign, conv.snapshot.membership, command.args[1:])

    def join(
        self,
        conv: Conversation,
        typed_code: str,
        campaign: CampaignRecord | None,
        member: MemberRecord | None,
        group_words: tuple[str, ...] = (),
    ) -> None:
        """Join (or go back to) a campaign: choose a group if it has groups, then question 1."""
        if campaign is None:
            conv.say("join_unknown", code=typed_code[:32])
            return
        # everyone in a round answers the version it opened with, even if the file changed since
        framework = conv.context.frameworks.pinned(campaign.framework_id, campaign.version)
        if framework is None:
            conv.say("join_unavailable", title=campaign.title)
            return
        existing = conv.open_run_in(campaign.id)
        if not campaign.is_open(conv.now):  # closed, or past its closing date before its job has run
            if existing is None:
                conv.say("join_closed", title=campaign.title)
            else:
                conv.abandon(existing)
                conv.say("campaign_run_closed", ReplyKind.INFO, title=campaign.title)
            return
        if existing is not None:
            conv.choose_group_in(None)
            conv.resume(existing)
            self.dialogue.resume(conv)
            return
        if member is not None and member.progress == COMPLETED and member.progress_round >= campaign.round:
            note = conv.cat.text("join_done_round", round=campaign.round) if campaign.round > 1 else ""
            conv.say("join_done", ReplyKind.INFO, title=campaign.title, round_note=note)
            return
        group = member.group if member is not None else None
        if campaign.groups and group is None:
            group = _group(campaign, " ".join(group_words))
            if group is None:
                if group_words:
                    conv.say("choose_group_again")
                conv.choose_group_in(campaign)
                self.dialogue.fire(conv, "choose_group")
                return
        conv.choose_group_in(None)
        conv.changes.append(JoinCampaign(campaign.id, group))
        conv.replies.append(join_notice(conv.cat, campaign))
        self.dialogue.open_and_begin(conv, framework, campaign)

    def group_typed(self, conv: Conversation, text: str) -> None:
        """Text while choosing a group: its number or name."""
        campaign = conv.snapshot.joining
        if campaign is None:
            return
        if _group(campaign, text) is None:
            conv.say("choose_group_again")
            conv.show_groups()
            return
        self.join(conv, campaign.code, campaign, None, (text,))

    def leave(self, conv: Conversation, command: Command) -> None:
        """`/leave CODE`: no more reminders, and the open attempt there is set aside."""
        campaign, member = conv.snapshot.campaign, conv.snapshot.membership
        if not command.args:
            conv.say("leave_usage")
            return
        if campaign is None or member is None or member.progress == LEFT:
            conv.say("leave_not_member", code=command.args[0][:32])
            return
        conv.changes.append(SetProgress(campaign.id, campaign.round, LEFT))
        if (run := conv.open_run_in(campaign.id)) is not None:
            conv.abandon(run)
        if conv.run is None and conv.state != m.IDLE:
            self.dialogue.fire(conv, "leave")
        conv.say("left", ReplyKind.INFO, title=campaign.title, code=codes.shown(campaign.code))

    # --- facilitators ---------------------------------------------------------------------

    def campaign_command(self, conv: Conversation, command: Command) -> None:
        """`/campaign <action> ...`; help for anything else."""
        name = command.args[0].lower() if command.args else ""
        action = self._actions.get(name)
        if action is not None:
            action(conv, command)
            return
        lead = [conv.cat.text("campaign_unknown_subcommand", name=name[:32])] if name else []
        text = "\n".join([*lead, conv.cat.text("campaign_help")])
        conv.replies.append(Reply(text=text, title=conv.cat.text("campaign_help_title")))

    def _new(self, conv: Conversation, command: Command) -> None:
        framework = conv.context.frameworks.get(command.args[1].lower()) if len(command.args) > 1 else None
        if framework is None and len(command.args) > 1 and refuses_campaign(conv, command.args[1]):
            return
        if framework is None:
            lines = [conv.cat.text("campaign_new_usage")]
            lines += [f"- {f.title}: /campaign new {f.id}" for f in conv.context.frameworks.all()]
            conv.replies.append(Reply(text="\n".join(lines), kind=ReplyKind.NOTICE))
            return
        title = " ".join(command.args[2:])[:120] or framework.title
        change = new_campaign(framework.id, framework.version, title)
        conv.changes.append(change)
        campaign = CampaignRecord(
            0, change.code, framework.id, title, change.min_group, 1, None, None, (), change.dashboard_token
        )
        conv.replies.append(created_reply(conv.cat, campaign, conv.snapshot.facts))

    def _remind(self, conv: Conversation, command: Command) -> None:
        campaign = self._run_by_me(conv, command)
        if campaign is None or not self._still_open(conv, campaign):
            return
        code = codes.shown(campaign.code)
        if conv.snapshot.remind_eligible == 0:
            gap, most = campaign.reminder_gap_hours, campaign.max_reminders
            conv.say("campaign_remind_none", ReplyKind.INFO, gap=gap, max=most)
            return
        conv.changes.append(QueueNudges(campaign.id, campaign.round, REMINDER))
        conv.say("campaign_remind_queued", ReplyKind.INFO, count=conv.snapshot.remind_eligible, code=code)

    def _close(self, conv: Conversation, command: Command) -> None:
        campaign = self._run_by_me(conv, command)
        if campaign is None:
            return
        if campaign.closed_at is not None:
            conv.say("campaign_already_closed", ReplyKind.INFO, title=campaign.title)
            return
        conv.changes.append(CloseCampaign(campaign.id))
        conv.say("campaign_closed_now", ReplyKind.INFO, title=campaign.title)

    def _round(self, conv: Conversation, command: Command) -> None:
        campaign = self._run_by_me(conv, command)
        if campaign is None or not self._still_open(conv, campaign):
            return
        framework = conv.context.frameworks.get(campaign.framework_id)
        if framework is None:
            conv.say("join_unavailable", title=campaign.title)
            return
        number = campaign.round + 1
        conv.changes.append(StartRound(campaign.id, number, framework.version))
        conv.changes.append(QueueNudges(campaign.id, number, ROUND))
        conv.say("campaign_round_opened", ReplyKind.INFO, round=number, title=campaign.title, reached="All")

    def _schedule(self, conv: Conversation, command: Command) -> None:
        """`/campaign schedule CODE remind|round DAYS` (or `off`): reminders or rounds by themselves."""
        campaign = self._run_by_me(conv, command)
        if campaign is None or not self._still_open(conv, campaign):
            return
        kind = command.args[2].lower() if len(command.args) > 2 else ""
        days = _days(command.args[3] if len(command.args) > 3 else "", SCHEDULE_LIMITS.get(kind, 0))
        if kind not in SCHEDULE_LIMITS or days is None:
            conv.say("campaign_schedule_usage", code=codes.shown(campaign.code))
            return
        first = conv.now + timedelta(days=days)
        conv.changes.append(ScheduleJob(campaign.id, kind, first, days * 24))
        if days == 0:
            conv.say(f"campaign_schedule_off_{kind}", ReplyKind.INFO, title=campaign.title)
        else:
            most = campaign.max_reminders
            conv.say(f"campaign_schedule_{kind}", ReplyKind.INFO, title=campaign.title, days=days, max=most)

    def _invite(self, conv: Conversation, command: Command) -> None:
        campaign = self._run_by_me(conv, command)
        if campaign is None:
            return
        if conv.snapshot.role != OWNER:
            conv.say("campaign_owner_only", title=campaign.title)
            return
        invite = codes.new_code(codes.INVITATION_LENGTH)
        expires = conv.now + timedelta(days=INVITATION_DAYS)
        conv.changes.append(InviteFacilitator(invite, campaign.id, expires))
        shown = codes.shown(invite)
        conv.say("campaign_invitation", ReplyKind.INFO, invite=shown, days=INVITATION_DAYS)

    def _accept(self, conv: Conversation, command: Command) -> None:
        self.accept(conv)

    def accept(self, conv: Conversation) -> None:
        """Become a co-facilitator with a one-time invitation (`/campaign accept` or `/start`)."""
        invitation = conv.snapshot.invitation
        if invitation is None:
            conv.say("campaign_invitation_unknown")
            return
        if invitation.expires_at <= conv.now:
            conv.say("campaign_invitation_expired")
            return
        campaign = invitation.campaign
        conv.changes.append(AcceptInvitation(invitation.code, campaign.id))
        conv.say("campaign_accepted", ReplyKind.INFO, title=campaign.title, code=codes.shown(campaign.code))

    def _run_by_me(self, conv: Conversation, command: Command) -> CampaignRecord | None:
        """The campaign the command names, if this person runs it; else a refusal that says nothing of
        whether such a campaign exists."""
        if len(command.args) < 2:
            conv.say("campaign_needs_code", name=command.args[0].lower()[:32])
            return None
        campaign = conv.snapshot.campaign
        if campaign is None or conv.snapshot.role is None:
            conv.say("campaign_refused", code=command.args[1][:32])
            return None
        return campaign

    def _still_open(self, conv: Conversation, campaign: CampaignRecord) -> bool:
        if campaign.is_open(conv.now):
            return True
        conv.say("campaign_already_closed", ReplyKind.INFO, title=campaign.title)
        return False


def new_campaign(
    framework_id: str,
    framework_version: str,
    title: str,
    min_group: int = DEFAULT_MIN_GROUP,
    groups: tuple[str, ...] = (),
    closes_at: datetime | None = None,
    max_reminders: int = DEFAULT_MAX_REMINDERS,
    reminder_gap_hours: int = DEFAULT_REMINDER_GAP_HOURS,
) -> CreateCampaign:
    """A new campaign with a fresh join code, dashboard token and pseudonym key."""
    return CreateCampaign(
        code=codes.new_code(),
        framework_id=framework_id,
        framework_version=framework_version,
        title=title,
        min_group=max(min_group, MIN_GROUP_FLOOR),
        dashboard_token=secrets.token_urlsafe(24),
        pseudonym_key=secrets.token_hex(32),
        groups=groups,
        closes_at=closes_at,
        max_reminders=max_reminders,
        reminder_gap_hours=reminder_gap_hours,
    )


def _days(text: str, most: int) -> int | None:
    """Whole days from 1 to `most`, or 0 for "off"; None for anything else."""
    if text.lower() in ("off", "stop", "0"):
        return 0
    number = whole_number(text)
    return number if number is not None and 1 <= number <= most else None


def _group(campaign: CampaignRecord, typed: str) -> int | None:
    """A group's position from its number or name as typed (any case); None if it is neither."""
    text = " ".join(typed.split()).lower()
    if not text:
        return None
    number = whole_number(text)
    if number is not None:
        return number if 1 <= number <= len(campaign.groups) else None
    names = [name.lower() for name in campaign.groups]
    return names.index(text) + 1 if text in names else None
