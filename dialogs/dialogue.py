"""What each command does in each state: the handlers pick the machine's events."""

from __future__ import annotations

from collections.abc import Callable

from transitions import EventData

from dialogs import codes
from dialogs import machine as m
from dialogs.calculator_dialogue import CalculatorCommands
from dialogs.campaign_dialogue import CampaignCommands
from dialogs.campaign_view import nudge_reply
from dialogs.commands import TEXT, Command, parse_answer_payload, parse_position, whole_number
from dialogs.conversation import Conversation
from dialogs.language_dialogue import language_command
from dialogs.my_data import my_data_replies
from dialogs.render import level_label, menu_reply
from dialogs.result_view import result_replies, stored_result_replies
from dialogs.types import Reply, ReplyKind
from frameworks.schema import Framework
from frameworks.scoring import score
from storage.campaign_records import CampaignRecord, SettleNudges
from storage.campaign_statements import DROPPED
from storage.records import RunRecord

Handler = Callable[[Conversation, Command], None]
NAMES_CAMPAIGN = frozenset({"start", "join", "leave"})
"""Commands whose first argument may be a campaign's code."""
CARRYING_ON = frozenset({TEXT, "answer", "skip", "back", "review", "change", "submit", "start"})
"""Commands that carry on the attempt in hand (`/start` without a code resumes it)."""


class Dialogue:
    """Routes a command to its handler; handlers fire events on the shared machine."""

    def __init__(self) -> None:
        self.machine = m.build_machine()
        self.campaigns = CampaignCommands(self)
        self.calculators = CalculatorCommands(self)
        self._handlers: dict[str, Handler] = {
            "start": self._start,
            "help": self._help,
            "back": self._back,
            "skip": self._skip,
            "review": self._review,
            "submit": self._submit,
            "results": self._results,
            "restart": self._restart,
            "mydata": self._mydata,
            "deletemydata": self._delete,
            "answer": self._answer_payload,
            "change": self._change,
            "yes": self._yes,
            "no": self._no,
            "join": self.campaigns.join_command,
            "leave": self.campaigns.leave,
            "campaign": self.campaigns.campaign_command,
            "language": language_command,
            TEXT: self._text,
        }

    def handle(self, conv: Conversation, command: Command) -> None:
        """Apply one command to the conversation; replies and changes collect on it."""
        self._set_aside_closed(conv)
        if conv.state in m.NEEDS_RUN and conv.run is None:
            self.fire(conv, "leave")  # the run's framework was removed, or the run closed elsewhere
        if conv.state == m.CHOOSING_GROUP and conv.snapshot.joining is None:
            self.fire(conv, "leave")
        self._show_nudges(conv, command)
        handler = self.calculators.route(conv, command) or self._handlers.get(command.name)
        if handler is None:
            conv.say("unknown_command", command=f"/{command.name}")
        else:
            handler(conv, command)
        if conv.state != m.CHOOSING_GROUP:
            conv.choose_group_in(None)

    def _set_aside_closed(self, conv: Conversation) -> None:
        """An attempt in a campaign that has since closed no longer counts: say so, once."""
        campaign = conv.campaign_of(conv.run)
        if conv.run is None or campaign is None or campaign.is_open(conv.now):
            return
        conv.abandon(conv.run)
        conv.say("campaign_run_closed", ReplyKind.INFO, title=campaign.title)

    def _show_nudges(self, conv: Conversation, command: Command) -> None:
        """Reminders waiting for this person, shown now that they wrote; dropped unseen if they are no
        longer wanted: the person left or finished, is acting on that campaign now, or it closed."""
        nudges = conv.snapshot.nudges
        if not nudges:
            return
        busy_with = _campaign_acted_on(conv, command)
        wanted = [
            n for n in nudges if not n.moot and n.campaign.id != busy_with and n.campaign.is_open(conv.now)
        ]
        conv.replies += [nudge_reply(conv.cat, n) for n in wanted]
        if wanted:
            conv.changes.append(SettleNudges(tuple(n.id for n in wanted)))
        if dropped := tuple(n.id for n in nudges if n not in wanted):
            conv.changes.append(SettleNudges(dropped, DROPPED))

    def fire(self, conv: Conversation, trigger: str, **kwargs: object) -> bool:
        """Fire an event on the shared machine for this conversation; False if no transition fits.

        The event's transitions from the current state are tried in order, as `Event.trigger` does,
        through their own `execute` (conditions, callbacks, the state change); what is left out is
        the machine's queueing and its event-wide callbacks, which this machine does not use and
        which cost more than the transition itself on every message."""
        event = self.machine.events[trigger]
        candidates = event.transitions.get(conv.state)
        if not candidates:
            return False
        data = EventData(
            self.machine.get_state(conv.state), event, self.machine, conv, args=(), kwargs=kwargs
        )
        for transition in candidates:
            data.transition = transition
            if transition.execute(data):
                return True
        return False

    # --- starting and resuming ------------------------------------------------------------

    def _start(self, conv: Conversation, command: Command) -> None:
        if command.args:
            self._start_framework(conv, command.args[0])
        elif (run := conv.run or conv.latest_open_run()) is not None:
            conv.resume(run)
            self.resume(conv)
        elif latest := self._latest_result_replies(conv)[:1]:
            # nothing open: show where they stand (a reloaded web chat has lost the result it showed)
            conv.replies += latest
            self._offer(conv, f"{self._welcome(conv)} {conv.cat.text('start_latest_result')}")
        else:
            self._offer(conv, self._welcome(conv))

    def _start_framework(self, conv: Conversation, name: str) -> None:
        """`/start NAME`: an assessment by id, a campaign by join code, or a facilitator invitation."""
        framework = conv.context.frameworks.get(name.lower())
        snapshot = conv.snapshot
        if (existing := conv.open_run_of(name.lower())) is not None:  # also when its file is gone
            conv.resume(existing)
            self.resume(conv)
            return
        if framework is None and snapshot.campaign is not None:
            self.campaigns.join(conv, name, snapshot.campaign, snapshot.membership)
            return
        if framework is None and snapshot.invitation is not None:
            self.campaigns.accept(conv)
            return
        if framework is None and codes.canonical(name, codes.INVITATION_LENGTH):
            conv.say("campaign_invitation_unknown")  # used already, or mistyped
            return
        if framework is None:
            self._offer(conv, conv.cat.text("unknown_framework", name=name[:64]))
            return
        self.open_and_begin(conv, framework)

    def open_and_begin(
        self, conv: Conversation, framework: Framework, campaign: CampaignRecord | None = None
    ) -> None:
        """A new attempt at question 1, introduced."""
        conv.open_run(framework, campaign)
        conv.replies.append(Reply(text=framework.intro, title=framework.title, kind=ReplyKind.INFO))
        conv.say(
            "starting",
            ReplyKind.INFO,
            count=len(framework.questions),
            dimensions=len(framework.dimensions),
        )
        self.fire(conv, "begin")

    def resume(self, conv: Conversation) -> None:
        """Carry on with the attempt in hand where it stands, naming any other open ones."""
        run, framework = conv.current()
        campaign = conv.campaign_of(run)
        if conv.run_complete() and framework.review_before_submit:
            conv.say("resuming_review", ReplyKind.INFO, title=conv.run_title(run))
        else:
            key = "resuming_campaign" if campaign else "resuming"
            number, count = conv.first_open() + 1, len(framework.questions)
            conv.say(key, ReplyKind.INFO, number=number, count=count, title=conv.run_title(run))
        others = [r for r in conv.open_runs() if r.number != run.number]
        if others:
            titles = "; ".join(f"{conv.run_title(r)} ({_start_command(conv, r)})" for r in others)
            conv.say("other_open", ReplyKind.INFO, titles=titles)
        self.fire(conv, "begin")

    def _welcome(self, conv: Conversation) -> str:
        name = conv.inbound.display_name
        greeting = conv.cat.text("greeting_named", name=name) if name else conv.cat.text("greeting")
        return f"{greeting} {conv.cat.text('welcome')}"

    def _offer(self, conv: Conversation, lead: str) -> None:
        if conv.state != m.IDLE and conv.run is None and conv.calculation is None:
            self.fire(conv, "leave")
        conv.replies.append(menu_reply(conv.cat, conv.context.frameworks.offered(), lead))

    # --- answering ------------------------------------------------------------------------

    def _text(self, conv: Conversation, command: Command) -> None:
        if conv.state == m.CHOOSING_GROUP:
            self.campaigns.group_typed(conv, command.text)
        elif conv.state in m.CONFIRMING:
            self._confirmation_word(conv, command.text)
        elif conv.state in (m.ASKING, m.REVISING):
            value = self._typed_value(conv, command.text)
            if value is None:
                self._not_understood(conv)
            else:
                self.fire(conv, "answer", value=value)
        elif conv.state == m.REVIEWING:
            conv.say("review_footer")
        else:
            self._offer(conv, self._welcome(conv))

    def _typed_value(self, conv: Conversation, text: str) -> int | None:
        """A level typed as its number, its label, or its button title ("3 - Targeted"); anything
        else, such as "3 or 4", is not an answer."""
        run, framework = conv.current()
        typed = " ".join(text.lower().split())
        number = whole_number(typed[:-1] if typed[-1:] in (".", ")") else typed)
        if number is not None:  # the common case, kept quick
            return number if number in framework.scale_values else None
        question = framework.questions[run.cursor]
        for level in question.levels:
            label = level_label(framework, question, level.value).lower()
            if typed in (label, f"{level.value} - {label}", f"{level.value} {label}"):
                return level.value
        return None

    def _not_understood(self, conv: Conversation) -> None:
        _, framework = conv.current()
        conv.say(
            "not_understood",
            low=framework.scale_values[0],
            high=framework.scale_values[-1],
            labels=", ".join(p.label for p in framework.scale),
        )
        conv.show_question()

    def _answer_payload(self, conv: Conversation, command: Command) -> None:
        parsed = parse_answer_payload(command)
        if parsed is None or conv.run is None or conv.state not in (m.ASKING, m.REVISING):
            self._stale(conv)
            return
        run_number, index, value = parsed
        run, framework = conv.current()
        if run_number != run.number or index != run.cursor or value not in framework.scale_values:
            self._stale(conv)
            return
        self.fire(conv, "answer", value=value)

    def _skip(self, conv: Conversation, command: Command) -> None:
        if conv.state not in (m.ASKING, m.REVISING):
            self._not_now(conv, command)
        elif self._pressed_elsewhere(conv, command):
            self._stale(conv)
        else:
            self.fire(conv, "answer", value=None)

    def _back(self, conv: Conversation, command: Command) -> None:
        if conv.state not in m.IN_RUN:
            self._not_now(conv, command)
        elif self._pressed_elsewhere(conv, command):
            self._stale(conv)
        elif not self.fire(conv, "back"):
            conv.say("nothing_to_go_back_to")
            conv.show_question()

    def _pressed_elsewhere(self, conv: Conversation, command: Command) -> bool:
        """A Back or Skip button names the question it was shown with; typed commands name none."""
        if not command.args:
            return False
        position = parse_position(command)
        return position is None or conv.run is None or position != (conv.run.number, conv.run.cursor)

    def _review(self, conv: Conversation, command: Command) -> None:
        if not self.fire(conv, "review"):
            self._not_now(conv, command)

    def _change(self, conv: Conversation, command: Command) -> None:
        """`/change 4` typed, or `/change R 4` from a review's button (which names its run)."""
        if len(command.args) == 1 and whole_number(command.args[0]) is not None and conv.run is not None:
            command = Command(command.name, (str(conv.run.number), command.args[0]), command.text)
        position = parse_position(command)
        if conv.state == m.REVIEWING and position is not None and _in_current_run(conv, position):
            self.fire(conv, "revise", index=position[1])
        else:
            self._stale(conv)

    def _submit(self, conv: Conversation, command: Command) -> None:
        if conv.state not in m.IN_RUN:
            self._not_now(conv, command)
        elif not self.fire(conv, "submit"):
            conv.say("nothing_to_submit")

    def _stale(self, conv: Conversation) -> None:
        """A press of an old button changes nothing; a channel that shows no live buttons of its own
        (the webhook) gets what the person is in the middle of again, buttons and all."""
        conv.say("stale_button")
        if not conv.inbound.buttons_stay:
            conv.show_where()

    def _not_now(self, conv: Conversation, command: Command) -> None:
        if conv.run is None:
            conv.say("no_open_run")
        else:
            conv.say("command_not_now", command=f"/{command.name}")

    # --- confirmations --------------------------------------------------------------------

    def _restart(self, conv: Conversation, command: Command) -> None:
        if not self.fire(conv, "ask_restart"):
            self._not_now(conv, command)

    def _delete(self, conv: Conversation, _: Command) -> None:
        if conv.snapshot.stored:
            self.fire(conv, "ask_delete")
        else:  # nothing to erase, and asking would store someone just to erase them
            conv.say("delete_nothing")

    def _yes(self, conv: Conversation, command: Command) -> None:
        what = command.args[0] if command.args else ""
        if conv.state == m.CONFIRMING_RESTART and what in ("", "restart"):
            self.fire(conv, "restart")
        elif conv.state == m.CONFIRMING_DELETE and what == "delete":
            self.fire(conv, "erase")
        elif conv.state == m.CONFIRMING_DELETE and not what:
            conv.show_how_to_erase()  # a bare yes could be a slip: erasure takes its button or word
        else:
            self._not_confirming(conv, command)

    def _no(self, conv: Conversation, command: Command) -> None:
        if not self.fire(conv, "cancel"):
            self._not_confirming(conv, command)

    def _not_confirming(self, conv: Conversation, command: Command) -> None:
        """A Yes button from a finished confirmation, or /yes or /no with nothing to confirm."""
        if command.args:
            self._stale(conv)
        else:
            self._not_now(conv, command)

    def _confirmation_word(self, conv: Conversation, text: str) -> None:
        word = " ".join(text.lower().split()).rstrip(".!")
        erasing = conv.state == m.CONFIRMING_DELETE
        if erasing and word in conv.cat.words("delete_words"):
            self.fire(conv, "erase")
        elif word in conv.cat.words("yes_words"):
            self._yes(conv, Command("yes", (), text))
        elif word in conv.cat.words("no_words"):
            self._no(conv, Command("no", (), text))
        elif erasing:
            conv.show_how_to_erase()
        else:
            conv.say("confirm_expected")

    # --- information ----------------------------------------------------------------------

    def _help(self, conv: Conversation, _: Command) -> None:
        conv.replies.append(Reply(text=conv.cat.text("help"), title=conv.cat.text("help_title")))

    def _results(self, conv: Conversation, _: Command) -> None:
        replies = self._latest_result_replies(conv)
        if replies:
            conv.replies += replies
        else:
            conv.say("no_results")

    def _latest_result_replies(self, conv: Conversation) -> list[Reply]:
        """The person's latest result, every message of it; none if there is none to show."""
        stored = conv.snapshot.latest_result
        if stored is not None and stored.calculation is not None:
            return self.calculators.result_replies(conv, stored)
        run = conv.snapshot.runs.get(stored.run_number) if stored else None
        framework = conv.framework_of(run) if run else None
        if stored is None or run is None or framework is None:
            return []
        if stored.framework_version != framework.version:
            note = conv.cat.text("results_version_changed", title=framework.title)
            return stored_result_replies(conv.cat, framework, stored, note)
        return result_replies(conv.cat, score(framework, run.answers), stored.chart_token)

    def _mydata(self, conv: Conversation, _: Command) -> None:
        conv.replies += my_data_replies(
            conv.cat, conv.context.frameworks, conv.snapshot, conv.inbound.channel, conv.inbound.sender
        )


def _start_command(conv: Conversation, run: RunRecord) -> str:
    """The command that resumes an attempt: its campaign's code, else its framework's id."""
    campaign = conv.campaign_of(run)
    return f"/start {codes.shown(campaign.code)}" if campaign else f"/start {run.framework_id}"


def _in_current_run(conv: Conversation, position: tuple[int, int]) -> bool:
    """Whether (run, question index) names a question of the run in hand."""
    run, index = position
    return conv.run is not None and run == conv.run.number and 0 <= index < len(conv.questions)


def _campaign_acted_on(conv: Conversation, command: Command) -> int | None:
    """The campaign this message goes to (by its code, or by answering its attempt), if any: a
    reminder to carry it on would come too late."""
    if command.name in NAMES_CAMPAIGN and command.args:
        code = codes.canonical(command.args[0])
        campaign = conv.snapshot.campaign
        return campaign.id if campaign is not None and campaign.code == code else None
    if command.name in CARRYING_ON and (campaign := conv.campaign_of(conv.run)) is not None:
        return campaign.id
    return None
