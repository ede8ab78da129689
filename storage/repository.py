"""The repository the engine's step runs against: synchronous Core statements on one connection.

It runs inside a transaction that a runner opened (see `storage.runners`), so the load, the
step and the save of one message are atomic. On PostgreSQL the participant row is locked
first, which serialises one person's messages across connections and processes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from storage.records import (
    AbandonRun,
    Change,
    EraseParticipant,
    FinishRun,
    Needs,
    OpenRun,
    Position,
    ResultRecord,
    RunRecord,
    SaveAnswer,
    Snapshot,
)
from storage.tables import answers, participants, processed_messages, results, runs

OPEN = "open"
FINISHED = "finished"
ABANDONED = "abandoned"

_run_count = (
    select(func.coalesce(func.max(runs.c.number), 0))
    .where(runs.c.participant_id == participants.c.id)
    .scalar_subquery()
)
_participant_by_key = select(
    participants.c.id,
    participants.c.state,
    participants.c.active_run,
    participants.c.created_at,
    participants.c.display_name,
    _run_count.label("run_count"),
)


def utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Repository:
    """One participant's data for one message, on a connection inside a transaction."""

    def __init__(self, conn: Connection, now: datetime | None = None) -> None:
        self.conn = conn
        self.now = now or datetime.now(UTC)
        self._run_ids: dict[int, int] = {}
        self._is_postgres = conn.dialect.name == "postgresql"

    def _insert(self, table: Any) -> Any:
        return (postgresql.insert if self._is_postgres else sqlite.insert)(table)

    def participant(self, channel: str, external_id: str, display_name: str | None) -> tuple[int, Snapshot]:
        """Find or create the participant, lock their row, and load their open runs."""
        row = self._lock(channel, external_id)
        if row is None:
            self.conn.execute(
                self._insert(participants)
                .values(
                    channel=channel,
                    external_id=external_id,
                    display_name=display_name,
                    state="idle",
                    created_at=self.now,
                    last_seen_at=self.now,
                )
                .on_conflict_do_nothing(index_elements=["channel", "external_id"])
            )
            row = self._lock(channel, external_id)
            assert row is not None  # just inserted, or inserted concurrently and now locked
        snapshot = Snapshot(
            state=row.state,
            active_run=row.active_run,
            run_count=row.run_count,
            created_at=utc(row.created_at),
            display_name=row.display_name,
            exists=True,
        )
        return row.id, snapshot

    def _lock(self, channel: str, external_id: str) -> Any:
        query = _participant_by_key.where(
            participants.c.channel == channel, participants.c.external_id == external_id
        )
        if self._is_postgres:
            query = query.with_for_update(of=participants)
        return self.conn.execute(query).first()

    def load_runs(self, participant_id: int, snapshot: Snapshot, needs: Iterable[str]) -> None:
        """Fill the snapshot's runs (open ones, or all for history) and results as needed."""
        needs = set(needs)
        condition = runs.c.participant_id == participant_id
        if Needs.HISTORY not in needs:
            condition = and_(condition, runs.c.status == OPEN)
        query = (
            select(runs, answers.c.question_id, answers.c.value)
            .outerjoin(answers, answers.c.run_id == runs.c.id)
            .where(condition)
            .order_by(runs.c.number, answers.c.id)
        )
        for row in self.conn.execute(query):
            record = snapshot.runs.get(row.number)
            if record is None:
                record = snapshot.runs[row.number] = _run_record(row)
                self._run_ids[row.number] = row.id
            if row.question_id is not None:
                record.answers[row.question_id] = row.value
        if needs & {Needs.HISTORY, Needs.LATEST_RESULT}:
            snapshot.results = self._results(participant_id, latest_only=Needs.HISTORY not in needs)
            snapshot.latest_result = snapshot.results[-1] if snapshot.results else None
            if snapshot.latest_result:
                self._load_run(participant_id, snapshot, snapshot.latest_result.run_number)

    def _load_run(self, participant_id: int, snapshot: Snapshot, number: int) -> None:
        if number in snapshot.runs:
            return
        query = (
            select(runs, answers.c.question_id, answers.c.value)
            .outerjoin(answers, answers.c.run_id == runs.c.id)
            .where(runs.c.participant_id == participant_id, runs.c.number == number)
        )
        for row in self.conn.execute(query):
            record = snapshot.runs.setdefault(row.number, _run_record(row))
            self._run_ids[row.number] = row.id
            if row.question_id is not None:
                record.answers[row.question_id] = row.value

    def _results(self, participant_id: int, latest_only: bool) -> list[ResultRecord]:
        query = (
            select(results, runs.c.number)
            .join(runs, runs.c.id == results.c.run_id)
            .where(runs.c.participant_id == participant_id)
            .order_by(results.c.created_at.desc(), runs.c.number.desc())
        )
        if latest_only:
            query = query.limit(1)
        return [_result_record(row) for row in reversed(self.conn.execute(query).all())]

    def apply(self, participant_id: int, changes: Sequence[Change], position: Position) -> None:
        """Store what the step decided, then where the conversation now stands."""
        for change in changes:
            if isinstance(change, EraseParticipant):
                self.conn.execute(delete(participants).where(participants.c.id == participant_id))
                return
            self._apply_one(participant_id, change)
        active_id = self._run_ids.get(position.active_run) if position.active_run else None
        if active_id is not None:
            self.conn.execute(update(runs).where(runs.c.id == active_id).values(cursor=position.cursor))
        self.conn.execute(
            update(participants)
            .where(participants.c.id == participant_id)
            .values(
                state=position.state, active_run=position.active_run, last_seen_at=self.now, inactive=False
            )
        )

    def _apply_one(self, participant_id: int, change: Change) -> None:
        if isinstance(change, SaveAnswer):
            self._save_answer(change)
        elif isinstance(change, OpenRun):
            self._open_run(participant_id, change)
        elif isinstance(change, FinishRun):
            self._finish_run(change)
        elif isinstance(change, AbandonRun):
            self._close_run(change.run, ABANDONED)

    def _open_run(self, participant_id: int, change: OpenRun) -> None:
        inserted = self.conn.execute(
            runs.insert()
            .values(
                participant_id=participant_id,
                number=change.number,
                framework_id=change.framework_id,
                framework_version=change.framework_version,
                status=OPEN,
                cursor=0,
                started_at=self.now,
            )
            .returning(runs.c.id)
        )
        self._run_ids[change.number] = inserted.scalar_one()

    def _save_answer(self, change: SaveAnswer) -> None:
        run_id = self._run_ids[change.run]
        version = select(runs.c.framework_version).where(runs.c.id == run_id).scalar_subquery()
        statement = self._insert(answers).values(
            run_id=run_id,
            question_id=change.question_id,
            dimension_id=change.dimension_id,
            framework_version=version,
            value=change.value,
            answered_at=self.now,
        )
        self.conn.execute(
            statement.on_conflict_do_update(
                index_elements=["run_id", "question_id"],
                set_={"value": statement.excluded.value, "answered_at": statement.excluded.answered_at},
            )
        )

    def _finish_run(self, change: FinishRun) -> None:
        run_id = self._close_run(change.run, FINISHED)
        row = self.conn.execute(
            select(runs.c.framework_id, runs.c.framework_version).where(runs.c.id == run_id)
        ).one()
        self.conn.execute(
            results.insert().values(
                run_id=run_id,
                framework_id=row.framework_id,
                framework_version=row.framework_version,
                score_tenths=change.score_tenths,
                stage_id=change.stage_id,
                dimension_tenths=change.dimension_tenths,
                chart_token=change.chart_token,
                created_at=self.now,
            )
        )

    def _close_run(self, number: int, status: str) -> int:
        run_id = self._run_ids[number]
        self.conn.execute(update(runs).where(runs.c.id == run_id).values(status=status, finished_at=self.now))
        return run_id

    def remembered_replies(self, channel: str, message_id: str) -> list[dict[str, Any]] | None:
        """The replies already given to this delivery, if it was processed before."""
        row = self.conn.execute(
            select(processed_messages.c.replies).where(
                processed_messages.c.channel == channel, processed_messages.c.message_id == message_id
            )
        ).first()
        return None if row is None else list(row.replies)

    def remember_replies(
        self, channel: str, message_id: str, participant_id: int | None, replies: list[dict[str, Any]]
    ) -> None:
        self.conn.execute(
            processed_messages.insert().values(
                channel=channel,
                message_id=message_id,
                participant_id=participant_id,
                replies=replies,
                created_at=self.now,
            )
        )


def _run_record(row: Any) -> RunRecord:
    return RunRecord(
        number=row.number,
        framework_id=row.framework_id,
        framework_version=row.framework_version,
        status=row.status,
        cursor=row.cursor,
        started_at=utc(row.started_at),
        finished_at=utc(row.finished_at) if row.finished_at else None,
        campaign_id=row.campaign_id,
    )


def _result_record(row: Any) -> ResultRecord:
    return ResultRecord(
        run_number=row.number,
        framework_id=row.framework_id,
        framework_version=row.framework_version,
        score_tenths=row.score_tenths,
        stage_id=row.stage_id,
        dimension_tenths=dict(row.dimension_tenths),
        chart_token=row.chart_token,
        created_at=utc(row.created_at),
    )


def result_by_token(conn: Connection, token: str) -> ResultRecord | None:
    """The stored result a chart token names (for serving the chart by URL)."""
    row = conn.execute(
        select(results, runs.c.number)
        .join(runs, runs.c.id == results.c.run_id)
        .where(results.c.chart_token == token)
    ).first()
    return None if row is None else _result_record(row)


def mark_inactive(conn: Connection, channel: str, external_id: str) -> None:
    """A channel learnt the person cannot be reached (for example they blocked the bot)."""
    conn.execute(
        update(participants)
        .where(participants.c.channel == channel, participants.c.external_id == external_id)
        .values(inactive=True)
    )
