"""The calculator's conditions and callbacks on the shared machine (`dialogs.machine`).

The machine's model is the `Conversation`; these functions take the event and act on its model's
calculator run (`Conversation.calculation`), whose cursor is the step being asked. Like the
assessment's callbacks they are pure: they change the snapshot and collect changes and replies.
"""

from __future__ import annotations

import secrets
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from dialogs.calculator_view import answered_reply, refusal_reply, step_reply, summary_replies
from frameworks.calculator import (
    Calculator,
    Input,
    calculate,
    exact_text,
    from_text,
    out_of_bounds,
    stored_figures,
)
from storage.calculator_records import SetInputs, StoreCalculation, StoredCalculation
from storage.records import FinishRun, RunRecord

if TYPE_CHECKING:
    from dialogs.conversation import Conversation

EventData = Any  # transitions.EventData; untyped upstream


def in_hand(conv: Conversation) -> tuple[RunRecord, Calculator]:
    """The calculator run being asked and its calculator."""
    run = conv.calculation
    calculator = conv.context.frameworks.calculator(run.framework_id) if run is not None else None
    if run is None or calculator is None:
        raise LookupError("no calculator run in hand")
    return run, calculator


def steps_of(run: RunRecord, calculator: Calculator) -> tuple[Input, ...]:
    return calculator.steps(run.refinements)


def values_of(run: RunRecord) -> dict[str, Fraction]:
    return {name: from_text(text) for name, text in run.inputs.items()}


def misfit(calculator: Calculator, steps: tuple[Input, ...], values: dict[str, Fraction]) -> int | None:
    """The first step whose value is missing or outside its bounds given the values before it (an
    earlier value changed with /back can move a later bound); None when every value fits."""
    earlier: dict[str, Fraction] = {}
    for index, step in enumerate(steps):
        value = values.get(step.id)
        if value is None or out_of_bounds(step, value, earlier, calculator.rounding) is not None:
            return index
        earlier[step.id] = value
    return None


# --- conditions ----------------------------------------------------------------------------


def on_last_step(event: EventData) -> bool:
    run, calculator = in_hand(event.model)
    return run.cursor >= len(steps_of(run, calculator)) - 1


def has_previous_step(event: EventData) -> bool:
    return in_hand(event.model)[0].cursor > 0


def completes(event: EventData) -> bool:
    """Whether the value entered at the cursor leaves every value fitting."""
    run, calculator = in_hand(event.model)
    steps = steps_of(run, calculator)
    values = {**values_of(run), steps[run.cursor].id: event.kwargs["value"]}
    return misfit(calculator, steps, values) is None


def has_calculation(event: EventData) -> bool:
    return event.model.calculation is not None


# --- callbacks -----------------------------------------------------------------------------


def record(event: EventData) -> None:
    """Keep the value entered for the step at the cursor (the whole set of inputs is written)."""
    conv: Conversation = event.model
    run, calculator = in_hand(conv)
    step = steps_of(run, calculator)[run.cursor]
    value: Fraction = event.kwargs["value"]
    run.inputs[step.id] = exact_text(value)
    conv.changes.append(SetInputs(run.number, dict(run.inputs), run.refinements))
    conv.replies.append(answered_reply(conv.cat, step, value))


def advance(event: EventData) -> None:
    in_hand(event.model)[0].cursor += 1


def retreat(event: EventData) -> None:
    in_hand(event.model)[0].cursor -= 1


def go_to_misfit(event: EventData) -> None:
    """Back to the first value that no longer fits, saying why."""
    conv: Conversation = event.model
    run, calculator = in_hand(conv)
    steps = steps_of(run, calculator)
    values = values_of(run)
    index = misfit(calculator, steps, values) or 0
    run.cursor = index
    step = steps[index]
    earlier = {s.id: values[s.id] for s in steps[:index] if s.id in values}
    miss = out_of_bounds(step, values[step.id], earlier, calculator.rounding) if step.id in values else None
    if miss is not None:
        conv.replies.append(refusal_reply(conv.cat, step, miss))


def show_step(event: EventData) -> None:
    show_step_of(event.model)


def show_step_of(conv: Conversation) -> None:
    """The step at the cursor, with the value given so far (if any)."""
    if conv.calculation is None:
        return
    run, calculator = in_hand(conv)
    steps = steps_of(run, calculator)
    current = run.inputs.get(steps[run.cursor].id)
    conv.replies.append(step_reply(conv.cat, calculator, run.number, steps, run.cursor, current))


def finish(event: EventData) -> None:
    """Work every figure out, store it with the result, and show it."""
    conv: Conversation = event.model
    run, calculator = in_hand(conv)
    calculation = calculate(calculator, values_of(run), run.refinements)
    figures = stored_figures(calculation)
    token = secrets.token_urlsafe(18)
    conv.changes.append(FinishRun(run.number, None, None, {}, token))
    stored = StoredCalculation(dict(run.inputs), run.refinements, figures)
    conv.changes.append(StoreCalculation(run.number, stored))
    run.status = "finished"
    conv.replies += summary_replies(conv.cat, calculator, run.inputs, run.refinements, figures, token)
    conv.calculation = None
