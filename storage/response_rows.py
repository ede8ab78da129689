"""A campaign round's answer sets for export: one row per published answer set (the same people the
report is over: a finished run waits until enough of its group have finished), without identity.

Each row has a pseudonym (an HMAC of the run with the campaign's own secret key, so the same person
has unrelated pseudonyms in two campaigns and nobody can recompute them), the round, the framework
version, the group (blank where the report withholds that group) and the answers. No names, chat or
sender ids, and no times. Rows come sorted by pseudonym, which is a random order.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, select

from storage.report_queries import report_numbers
from storage.tables import answers, campaign_groups, campaign_members, campaigns, runs, tallied_runs

PSEUDONYM_HEX = 12

ANSWER_SETS = (
    select(
        runs.c.id,
        runs.c.framework_version,
        campaign_groups.c.position,
        answers.c.question_id,
        answers.c.value,
    )
    .select_from(runs)
    .join(tallied_runs, (tallied_runs.c.run_id == runs.c.id) & tallied_runs.c.batch.is_not(None))
    .join(
        campaign_members,
        (campaign_members.c.campaign_id == runs.c.campaign_id)
        & (campaign_members.c.participant_id == runs.c.participant_id),
    )
    .outerjoin(campaign_groups, campaign_groups.c.id == campaign_members.c.group_id)
    .outerjoin(answers, answers.c.run_id == runs.c.id)
    .where(runs.c.campaign_id == bindparam("campaign"), runs.c.round == bindparam("round"))
    .where(runs.c.status == "finished")
    .order_by(runs.c.id)
)
KEY = select(campaigns.c.pseudonym_key).where(campaigns.c.id == bindparam("campaign"))


@dataclass(frozen=True, slots=True)
class AnswerSet:
    pseudonym: str
    round: int
    framework_version: str
    group: str
    """The group's name, or "" where the report withholds it (or there are no groups)."""
    answers: dict[str, int | None]


def answer_sets(conn: Connection, campaign_id: int, round_: int, min_group: int) -> list[AnswerSet] | None:
    """Every published answer set of the round in random order; None while the report is withheld."""
    numbers = report_numbers(conn, campaign_id, round_, min_group)
    if numbers.withheld:
        return None
    shown = {g.position: g.name for g in numbers.groups if not g.withheld}
    key = bytes.fromhex(conn.execute(KEY, {"campaign": campaign_id}).scalar_one())
    rows = conn.execute(ANSWER_SETS, {"campaign": campaign_id, "round": round_})
    sets = [
        AnswerSet(pseudonym(key, run_id), round_, version, shown.get(position, "") if position else "", found)
        for run_id, version, position, found in _by_run(rows)
    ]
    return sorted(sets, key=lambda s: s.pseudonym)


def pseudonym(key: bytes, run_id: int) -> str:
    return hmac.new(key, str(run_id).encode(), hashlib.sha256).hexdigest()[:PSEUDONYM_HEX]


def _by_run(rows: Iterable[Any]) -> Iterator[tuple[int, str, int | None, dict[str, int | None]]]:
    current: tuple[int, str, int | None] | None = None
    found: dict[str, int | None] = {}
    for run_id, version, position, question, value in rows:
        if current is not None and current[0] != run_id:
            yield (*current, found)
            found = {}
        current = (run_id, version, position)
        if question is not None:
            found[question] = value
    if current is not None:
        yield (*current, found)
