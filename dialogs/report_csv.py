"""A round's answer sets as CSV: one row per person who finished, in random order, no identity."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from frameworks.schema import Framework
from storage.response_rows import AnswerSet

SKIPPED = ""
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def answer_sets_csv(framework: Framework, sets: Iterable[AnswerSet]) -> str:
    """Columns: pseudonym, round, framework_version, group, then one per question id (the level, or
    empty when skipped)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    questions = [q.id for q in framework.questions]
    writer.writerow(["pseudonym", "round", "framework_version", "group", *questions])
    for answer_set in sets:
        values = [answer_set.answers.get(q) for q in questions]
        shown = [SKIPPED if value is None else value for value in values]
        writer.writerow(
            [answer_set.pseudonym, answer_set.round, answer_set.framework_version, answer_set.group, *shown]
        )
    return out.getvalue()
