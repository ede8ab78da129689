"""What the engine reads from storage and the changes it hands back: plain values, no SQL.

The engine's step is pure: it gets a `Snapshot`, returns `Change` values, and storage applies
them in the same transaction. Runs are named by their number per participant, so a step can
open a run and answer in it before the database has given the run an id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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


class Needs:
    """What a step needs loaded beyond the open runs."""

    LATEST_RESULT = "latest_result"
    HISTORY = "history"


@dataclass(frozen=True, slots=True)
class OpenRun:
    number: int
    framework_id: str
    framework_version: str


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


Change = OpenRun | SaveAnswer | FinishRun | AbandonRun | EraseParticipant


@dataclass(frozen=True, slots=True)
class Position:
    """Where the conversation stands after a step: the only dialogue state stored."""

    state: str
    active_run: int | None
    cursor: int
