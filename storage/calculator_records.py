"""What is stored of calculator runs: their inputs while asked, and the calculation with the result.

A calculator run is a row of `runs` like an assessment's; its inputs are not levels, so they live in
the run's `inputs` column (JSON: `{"values": {input id: exact value}, "with": [refinements]}`), not in
`answers`. Values are exact text (`0.15`, or `1/3` where no decimal is exact), never floats. When the
run finishes, its `results` row (the token that names the CSV export) also keeps the calculation
(`{"values": ..., "with": ..., "figures": {figure id: exact value, "undefined" or "otherwise"}}`),
so the result reads back as it was shown after a restart, or after the file changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, update

from storage.executor import Executor
from storage.tables import results, runs


@dataclass(frozen=True, slots=True)
class StoredCalculation:
    """A finished calculation as its result keeps it."""

    values: dict[str, str]
    refinements: tuple[str, ...]
    figures: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SetInputs:
    """A calculator run's inputs as they now stand (written whole: a handful of values)."""

    run: int
    values: dict[str, str]
    refinements: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StoreCalculation:
    """Keep the calculation with the result of a finished run (after its `FinishRun`)."""

    run: int
    calculation: StoredCalculation


CalculatorChange = SetInputs | StoreCalculation

SET_INPUTS = update(runs).where(runs.c.id == bindparam("run_id")).values(inputs=bindparam("inputs"))
SET_CALCULATION = (
    update(results)
    .where(results.c.run_id == bindparam("run_id"))
    .values(calculation=bindparam("calculation"))
)


def inputs_json(values: dict[str, str], refinements: tuple[str, ...]) -> dict[str, Any]:
    return {"values": dict(values), "with": list(refinements)}


def run_inputs(raw: Any) -> tuple[dict[str, str], tuple[str, ...]]:
    """A run's stored inputs column read back: (values, refinements); empty for assessment runs."""
    if not isinstance(raw, dict):
        return {}, ()
    values = raw.get("values") or {}
    return {str(k): str(v) for k, v in values.items()}, tuple(str(r) for r in raw.get("with") or ())


def stored_calculation(raw: Any) -> StoredCalculation | None:
    """A result's stored calculation read back (None for an assessment's result)."""
    if not isinstance(raw, dict):
        return None
    values, refinements = run_inputs(raw)
    figures = {str(k): str(v) for k, v in (raw.get("figures") or {}).items()}
    return StoredCalculation(values, refinements, figures)


def apply_calculator_change(db: Executor, run_id: int, change: CalculatorChange) -> None:
    """Write one calculator change for the run whose database id is `run_id`."""
    if isinstance(change, SetInputs):
        db.run(SET_INPUTS, {"run_id": run_id, "inputs": inputs_json(change.values, change.refinements)})
        return
    stored = change.calculation
    calculation = {**inputs_json(stored.values, stored.refinements), "figures": dict(stored.figures)}
    db.run(SET_CALCULATION, {"run_id": run_id, "calculation": calculation})
