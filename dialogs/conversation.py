"""The model the state machine drives for one message: a snapshot in, changes and replies out.

Its methods are the machine's conditions and callbacks (named in `dialogs.machine`). It does no
I/O: storage loaded the snapshot before and applies `changes` after.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dialogs import machine as m
from dialogs.calculator_steps import show_step_of
from dialogs.campaign_view import group_reply
from dialogs.catalogue import DEFAULT_LOCALE, Catalogue
from dialogs.render import answered_reply, question_reply, review_reply
from dialogs.result_view import result_replies
from dialogs.tally import tally_rows
from dialogs.types import Button, Inbound, Replies, Reply, ReplyKind
from frameworks.registry import FrameworkRegistry
from frameworks.schema import Framework, Question
from frameworks.scoring import score
from storage.campaign_records import CampaignRecord, ChooseGroup, SetProgress, TallyRun
from storage.campaign_statements import COMPLETED, STARTED
from storage.records import (
    AbandonRun,
    Change,
    ChooseLocale,
    EraseParticipant,
    FinishRun,
    MissingData,
    Needs,
    OpenRun,
    Position,
    ResultRecord,
    RunRecord,
    SaveAnswer,
    Snapshot,
)

if TYPE_CHECKING:
    from dialogs.languages import Languages

EventData = Any  # transitions.EventData; untyped upstream


@dataclass(frozen=True, slots=True)
class Context:
    """What every conversation in one language shares: frameworks (their text in that language)
    and words; and the other languages, for switching."""

    frameworks: FrameworkRegistry
    cat: Catalogue
    locale: str = DEFAULT_LOCALE
    languages: Languages | None = None


class Conversation:
    """One participant's dialogue while one message is handled."""

    def __init__(self, snapshot: Snapshot, inbound: Inbound, context: Context) -> None:
        self.state = snapshot.state
        self.snapshot = snapshot
        self.inbound = inbound
        self.context = context
        self.cat = context.cat
        self.changes: list[Change] = []
        self.replies = Replies(locale=context.locale)
        self.new_locale: str | None = None
        """A locale the channel hints at that is not stored yet: stored with the step (if the
        person is stored), unless a choice made with /language stands."""
        self.run: RunRecord | None = None
        self.framework: Framework | None = None
        self.calculation: RunRecord | None = None
        """The calculator run in hand, when that is what is active (`dialogs.calculator_steps`)."""
        self.now = datetime.now(UTC)
        self._activate(snapshot.active_run)

    # --- the run in hand -------------------------------------------------------------------

    def _activate(self, number: int | None) -> None:
        run = self.snapshot.runs.get(number) if number is not None else None
        if run is not None and run.status == "open" and self.context.frameworks.calculator(run.framework_id):
            self.run, self.framework, self.calculation = None, None, run
            return
        framework = self.framework_of(run) if run else None
        if run is None or framework is None or run.status != "open":
            self.run, self.framework = None, None
            return
        self.run, self.framework, self.calculation = run, framework, None

    def open_run(self, framework: Framework, campaign: CampaignRecord | None = None) -> None:
        """Start a new attempt at question 1 (in a campaign's current round) and make it the active one."""
        self.snapshot.run_count += 1
        number = self.snapshot.run_count
        campaign_id, round_ = (campaign.id, campaign.round) if campaign else (None, None)
        self.snapshot.runs[number] = RunRecord(
            number,
            framework.id,
            framework.version,
            "open",
            0,
            self.now,
            campaign_id=campaign_id,
            round=round_,
        )
        if campaign is not None:
            self.snapshot.run_campaigns[campaign.id] = campaign
        self.changes.append(OpenRun(number, framework.id, framework.version, campaign_id, round_))
        self._activate(number)

    def framework_of(self, run: RunRecord) -> Framework | None:
        """The framework as it was when the run started (its file may have changed or gone since)."""
        return self.context.frameworks.pinned(run.framework_id, run.framework_version)

    def open_run_of(self, framework_id: str) -> RunRecord | None:
        """The open attempt of a framework taken alone (not in a campaign)."""
        return next(
            (r for r in self.open_runs() if r.framework_id == framework_id and r.campaign_id is None),
            None,
        )

    def open_run_in(self, campaign_id: int) -> RunRecord | None:
        """The open attempt in a campaign."""
        runs = self.snapshot.runs.values()
        return next((r for r in runs if r.status == "open" and r.campaign_id == campaign_id), None)

    def campaign_of(self, run: RunRecord | None) -> CampaignRecord | None:
        """The campaign a run belongs to, if any."""
        if run is None or run.campaign_id is None:
            return None
        return self.snapshot.run_campaigns.get(run.campaign_id)

    def open_runs(self) -> list[RunRecord]:
        """Open attempts whose framework version can still be had, most recent first (a run whose
        file was removed carries on with its stored version)."""
        runs = self.snapshot.runs.values()
        found = [r for r in runs if r.status == "open" and self.framework_of(r) is not None]
        return sorted(found, key=lambda r: r.number, reverse=True)

    def run_title(self, run: RunRecord) -> str:
        """How a person recognises an attempt: its campaign's title, else its framework's."""
        campaign = self.campaign_of(run)
        framework = self.framework_of(run)
        return campaign.title if campaign else framework.title if framework else run.framework_id

    def latest_open_run(self) -> RunRecord | None:
        """The most recently started open run that can be carried on."""
        runs = self.open_runs()
        return runs[0] if runs else None

    def resume(self, run: RunRecord) -> None:
        self._activate(run.number)

    @property
    def questions(self) -> tuple[Question, ...]:
        return self.framework.questions if self.framework else ()

    def current(self) -> tuple[RunRecord, Framework]:
        if self.run is None or self.framework is None:
            raise LookupError("no active run")
        return self.run, self.framework

    def position(self) -> Position:
        run = self.run or self.calculation
        return Position(self.state, run.number if run else None, run.cursor if run else 0)

    def use_language(self, context: Context) -> None:
        """Speak another language from here on (this step's later replies too), as chosen with
        /language: stored as a choice, which later hints do not override."""
        self.context, self.cat = context, context.cat
        self.replies.locale = context.locale
        self.changes.append(ChooseLocale(context.locale))
        self.snapshot.locale, self.snapshot.locale_chosen = context.locale, True
        self.new_locale = None
        self._activate(self.run.number if self.run else None)  # its framework, in the new language

    def say(self, key: str, kind: ReplyKind = ReplyKind.NOTICE, **values: Any) -> None:
        self.replies.append(Reply(text=self.cat.text(key, **values), kind=kind))

    # --- conditions --------------------------------------------------------------------------

    def has_run(self, _: EventData = None) -> bool:
        return self.run is not None

    def run_complete(self, _: EventData = None) -> bool:
        return self.run is not None and all(q.id in self.run.answers for q in self.questions)

    def on_last_question(self, _: EventData = None) -> bool:
        return self.run is not None and self.run.cursor >= len(self.questions) - 1

    def review_enabled(self, _: EventData = None) -> bool:
        return self.framework is not None and self.framework.review_before_submit

    def has_previous(self, _: EventData = None) -> bool:
        return self.run is not None and self.run.cursor > 0

    def has_answers(self, _: EventData = None) -> bool:
        return self.run is not None and any(v is not None for v in self.run.answers.values())

    # --- callbacks ---------------------------------------------------------------------------

    def record(self, event: EventData) -> None:
        """Store the answer (or skip) to the question at the cursor."""
        run, framework = self.current()
        value: int | None = event.kwargs.get("value")
        question = framework.questions[run.cursor]
        if run.campaign_id is not None and run.round is not None and not run.answers:
            self.changes.append(SetProgress(run.campaign_id, run.round, STARTED))
        run.answers[question.id] = value
        dimension = framework.dimension_of[question.id].id
        self.changes.append(SaveAnswer(run.number, question.id, dimension, value))
        self.replies.append(answered_reply(self.cat, framework, run.number, run.cursor, value))

    def advance(self, _: EventData) -> None:
        self.current()[0].cursor += 1

    def retreat(self, _: EventData) -> None:
        self.current()[0].cursor -= 1

    def go_to(self, event: EventData) -> None:
        self.current()[0].cursor = event.kwargs["index"]

    def first_open(self) -> int:
        """Where the person left off: the first question not yet answered or skipped (else the last)."""
        run, framework = self.current()
        missing = (i for i, q in enumerate(framework.questions) if q.id not in run.answers)
        return next(missing, len(framework.questions) - 1)

    def go_to_first_open(self, _: EventData) -> None:
        self.current()[0].cursor = self.first_open()

    def back_from_review(self, _: EventData) -> None:
        """From a full review, back is the last question; from one asked for midway, where they were."""
        if self.run_complete():
            self.current()[0].cursor = len(self.questions) - 1

    def show_question(self, _: EventData = None) -> None:
        run, framework = self.current()
        self.replies.append(question_reply(self.cat, framework, run.number, run.cursor, run.answers))

    def show_where(self) -> None:
        """Show again what the person is in the middle of: a question, the review, a confirmation or
        the choice of a group; nothing when they are in the middle of nothing."""
        shown = {
            m.ASKING: self.show_question,
            m.REVISING: self.show_question,
            m.REVIEWING: self.show_review,
            m.CONFIRMING_RESTART: self.show_confirm_restart,
            m.CONFIRMING_DELETE: self.show_confirm_delete,
            m.CHOOSING_GROUP: self.show_groups,
            m.CALCULATING: lambda _: show_step_of(self),
        }.get(self.state)
        if shown is not None and (self.run is not None or self.state not in m.NEEDS_RUN):
            shown(None)

    def show_review(self, _: EventData = None) -> None:
        run, framework = self.current()
        self.replies.append(review_reply(self.cat, framework, run.number, run.answers))

    def finish_run(self, _: EventData) -> None:
        """Score the run, store the result, and show it (with the change since last time)."""
        run, framework = self.current()
        previous = self._previous_result(framework)
        result = score(framework, run.answers)
        token = secrets.token_urlsafe(18)
        self.changes.append(
            FinishRun(
                run.number,
                None if result.score is None else int(result.score * 10),
                result.stage.id if result.stage else None,
                {d.dimension.id: None if d.score is None else int(d.score * 10) for d in result.dimensions},
                token,
            )
        )
        run.status = "finished"
        self.replies += result_replies(self.cat, result, token, previous=previous)
        campaign = self.campaign_of(run)
        if campaign is not None and run.round is not None:
            rows = tally_rows(framework, run.answers, result)
            self.changes.append(TallyRun(run.number, campaign.id, run.round, framework.version, rows))
            self.changes.append(SetProgress(campaign.id, run.round, COMPLETED))
            self.say(
                "campaign_finished", ReplyKind.RESULT, title=campaign.title, min_group=campaign.min_group
            )
        self.run, self.framework = None, None

    def _previous_result(self, framework: Framework) -> ResultRecord | None:
        """The person's latest result of this framework version, to compare with (loaded on demand)."""
        if self.snapshot.previous is None:
            raise MissingData(Needs(previous_results=True))
        previous = self.snapshot.previous.get(framework.id)
        return previous if previous is not None and previous.framework_version == framework.version else None

    def abandon(self, run: RunRecord) -> None:
        """Set an open attempt aside (it stays in the person's data, as abandoned)."""
        self.changes.append(AbandonRun(run.number))
        run.status = "abandoned"
        if self.run is run:
            self.run, self.framework = None, None

    def abandon_and_reopen(self, _: EventData) -> None:
        run, framework = self.current()
        self.abandon(run)
        self.open_run(framework, self.campaign_of(run))
        self.say("restarted", ReplyKind.INFO, title=framework.title)

    def show_confirm_restart(self, _: EventData) -> None:
        run, framework = self.current()
        answered = sum(1 for v in run.answers.values() if v is not None)
        self._confirm(
            self.cat.text("confirm_restart", title=framework.title, answered=answered),
            "restart",
            "button_yes_restart",
        )

    def show_confirm_delete(self, _: EventData) -> None:
        self._confirm(self.cat.text("confirm_delete"), "delete", "button_yes_delete")

    def show_how_to_erase(self) -> None:
        """The erasure is still waiting for its own button or word: say so, with the buttons again."""
        self._confirm(self.cat.text("confirm_delete_how"), "delete", "button_yes_delete")

    def _confirm(self, text: str, what: str, yes_key: str) -> None:
        buttons = (Button(self.cat.text(yes_key), f"/yes {what}"), Button(self.cat.text("button_no"), "/no"))
        self.replies.append(Reply(text=text, buttons=buttons, kind=ReplyKind.CONFIRM))

    def erase_everything(self, _: EventData) -> None:
        self.changes = [EraseParticipant()]
        self.run, self.framework = None, None
        self.say("deleted", ReplyKind.INFO)

    def say_cancelled(self, _: EventData) -> None:
        self.say("cancelled")

    def show_groups(self, _: EventData = None) -> None:
        """The groups of the campaign being joined, one button each."""
        campaign = self.snapshot.joining
        if campaign is not None:
            self.replies.append(group_reply(self.cat, campaign))

    def choose_group_in(self, campaign: CampaignRecord | None) -> None:
        """Start or stop choosing a group (stored, so a typed answer finds the campaign)."""
        if self.snapshot.joining != campaign:
            self.changes.append(ChooseGroup(campaign.id if campaign else None))
            self.snapshot.joining = campaign
