"""What one finished campaign run adds to its round's tallies: pure, from the run's answers."""

from __future__ import annotations

from collections.abc import Mapping

from frameworks.schema import Framework
from frameworks.scoring import Result, answered_values
from storage.campaign_records import DONE, LEVEL, SCORE, SKIPPED_LEVEL, STAGE
from storage.records import OVERALL

TallyRows = tuple[tuple[str, str, int, int], ...]


def tally_rows(framework: Framework, answers: Mapping[str, int | None], result: Result) -> TallyRows:
    """Finished; each question's level (or skipped); each score as (sum, count); the stage."""
    rows = [(DONE, "", 0, 0)]
    for question in framework.questions:
        value = answers.get(question.id)
        rows.append((LEVEL, question.id, SKIPPED_LEVEL if value is None else value, 0))
    if every := answered_values(framework.questions, answers):
        rows.append((SCORE, OVERALL, sum(every), len(every)))
    for dimension in framework.dimensions:
        if values := answered_values(dimension.questions, answers):
            rows.append((SCORE, dimension.id, sum(values), len(values)))
    if result.stage is not None:
        rows.append((STAGE, result.stage.id, 0, 0))
    return tuple(rows)
