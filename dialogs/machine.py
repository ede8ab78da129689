"""The assessment dialogue as one `transitions` machine, built once and shared by every person.

States are phases; the question is a cursor in the data, not a state. No model is ever added:
each message sets the loaded state on a fresh `Conversation` and fires the event's trigger on it
directly (see DESIGN.md for the measurements behind this).
"""

from __future__ import annotations

from typing import Any

from transitions import Machine

from dialogs import calculator_steps as calc

IDLE = "idle"
ASKING = "asking"
REVISING = "revising"
REVIEWING = "reviewing"
CONFIRMING_RESTART = "confirming_restart"
CONFIRMING_DELETE = "confirming_delete"
CHOOSING_GROUP = "choosing_group"
"""Joining a campaign with groups: the person picks theirs (the campaign is `joining_campaign`)."""
CALCULATING = "calculating"
"""Giving a calculator's inputs (`dialogs.calculator_dialogue`); the step is the run's cursor."""

STATES = [
    IDLE,
    ASKING,
    REVISING,
    REVIEWING,
    CONFIRMING_RESTART,
    CONFIRMING_DELETE,
    CHOOSING_GROUP,
    CALCULATING,
]
IN_RUN = [ASKING, REVISING, REVIEWING]
CONFIRMING = [CONFIRMING_RESTART, CONFIRMING_DELETE]
NEEDS_RUN = [*IN_RUN, CONFIRMING_RESTART]
"""States that make sense only with a run in hand."""

TRANSITIONS: list[dict[str, Any]] = [
    # begin: show the active run where it stands (a new run starts at question 1)
    {
        "trigger": "begin",
        "source": "*",
        "dest": REVIEWING,
        "conditions": ["run_complete", "review_enabled"],
        "after": "show_review",
    },
    {"trigger": "begin", "source": "*", "dest": ASKING, "after": ["go_to_first_open", "show_question"]},
    # answer (or skip, with value None) the question at the cursor; the common case first, and
    # internal (dest None: no exit or enter of the state), since it is most messages
    {
        "trigger": "answer",
        "source": ASKING,
        "dest": None,
        "unless": "on_last_question",
        "before": "record",
        "after": ["advance", "show_question"],
    },
    {
        "trigger": "answer",
        "source": ASKING,
        "dest": REVIEWING,
        "conditions": "review_enabled",
        "before": "record",
        "after": "show_review",
    },
    {"trigger": "answer", "source": ASKING, "dest": IDLE, "before": ["record", "finish_run"]},
    {"trigger": "answer", "source": REVISING, "dest": REVIEWING, "before": "record", "after": "show_review"},
    {
        "trigger": "back",
        "source": [ASKING, REVISING],
        "dest": ASKING,
        "conditions": "has_previous",
        "after": ["retreat", "show_question"],
    },
    {"trigger": "back", "source": REVIEWING, "dest": ASKING, "after": ["back_from_review", "show_question"]},
    {"trigger": "review", "source": IN_RUN, "dest": REVIEWING, "after": "show_review"},
    {"trigger": "revise", "source": REVIEWING, "dest": REVISING, "after": ["go_to", "show_question"]},
    {"trigger": "submit", "source": IN_RUN, "dest": IDLE, "conditions": "has_answers", "after": "finish_run"},
    {"trigger": "ask_restart", "source": IN_RUN, "dest": CONFIRMING_RESTART, "after": "show_confirm_restart"},
    {
        "trigger": "restart",
        "source": CONFIRMING_RESTART,
        "dest": ASKING,
        "after": ["abandon_and_reopen", "show_question"],
    },
    {"trigger": "ask_delete", "source": "*", "dest": CONFIRMING_DELETE, "after": "show_confirm_delete"},
    {"trigger": "erase", "source": CONFIRMING_DELETE, "dest": IDLE, "after": "erase_everything"},
    # cancel a confirmation: back to where the run stands, or to idle
    {
        "trigger": "cancel",
        "source": CONFIRMING,
        "dest": REVIEWING,
        "conditions": ["run_complete", "review_enabled"],
        "before": "say_cancelled",
        "after": "show_review",
    },
    {
        "trigger": "cancel",
        "source": CONFIRMING,
        "dest": ASKING,
        "conditions": "has_run",
        "before": "say_cancelled",
        "after": "show_question",
    },
    {
        "trigger": "cancel",
        "source": CONFIRMING,
        "dest": CALCULATING,
        "conditions": calc.has_calculation,
        "before": "say_cancelled",
        "after": calc.show_step,
    },
    {"trigger": "cancel", "source": CONFIRMING, "dest": IDLE, "before": "say_cancelled"},
    {"trigger": "choose_group", "source": "*", "dest": CHOOSING_GROUP, "after": "show_groups"},
    {"trigger": "leave", "source": "*", "dest": IDLE},
    # a calculator: its callbacks are functions of `dialogs.calculator_steps` (the model is the
    # conversation); `enter` takes a value already read and checked against its bounds
    {"trigger": "calculate", "source": "*", "dest": CALCULATING, "after": calc.show_step},
    {
        "trigger": "enter",
        "source": CALCULATING,
        "dest": None,
        "unless": calc.on_last_step,
        "before": calc.record,
        "after": [calc.advance, calc.show_step],
    },
    {
        "trigger": "enter",
        "source": CALCULATING,
        "dest": IDLE,
        "conditions": calc.completes,
        "before": [calc.record, calc.finish],
    },
    # the last value given, but an earlier change left a later value outside its bounds: ask it again
    {
        "trigger": "enter",
        "source": CALCULATING,
        "dest": None,
        "before": calc.record,
        "after": [calc.go_to_misfit, calc.show_step],
    },
    {
        "trigger": "back",
        "source": CALCULATING,
        "dest": None,
        "conditions": calc.has_previous_step,
        "after": [calc.retreat, calc.show_step],
    },
]


def build_machine() -> Machine:
    """The one machine definition (about 300 us to build: once per process)."""
    return Machine(
        model=None,
        states=STATES,
        transitions=TRANSITIONS,
        initial=IDLE,
        auto_transitions=False,
        send_event=True,
        ignore_invalid_triggers=False,
    )
