"""Calculators in the chat: `/start <calculator>`, the inputs one at a time, `/back`, the summary,
its refinements (`/channels`), `/csv` and `/results`.

Nothing here knows a calculator's inputs or figures: they come from its file (`kind: calculator`,
`frameworks.calculator`). A run of a calculator is a run like an assessment's, in the machine's
`calculating` state while its inputs are asked; its callbacks are in `dialogs.calculator_steps`.
A refinement of a finished calculation is a new run that starts with that calculation's inputs and
asks the refinement's, so the first result stays as it was and `/results` shows the newer one.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING

from dialogs import machine as m
from dialogs.calculator_steps import in_hand, show_step_of, steps_of, values_of
from dialogs.calculator_view import export_path, refusal_reply, stored_csv, summary_replies
from dialogs.commands import TEXT, Command, parse_position
from dialogs.conversation import Conversation
from dialogs.types import Link, Reply, ReplyKind
from frameworks.amounts import AmountError
from frameworks.calculator import Calculator, OutOfBounds, from_text, out_of_bounds, read_input
from storage.calculator_records import SetInputs
from storage.records import MissingData, Needs, OpenRun, ResultRecord, RunRecord

if TYPE_CHECKING:
    from dialogs.dialogue import Dialogue

Handler = Callable[[Conversation, Command], None]
ASSESSMENT_ONLY = frozenset({"skip", "review", "submit", "change", "restart", "answer"})
"""Assessment commands, answered while a calculator is being filled in with what to do instead."""


class CalculatorCommands:
    """The calculator's commands, on the dialogue's shared machine."""

    def __init__(self, dialogue: Dialogue) -> None:
        self.dialogue = dialogue
        self._while_calculating: dict[str, Handler] = {
            TEXT: self._typed,
            "back": self._back,
            "keep": self._keep,
            "start": self._resume_command,
        }

    def route(self, conv: Conversation, command: Command) -> Handler | None:
        """The handler of a command that is the calculator's to answer; None leaves it to the
        dialogue's own. A calculator state whose run is gone (its file removed) is left first."""
        if conv.state == m.CALCULATING and conv.calculation is None:
            self.dialogue.fire(conv, "leave")
        name = command.name
        frameworks = conv.context.frameworks
        if name == "start" and command.args and frameworks.calculator(command.args[0].lower()):
            return self.start
        if name == "csv":
            return self.export
        if name != TEXT and any(c.refinement(name) for c in frameworks.calculators()):
            return self.refine
        if conv.state != m.CALCULATING:
            return None
        if name in ASSESSMENT_ONLY:
            return self._not_here
        return self._while_calculating.get(name)

    # --- starting --------------------------------------------------------------------------

    def start(self, conv: Conversation, command: Command) -> None:
        """`/start <calculator>`: carry on with an open run of it, or begin one at the first input."""
        calculator = conv.context.frameworks.calculator(command.args[0].lower())
        assert calculator is not None
        existing = _open_run_of(conv, calculator.id)
        if existing is not None:
            self.resume(conv, existing)
            return
        conv.replies.append(Reply(text=calculator.intro, title=calculator.title, kind=ReplyKind.INFO))
        conv.say("calc_starting", ReplyKind.INFO, count=len(calculator.inputs))
        _open(conv, calculator, {}, ())
        self.dialogue.fire(conv, "calculate")

    def resume(self, conv: Conversation, run: RunRecord) -> None:
        conv.calculation, conv.run, conv.framework = run, None, None
        _, calculator = in_hand(conv)
        count = len(steps_of(run, calculator))
        conv.say("calc_resuming", ReplyKind.INFO, number=run.cursor + 1, count=count, title=calculator.title)
        self.dialogue.fire(conv, "calculate")

    def _resume_command(self, conv: Conversation, command: Command) -> None:
        """A bare `/start` while filling a calculator in: where it stands."""
        run, _ = in_hand(conv)
        self.resume(conv, run)

    # --- entering values -------------------------------------------------------------------

    def _typed(self, conv: Conversation, command: Command) -> None:
        """A value typed for the step at the cursor: entered if it reads and fits, else refused with
        the reason (every earlier value is kept) and the step asked again."""
        run, calculator = in_hand(conv)
        step = steps_of(run, calculator)[run.cursor]
        earlier = _earlier_values(run, calculator)
        try:
            value = read_input(step, command.text, earlier, calculator.rounding)
        except AmountError as error:
            self._refuse(conv, refusal_reply(conv.cat, step, error.reason))
            return
        if isinstance(value, OutOfBounds):
            self._refuse(conv, refusal_reply(conv.cat, step, value))
            return
        self.dialogue.fire(conv, "enter", value=value)

    def _keep(self, conv: Conversation, command: Command) -> None:
        """The Keep button: enter the value given before again (it must still fit)."""
        run, calculator = in_hand(conv)
        step = steps_of(run, calculator)[run.cursor]
        if self._pressed_elsewhere(conv, command) or step.id not in run.inputs:
            self._stale(conv)
            return
        value = from_text(run.inputs[step.id])
        miss = out_of_bounds(step, value, _earlier_values(run, calculator), calculator.rounding)
        if miss is not None:
            self._refuse(conv, refusal_reply(conv.cat, step, miss))
            return
        self.dialogue.fire(conv, "enter", value=value)

    def _back(self, conv: Conversation, command: Command) -> None:
        if self._pressed_elsewhere(conv, command):
            self._stale(conv)
        elif not self.dialogue.fire(conv, "back"):
            conv.say("calc_first_step")
            show_step_of(conv)

    def _refuse(self, conv: Conversation, reply: Reply) -> None:
        conv.replies.append(reply)
        show_step_of(conv)

    def _pressed_elsewhere(self, conv: Conversation, command: Command) -> bool:
        """A Keep or Back button names the run and step it was shown with; typed commands name none."""
        if not command.args:
            return False
        position = parse_position(command)
        run = conv.calculation
        return position is None or run is None or position != (run.number, run.cursor)

    def _stale(self, conv: Conversation) -> None:
        conv.say("stale_button")
        if not conv.inbound.buttons_stay:
            show_step_of(conv)

    def _not_here(self, conv: Conversation, command: Command) -> None:
        conv.say("calc_not_here", command=f"/{command.name}")
        show_step_of(conv)

    # --- after the summary -----------------------------------------------------------------

    def refine(self, conv: Conversation, command: Command) -> None:
        """`/channels` (a refinement's command): ask its inputs on top of the latest calculation."""
        name = command.name
        calculators = [c for c in conv.context.frameworks.calculators() if c.refinement(name)]
        if conv.state == m.CALCULATING and conv.calculation is not None:
            self._refine_later(conv, name)
            return
        latest = _latest_calculation(conv, {c.id for c in calculators})
        calculator = conv.context.frameworks.calculator(latest.framework_id) if latest else None
        if latest is None or latest.calculation is None or calculator is None:
            conv.say("calc_refine_nothing", command=f"/{name}", id=calculators[0].id)
            return
        if (open_run := _open_run_of(conv, calculator.id)) is not None:
            conv.say("calc_refine_open", command=f"/{name}", id=calculator.id)
            self.resume(conv, open_run)
            return
        refinement = calculator.refinement(name)
        assert refinement is not None
        given = {*latest.calculation.refinements, name}
        refinements = tuple(r.id for r in calculator.refinements if r.id in given)
        run = _open(conv, calculator, latest.calculation.values, refinements)
        asked = {step.id for step in refinement.inputs}
        run.cursor = next(i for i, step in enumerate(steps_of(run, calculator)) if step.id in asked)
        conv.replies.append(Reply(text=refinement.intro, title=refinement.title, kind=ReplyKind.INFO))
        self.dialogue.fire(conv, "calculate")

    def _refine_later(self, conv: Conversation, name: str) -> None:
        """A refinement asked for while the figures are still being given: after the summary."""
        run, _ = in_hand(conv)
        if name not in run.refinements:
            conv.say("calc_refine_finish_first", command=f"/{name}")
        show_step_of(conv)

    def export(self, conv: Conversation, _: Command) -> None:
        """`/csv`: the latest calculation as CSV text, and where to download it."""
        latest = _latest_calculation(conv, {c.id for c in conv.context.frameworks.calculators()})
        calculator = conv.context.frameworks.calculator(latest.framework_id) if latest else None
        if latest is None or latest.calculation is None or calculator is None:
            conv.say("calc_csv_nothing")
            return
        text = stored_csv(conv.cat, calculator, latest)
        link = Link(conv.cat.text("calc_csv_link"), export_path(latest.chart_token, conv.cat.locale))
        title = conv.cat.text("calc_csv_title", title=calculator.title)
        conv.replies.append(Reply(text=text, title=title, links=(link,), kind=ReplyKind.RESULT))

    def result_replies(self, conv: Conversation, stored: ResultRecord) -> list[Reply]:
        """A stored calculation shown again (`/results`), as it was worked out."""
        calculator = conv.context.frameworks.calculator(stored.framework_id)
        calculation = stored.calculation
        if calculator is None or calculation is None:
            return []
        note = None
        if stored.framework_version != calculator.version:
            note = conv.cat.text("calc_version_changed", title=calculator.title)
        return summary_replies(
            conv.cat,
            calculator,
            calculation.values,
            calculation.refinements,
            calculation.figures,
            stored.chart_token,
            note,
        )


def refuses_campaign(conv: Conversation, name: str) -> bool:
    """`/campaign new <calculator>`: say why a calculator cannot be a campaign (True if it was one)."""
    calculator = conv.context.frameworks.calculator(name.lower())
    if calculator is not None:
        conv.say("calc_no_campaign", title=calculator.title, id=calculator.id)
    return calculator is not None


def _open(
    conv: Conversation, calculator: Calculator, values: dict[str, str], refinements: tuple[str, ...]
) -> RunRecord:
    """A new run of the calculator, made the one in hand (with the inputs it starts from)."""
    conv.snapshot.run_count += 1
    number = conv.snapshot.run_count
    run = RunRecord(number, calculator.id, calculator.version, "open", 0, conv.now)
    run.inputs, run.refinements = dict(values), refinements
    conv.snapshot.runs[number] = run
    conv.changes.append(OpenRun(number, calculator.id, calculator.version))
    if values or refinements:
        conv.changes.append(SetInputs(number, dict(values), refinements))
    conv.calculation, conv.run, conv.framework = run, None, None
    return run


def _open_run_of(conv: Conversation, calculator_id: str) -> RunRecord | None:
    runs = conv.snapshot.runs.values()
    return next((r for r in runs if r.status == "open" and r.framework_id == calculator_id), None)


def _earlier_values(run: RunRecord, calculator: Calculator) -> dict[str, Fraction]:
    """The values of the steps before the cursor (what its bounds may read)."""
    before = {step.id for step in steps_of(run, calculator)[: run.cursor]}
    return {name: value for name, value in values_of(run).items() if name in before}


def _latest_calculation(conv: Conversation, calculator_ids: set[str]) -> ResultRecord | None:
    """The person's latest result of any of these calculators (loaded on demand)."""
    if not conv.snapshot.stored:
        return None
    previous = conv.snapshot.previous
    if previous is None:
        raise MissingData(Needs(previous_results=True))
    found = [r for r in previous.values() if r.framework_id in calculator_ids and r.calculation is not None]
    return max(found, key=lambda r: (r.created_at, r.run_number), default=None)
