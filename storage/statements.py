"""Every statement the repository runs, built once with bind parameters.

Building a statement per message cost more than running it: SQLAlchemy memoises the cache key
of a statement object, so reusing one skips that work. Where SQLite and PostgreSQL differ
(row locks, upserts) there is one statement per dialect name.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, bindparam, delete, func, literal, select, type_coerce, update
from sqlalchemy.dialects import postgresql, sqlite

from storage.campaign_statements import HAS_NUDGES
from storage.tables import answers, participants, processed_messages, results, runs

_counted = runs.alias("counted")
_run_count = (
    select(func.coalesce(func.max(_counted.c.number), 0))
    .where(_counted.c.participant_id == participants.c.id)
    .correlate(participants)
    .scalar_subquery()
)


def _answers_of_run(aggregate: Any, pair: Any) -> Any:
    return (
        select(aggregate(pair(answers.c.question_id, answers.c.value)))
        .where(answers.c.run_id == runs.c.id)
        .correlate(runs)
        .scalar_subquery()
    )


def _participant(answers_json: Any) -> Any:
    return (
        select(
            participants.c.id,
            participants.c.state,
            participants.c.active_run,
            participants.c.created_at,
            participants.c.display_name,
            participants.c.inactive,
            participants.c.last_seen_at,
            participants.c.joining_campaign,
            participants.c.callback_url,
            participants.c.locale,
            participants.c.locale_chosen,
            HAS_NUDGES.label("has_nudges"),
            _run_count.label("run_count"),
            runs.c.id.label("run_id"),
            runs.c.number,
            runs.c.framework_id,
            runs.c.framework_version,
            runs.c.status,
            runs.c.cursor,
            runs.c.started_at,
            runs.c.finished_at,
            runs.c.campaign_id,
            runs.c.round,
            runs.c.inputs,
            type_coerce(answers_json, JSON).label("answers"),
        )
        .select_from(participants)
        .outerjoin(runs, (runs.c.participant_id == participants.c.id) & (runs.c.status == "open"))
        .where(participants.c.channel == bindparam("channel"))
        .where(participants.c.external_id == bindparam("sender"))
        .order_by(runs.c.number)
    )


PARTICIPANT = {
    "sqlite": _participant(_answers_of_run(func.json_group_array, func.json_array)),
    "postgresql": _participant(_answers_of_run(func.json_agg, func.json_build_array)),
}
"""The participant with a row per open run (one row with no run if there is none), each run's
answers in one JSON column as [question id, level] pairs: one statement, one round trip."""
LOCK_PARTICIPANT = (
    select(participants.c.id)
    .where(participants.c.channel == bindparam("channel"), participants.c.external_id == bindparam("sender"))
    .with_for_update()
)
"""PostgreSQL: taken before reading, so the read sees what the previous holder committed.

(Locking inside the joined read would not do: under READ COMMITTED a statement that waited for
a row lock re-reads only the locked row, not the rows joined to it.)"""


def _insert_participant(insert: Any) -> Any:
    return (
        insert(participants)
        .values(
            channel=bindparam("channel"),
            external_id=bindparam("sender"),
            display_name=bindparam("display_name"),
            state="idle",
            created_at=bindparam("now"),
            last_seen_at=bindparam("now"),
        )
        .on_conflict_do_nothing(index_elements=["channel", "external_id"])
        .returning(participants.c.id)
    )


INSERT_PARTICIPANT = {
    "sqlite": _insert_participant(sqlite.insert),
    "postgresql": _insert_participant(postgresql.insert),
}
"""The new participant's id; no row when they exist already (on PostgreSQL, a concurrent insert of
the same person is waited for, so then they have been committed)."""
DELETE_PARTICIPANT = delete(participants).where(participants.c.id == bindparam("participant"))
SET_LOCALE = (
    update(participants)
    .where(participants.c.id == bindparam("participant"))
    .values(locale=bindparam("locale"), locale_chosen=bindparam("chosen"))
)
SET_POSITION = (
    update(participants)
    .where(participants.c.id == bindparam("participant"))
    .values(
        state=bindparam("state"),
        active_run=bindparam("active_run"),
        last_seen_at=bindparam("now"),
        inactive=False,
    )
)
MARK_INACTIVE = (  # bind names differ from the columns: an UPDATE reserves those for its SET clause
    update(participants)
    .where(participants.c.channel == bindparam("of_channel"))
    .where(participants.c.external_id == bindparam("of_sender"))
    .values(inactive=True)
)

ALL_RUNS = (
    select(runs, runs.c.id.label("run_id"), answers.c.question_id, answers.c.value)
    .outerjoin(answers, answers.c.run_id == runs.c.id)
    .where(runs.c.participant_id == bindparam("participant"))
    .order_by(runs.c.number, answers.c.id)
)
ONE_RUN = ALL_RUNS.where(runs.c.number == bindparam("number"))
INSERT_RUN = (
    runs.insert()
    .values(
        participant_id=bindparam("participant"),
        number=bindparam("number"),
        framework_id=bindparam("framework_id"),
        framework_version=bindparam("framework_version"),
        campaign_id=bindparam("campaign"),
        round=bindparam("round"),
        status="open",
        cursor=0,
        started_at=bindparam("now"),
    )
    .returning(runs.c.id)
)
SET_CURSOR = update(runs).where(runs.c.id == bindparam("run_id")).values(cursor=bindparam("cursor"))
CLOSE_RUN = (
    update(runs)
    .where(runs.c.id == bindparam("run_id"))
    .values(status=bindparam("status"), finished_at=bindparam("now"))
)

_run_version = select(runs.c.framework_version).where(runs.c.id == bindparam("run_id")).scalar_subquery()


def _upsert_answer(insert: Any) -> Any:
    statement = insert(answers).values(
        run_id=bindparam("run_id"),
        question_id=bindparam("question_id"),
        dimension_id=bindparam("dimension_id"),
        framework_version=_run_version,
        value=bindparam("value"),
        answered_at=bindparam("now"),
    )
    return statement.on_conflict_do_update(
        index_elements=["run_id", "question_id"],
        set_={"value": statement.excluded.value, "answered_at": statement.excluded.answered_at},
    )


UPSERT_ANSWER = {"sqlite": _upsert_answer(sqlite.insert), "postgresql": _upsert_answer(postgresql.insert)}
ANSWER_AND_CURSOR = {
    "postgresql": SET_CURSOR.add_cte(_upsert_answer(postgresql.insert).cte("saved_answer")),
}
"""The answer stored and the run's cursor moved in one statement, so one round trip: what most
messages write. PostgreSQL only (SQLite takes no INSERT inside a WITH, and has no round trips)."""

_run_of_result = select(runs.c.framework_id, runs.c.framework_version).where(runs.c.id == bindparam("run_id"))
INSERT_RESULT = results.insert().from_select(
    [
        "run_id",
        "framework_id",
        "framework_version",
        "score_tenths",
        "stage_id",
        "dimension_tenths",
        "chart_token",
        "created_at",
    ],
    select(
        runs.c.id,
        runs.c.framework_id,
        runs.c.framework_version,
        bindparam("score_tenths"),
        bindparam("stage_id"),
        bindparam("dimension_tenths", type_=results.c.dimension_tenths.type),
        bindparam("chart_token"),
        bindparam("now", type_=results.c.created_at.type),
    ).where(runs.c.id == bindparam("run_id")),
)
RESULTS = (
    select(results, runs.c.number)
    .join(runs, runs.c.id == results.c.run_id)
    .where(runs.c.participant_id == bindparam("participant"))
    .order_by(results.c.created_at.desc(), runs.c.number.desc())
)
RESULT_BY_TOKEN = (
    select(results, runs.c.number)
    .join(runs, runs.c.id == results.c.run_id)
    .where(results.c.chart_token == bindparam("token"))
)

REMEMBERED = select(processed_messages.c.replies).where(
    processed_messages.c.channel == bindparam("channel"),
    processed_messages.c.message_id == bindparam("message_id"),
)
REMEMBER = processed_messages.insert().values(
    channel=bindparam("channel"),
    message_id=bindparam("message_id"),
    participant_id=bindparam("participant"),
    replies=bindparam("replies", type_=processed_messages.c.replies.type),
    created_at=bindparam("now"),
)
KEPT_REPLIES = select(
    func.count().label("count"),
    func.min(processed_messages.c.created_at).label("first"),
    func.max(processed_messages.c.created_at).label("last"),
).where(processed_messages.c.participant_id == bindparam("participant"))
PRUNE_REMEMBERED = delete(processed_messages).where(processed_messages.c.created_at < bindparam("before"))
DELIVERED = (
    update(processed_messages)
    .where(
        processed_messages.c.channel == bindparam("key_channel"),
        processed_messages.c.message_id == bindparam("key_message_id"),
    )
    .values(replies=literal([], processed_messages.c.replies.type))
)
"""A delivery's replies have reached the person: a repeat of it is answered with none (it is still
applied once)."""
PING = select(literal(1))
