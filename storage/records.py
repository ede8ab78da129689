"""What the engine reads from storage and the changes it hands back: plain values, no SQL.

The engine's step is pure: it gets a `Snapshot`, returns `Change` values, and storage applies
them in the same transaction. Runs are named by their number per participant, so a step can
open a run and answer in it before the database has given the run an id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from storage.calculator_records import SetInputs, StoreCalculation, StoredCalculation
from storage.campaign_records import (
    AcceptInvitation,
    CampaignRecord,
    ChooseGroup,
    CloseCampaign,
    CreateCampaign,
    InvitationRecord,
    InviteFacilitator,
    JoinCampaign,
    MemberRecord,
    NudgeRecord,
    NudgesSent,
    QueueNudges,
    ScheduleJob,
    SetProgress,
    SettleNudges,
    StartRound,
    TallyRun,
)

OVERALL = "*"
"""The `part` of a run's overall score in campaign tallies (dimension ids are slugs: never this)."""


@dataclass(slots=True)
class RunRecord:
    number: int
    framework_id: str
    framework_version: str
    status: str
    cursor: int
    started_at: datetime
    finished_at: datetime | None = None
    answers: dict[str, int | None] = field(default_factory=dict)
    """Question id to level; None is a skipped question. Questions not yet reached are absent."""
    campaign_id: int | None = None
    round: int | None = None
    inputs: dict[str, str] = field(default_factory=dict)
    """A calculator run's inputs so far: input id to exact value (`storage.calculator_records`)."""
    refinements: tuple[str, ...] = ()
    """The refinements a calculator run asks after its inputs (`/channels`)."""


@dataclass(frozen=True, slots=True)
class ResultRecord:
    run_number: int
    framework_id: str
    framework_version: str
    score_tenths: int | None
    stage_id: str | None
    dimension_tenths: dict[str, int | None]
    chart_token: str
    created_at: datetime
    calculation: StoredCalculation | None = None
    """A calculator's result: the inputs and figures as shown (None for an assessment's)."""


@dataclass(frozen=True, slots=True)
class KeptReplies:
    """The replies remembered for a person's recent messages, so a message delivered twice gets the
    same answer (`processed_messages`): how many, when the first and last were given, and the time by
    which the last one is deleted."""

    count: int
    first: datetime
    last: datetime
    until: datetime


@dataclass(slots=True)
class Snapshot:
    """One participant's conversation as loaded for one message."""

    state: str = "idle"
    active_run: int | None = None
    runs: dict[int, RunRecord] = field(default_factory=dict)
    """Open runs always; every run when the message needs history (`/mydata`, `/results`)."""
    run_count: int = 0
    latest_result: ResultRecord | None = None
    results: list[ResultRecord] = field(default_factory=list)
    created_at: datetime | None = None
    display_name: str | None = None
    last_seen_at: datetime | None = None
    inactive: bool = False
    callback_url: str | None = None
    locale: str | None = None
    """The language the person is answered in, as last chosen or hinted (see `dialogs.languages`)."""
    locale_chosen: bool = False
    """Whether `locale` was chosen with /language (then a channel's hint does not change it)."""
    joining: CampaignRecord | None = None
    """The campaign whose group the person is choosing (state `choosing_group`)."""
    run_campaigns: dict[int, CampaignRecord] = field(default_factory=dict)
    """The campaigns of the open runs, by campaign id."""
    campaign: CampaignRecord | None = None
    """The campaign the message names by code (`Needs.campaign_code`), if it exists."""
    membership: MemberRecord | None = None
    """The person's membership of `campaign`."""
    role: str | None = None
    """The person's role in `campaign` (owner, facilitator), if any."""
    invitation: InvitationRecord | None = None
    previous: dict[str, ResultRecord] | None = None
    """The latest result per framework id (`Needs.previous_results`; None until loaded)."""
    remind_eligible: int = 0
    nudges: list[NudgeRecord] = field(default_factory=list)
    """Reminders and notices waiting to be shown to the person when they next write."""
    memberships: list[tuple[CampaignRecord, MemberRecord]] = field(default_factory=list)
    """Every campaign the person joined (with `Needs.history`)."""
    running: list[tuple[CampaignRecord, str]] = field(default_factory=list)
    """Every campaign the person owns or co-facilitates, with the role (with `Needs.history`)."""
    nudges_sent: list[NudgesSent] = field(default_factory=list)
    """The reminders and notices each campaign sent the person (with `Needs.history`)."""
    kept_replies: KeptReplies | None = None
    """The replies remembered for the person's recent messages (with `Needs.history`)."""
    facts: dict[str, str] = field(default_factory=dict)

    @property
    def stored(self) -> bool:
        """Whether the person has a row at all (nobody is stored before they do something that needs it)."""
        return self.created_at is not None


@dataclass(frozen=True, slots=True)
class Needs:
    """What a step needs loaded beyond the open runs (each costs a query, so only when asked)."""

    latest_result: bool = False
    history: bool = False
    """Every run and result (`/mydata`)."""
    campaign_code: str | None = None
    """The campaign a command names by its join code, with the person's membership and role in it."""
    invitation_code: str | None = None
    previous_results: bool = False
    """The latest result per framework, to show the change since last time when a run finishes."""
    remind: bool = False
    """How many of the named campaign's members a reminder would reach now."""
    service_facts: bool = False

    def merged(self, other: Needs) -> Needs:
        """Everything either asks for."""
        return Needs(**{name: getattr(self, name) or getattr(other, name) for name in Needs.__slots__})


class MissingData(Exception):  # noqa: N818 - a signal to load more, not an error
    """Raised by a step that found it needs more than was loaded; the engine loads it and steps again."""

    def __init__(self, needs: Needs) -> None:
        super().__init__(needs)
        self.needs = needs


@dataclass(frozen=True, slots=True)
class OpenRun:
    number: int
    framework_id: str
    framework_version: str
    campaign_id: int | None = None
    round: int | None = None


@dataclass(frozen=True, slots=True)
class SaveAnswer:
    run: int
    question_id: str
    dimension_id: str
    value: int | None


@dataclass(frozen=True, slots=True)
class FinishRun:
    run: int
    score_tenths: int | None
    stage_id: str | None
    dimension_tenths: dict[str, int | None]
    chart_token: str


@dataclass(frozen=True, slots=True)
class AbandonRun:
    run: int


@dataclass(frozen=True, slots=True)
class EraseParticipant:
    """Remove the participant and everything stored about them."""


@dataclass(frozen=True, slots=True)
class ChooseLocale:
    """The language the person chose with /language (a channel's later hints do not change it)."""

    locale: str


Change = (
    OpenRun
    | SaveAnswer
    | FinishRun
    | AbandonRun
    | EraseParticipant
    | ChooseLocale
    | CreateCampaign
    | JoinCampaign
    | SetProgress
    | ChooseGroup
    | CloseCampaign
    | StartRound
    | QueueNudges
    | InviteFacilitator
    | AcceptInvitation
    | SettleNudges
    | ScheduleJob
    | TallyRun
    | SetInputs
    | StoreCalculation
)


@dataclass(frozen=True, slots=True)
class Position:
    """Where the conversation stands after a step: the only dialogue state stored."""

    state: str
    active_run: int | None
    cursor: int
