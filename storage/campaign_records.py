"""Campaign values the engine reads (records) and the campaign changes it hands back to storage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.campaign_statements import SHOWN

DONE = "done"
LEVEL = "level"
SCORE = "score"
STAGE = "stage"
SKIPPED_LEVEL = -1
"""The kinds of campaign tally (see `storage.tables.campaign_tallies`) and the level of a skip."""

CLOSE_JOB = "close"
REMIND_JOB = "remind"
ROUND_JOB = "round"
"""The kinds of scheduled campaign work."""


@dataclass(frozen=True, slots=True)
class CampaignRecord:
    id: int
    code: str
    framework_id: str
    title: str
    min_group: int
    round: int
    closes_at: datetime | None
    closed_at: datetime | None
    groups: tuple[str, ...]
    """Group names in the order offered (a member's group is its position, from 1)."""
    dashboard_token: str
    max_reminders: int = 3
    reminder_gap_hours: int = 48
    version: str = ""
    """The framework version the current round opened with: everyone who joins the round answers it."""

    def is_open(self, now: datetime) -> bool:
        """Still taking answers: not closed, and its closing date (if any) not passed."""
        return self.closed_at is None and (self.closes_at is None or now < self.closes_at)


@dataclass(frozen=True, slots=True)
class MemberRecord:
    group: int | None
    """Position of the member's group, from 1; None without groups."""
    progress: str
    """joined, started, completed or left: in `progress_round`."""
    progress_round: int


@dataclass(frozen=True, slots=True)
class InvitationRecord:
    code: str
    campaign: CampaignRecord
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class NudgeRecord:
    id: int
    kind: str
    """reminder or round."""
    campaign: CampaignRecord
    moot: bool = False
    """The person has since left the campaign or finished the round it is about."""


@dataclass(frozen=True, slots=True)
class NudgesSent:
    """The reminders and new-round notices one campaign sent a person (for `/mydata`)."""

    campaign: CampaignRecord
    count: int
    latest: datetime


@dataclass(frozen=True, slots=True)
class CreateCampaign:
    code: str
    framework_id: str
    framework_version: str
    title: str
    min_group: int
    dashboard_token: str
    pseudonym_key: str
    groups: tuple[str, ...] = ()
    closes_at: datetime | None = None
    max_reminders: int = 3
    reminder_gap_hours: int = 48


@dataclass(frozen=True, slots=True)
class JoinCampaign:
    campaign_id: int
    group: int | None


@dataclass(frozen=True, slots=True)
class SetProgress:
    """Move the person's progress in a campaign on (joined, started, completed, left)."""

    campaign_id: int
    round: int
    progress: str


@dataclass(frozen=True, slots=True)
class ChooseGroup:
    """The person is now choosing a group in this campaign (None: no longer choosing)."""

    campaign_id: int | None


@dataclass(frozen=True, slots=True)
class CloseCampaign:
    campaign_id: int


@dataclass(frozen=True, slots=True)
class StartRound:
    campaign_id: int
    round: int
    framework_version: str


@dataclass(frozen=True, slots=True)
class QueueNudges:
    """Remind the campaign's unfinished members (kind reminder), or tell members a round opened."""

    campaign_id: int
    round: int
    kind: str


@dataclass(frozen=True, slots=True)
class InviteFacilitator:
    code: str
    campaign_id: int
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class AcceptInvitation:
    code: str
    campaign_id: int


@dataclass(frozen=True, slots=True)
class SettleNudges:
    """The person saw these reminders (they wrote to the bot); or, as `dropped`, they no longer need
    them and were not shown them."""

    ids: tuple[int, ...]
    outcome: str = SHOWN


@dataclass(frozen=True, slots=True)
class ScheduleJob:
    """Run `kind` (remind or round) every `every_hours`, first at `first_at`; 0 hours: stop it."""

    campaign_id: int
    kind: str
    first_at: datetime
    every_hours: int


@dataclass(frozen=True, slots=True)
class TallyRun:
    """Count a finished campaign run into its round's tallies (see `storage.tables.campaign_tallies`)."""

    run: int
    campaign_id: int
    round: int
    framework_version: str
    rows: tuple[tuple[str, str, int, int], ...]
    """(kind, part, a, b) of each property the run adds one to."""
