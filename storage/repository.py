"""The repository the engine's step runs against: synchronous Core statements on one connection.

It runs inside a transaction that a store opened (see `storage.store`), so the load, the step
and the save of one message are atomic. On PostgreSQL the participant row is locked first,
which serialises one person's messages across connections and processes. Loading never creates
anyone: a person is stored only once a step has something to store (`create_participant`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from storage import campaign_reads
from storage import campaign_repository as campaigns
from storage import campaign_statements as campaign_sql
from storage import statements as sql
from storage.calculator_records import (
    SetInputs,
    StoreCalculation,
    apply_calculator_change,
    run_inputs,
    stored_calculation,
)
from storage.executor import Executor, as_executor
from storage.records import (
    AbandonRun,
    Change,
    ChooseLocale,
    EraseParticipant,
    FinishRun,
    KeptReplies,
    Needs,
    OpenRun,
    Position,
    ResultRecord,
    RunRecord,
    SaveAnswer,
    Snapshot,
    TallyRun,
)
from storage.time import utc

OPEN = "open"
FINISHED = "finished"
ABANDONED = "abandoned"
IDLE = "idle"
"""The state of a new participant (the column's default)."""


class Repository:
    """One participant's data for one message, on a connection inside a transaction."""

    def __init__(self, conn: Connection | Executor, now: datetime | None = None) -> None:
        self.db = as_executor(conn)
        self.now = now or datetime.now(UTC)
        self.dialect = self.db.dialect
        self._run_ids: dict[int, int] = {}
        self._cursors: dict[int, int] = {}
        """Each loaded run's cursor as stored, so an unchanged one is not written again."""
        self._loaded: tuple[str, int | None] | None = None
        self._campaigns = campaigns.CampaignWriter(self.db, self.now)

    def participant(self, channel: str, external_id: str) -> tuple[int | None, Snapshot]:
        """Lock the participant's row (PostgreSQL) and load it with their open runs; (None, an empty
        snapshot) for someone not stored.

        SQLite needs no lock: its one writer thread runs messages one at a time.
        """
        key = {"channel": channel, "sender": external_id}
        if self.dialect == "postgresql" and self.db.first(sql.LOCK_PARTICIPANT, key) is None:
            return None, Snapshot()
        rows = self.db.rows(sql.PARTICIPANT[self.dialect], key)
        if not rows:
            return None, Snapshot()
        first = rows[0]
        snapshot = Snapshot(
            state=first.state,
            active_run=first.active_run,
            run_count=first.run_count,
            created_at=utc(first.created_at),
            display_name=first.display_name,
            last_seen_at=utc(first.last_seen_at),
            inactive=first.inactive,
            callback_url=first.callback_url,
            locale=first.locale,
            locale_chosen=bool(first.locale_chosen),
        )
        # an inactive person who writes again is reachable again: force the position write
        self._loaded = None if first.inactive else (first.state, first.active_run)
        for row in rows:
            if row.run_id is not None:
                self._add_run(snapshot, row).answers.update(row.answers or ())
        self._add_campaigns(first, snapshot)
        return first.id, snapshot

    def _add_campaigns(self, first: Any, snapshot: Snapshot) -> None:
        """The campaigns of open runs and of a group being chosen; reminders waiting to be shown."""
        ids = {run.campaign_id for run in snapshot.runs.values() if run.campaign_id is not None}
        if first.joining_campaign is not None:
            ids.add(first.joining_campaign)
        found = campaigns.campaigns_by_id(self.db, ids)
        snapshot.run_campaigns = found
        snapshot.joining = found.get(first.joining_campaign) if first.joining_campaign else None
        if first.has_nudges:
            snapshot.nudges = campaigns.pending_nudges(self.db, first.id)

    def create_participant(self, channel: str, external_id: str, display_name: str | None) -> int | None:
        """Store a new participant for a step that has something to store; their id, or None if they
        were stored meanwhile (on PostgreSQL the insert waits for a concurrent one of the same person,
        so then that one has committed): the caller loads them and steps again."""
        params = {"channel": channel, "sender": external_id, "display_name": display_name, "now": self.now}
        created: int | None = self.db.scalar_or_none(sql.INSERT_PARTICIPANT[self.dialect], params)
        if created is not None:
            self._loaded = (IDLE, None)  # as inserted: the position is written only if the step moved it
        return created

    def load_more(self, participant_id: int | None, snapshot: Snapshot, needs: Needs) -> None:
        """Add what a command needs beyond the open runs (see `Needs`); for someone not stored, only
        what is not theirs (the campaign or invitation a code names, the service's facts)."""
        if participant_id is not None:
            self._load_own(participant_id, snapshot, needs)
        if needs.campaign_code is not None:
            self._load_campaign(participant_id, snapshot, needs)
        if needs.invitation_code is not None:
            snapshot.invitation = campaigns.invitation(self.db, needs.invitation_code)
        if needs.service_facts:
            snapshot.facts = campaigns.facts(self.db)

    def _load_own(self, participant_id: int, snapshot: Snapshot, needs: Needs) -> None:
        """The person's history, results and what else is stored about them, as far as asked."""
        if needs.history:
            self._add_runs(snapshot, self.db.rows(sql.ALL_RUNS, {"participant": participant_id}))
            snapshot.memberships = campaigns.memberships_of(self.db, participant_id)
            snapshot.running = campaign_reads.campaigns_run_by(self.db, participant_id)
            snapshot.nudges_sent = campaign_reads.nudges_of(self.db, participant_id)
            snapshot.kept_replies = self._kept_replies(participant_id)
        if needs.history or needs.latest_result:
            self._load_results(participant_id, snapshot, needs.history)
        if needs.previous_results:
            snapshot.previous = self._latest_per_framework(participant_id)

    def _kept_replies(self, participant_id: int) -> KeptReplies | None:
        row = self.db.first(sql.KEPT_REPLIES, {"participant": participant_id})
        if row is None or not row.count:
            return None
        last = utc(row.last)
        return KeptReplies(int(row.count), utc(row.first), last, last + REMEMBER_REPLIES_FOR)

    def _load_results(self, participant_id: int, snapshot: Snapshot, every: bool) -> None:
        rows = self.db.rows(sql.RESULTS, {"participant": participant_id})
        if not every:
            rows = rows[:1]
        snapshot.results = [_result_record(row) for row in reversed(rows)]
        snapshot.latest_result = snapshot.results[-1] if snapshot.results else None
        latest = snapshot.latest_result
        if latest and latest.run_number not in snapshot.runs:
            params = {"participant": participant_id, "number": latest.run_number}
            self._add_runs(snapshot, self.db.rows(sql.ONE_RUN, params))

    def _latest_per_framework(self, participant_id: int) -> dict[str, ResultRecord]:
        latest: dict[str, ResultRecord] = {}
        for row in self.db.rows(campaign_sql.LATEST_RESULTS, {"participant": participant_id}):
            latest.setdefault(row.framework_id, _result_record(row))
        return latest

    def _load_campaign(self, participant_id: int | None, snapshot: Snapshot, needs: Needs) -> None:
        assert needs.campaign_code is not None
        found = campaigns.campaign_by_code(self.db, needs.campaign_code)
        snapshot.campaign = found
        if found is None or participant_id is None:  # someone not stored is no member and has no role
            return
        snapshot.membership = campaigns.membership(self.db, found.id, participant_id)
        snapshot.role = campaigns.role(self.db, found.id, participant_id)
        if needs.remind and snapshot.role is not None:
            snapshot.remind_eligible = campaigns.remindable(self.db, found, self.now)

    def _add_run(self, snapshot: Snapshot, row: Any) -> RunRecord:
        record = snapshot.runs.get(row.number)
        if record is None:
            record = snapshot.runs[row.number] = _run_record(row)
            self._run_ids[row.number] = row.run_id
            self._cursors[row.number] = row.cursor
        return record

    def _add_runs(self, snapshot: Snapshot, rows: Iterable[Any]) -> None:
        """Runs from rows of a run and one of its answers each (`ALL_RUNS`, `ONE_RUN`)."""
        for row in rows:
            record = self._add_run(snapshot, row)
            if row.question_id is not None and row.question_id not in record.answers:
                record.answers[row.question_id] = row.value

    def apply(self, participant_id: int, changes: Sequence[Change], position: Position) -> None:
        """Store what the step decided, then where the conversation now stands.

        Rows that did not change are not written: most answers touch only the answer and the
        run's cursor.
        """
        last = len(changes) - 1
        for index, change in enumerate(changes):
            if isinstance(change, EraseParticipant):
                self._erase(participant_id)
                return
            if index != last or not self._answer_and_cursor(change, position):
                self._apply_one(participant_id, change)
        if (active_id := self._moved_cursor(position)) is not None:
            self.db.run(sql.SET_CURSOR, {"run_id": active_id, "cursor": position.cursor})
        if self._loaded != (position.state, position.active_run):
            params = {
                "participant": participant_id,
                "state": position.state,
                "active_run": position.active_run,
                "now": self.now,
            }
            self.db.run(sql.SET_POSITION, params)

    def _erase(self, participant_id: int) -> None:
        campaigns.untally_participant(self.db, participant_id)
        self.db.run(sql.DELETE_PARTICIPANT, {"participant": participant_id})

    def _answer_and_cursor(self, change: Change, position: Position) -> bool:
        """The message's last change, if it is an answer in the active run whose cursor moves,
        stored with the cursor in one statement where the database can (`sql.ANSWER_AND_CURSOR`);
        whether it was."""
        statement = sql.ANSWER_AND_CURSOR.get(self.dialect)
        if statement is None or not isinstance(change, SaveAnswer) or change.run != position.active_run:
            return False
        if self._moved_cursor(position) is None:
            return False
        self.db.run(statement, {**self._answer_params(change), "cursor": position.cursor})
        self._cursors[change.run] = position.cursor
        return True

    def _moved_cursor(self, position: Position) -> int | None:
        """The id of the active run if the step moved its cursor from where it was stored."""
        run_id = self._run_ids.get(position.active_run) if position.active_run else None
        if run_id is None or self._cursors.get(position.active_run or 0) == position.cursor:
            return None
        return run_id

    def _apply_one(self, participant_id: int, change: Change) -> None:
        if isinstance(change, SaveAnswer):
            self._save_answer(change)
        elif isinstance(change, OpenRun):
            self._open_run(participant_id, change)
        elif isinstance(change, FinishRun):
            self._finish_run(change)
        elif isinstance(change, AbandonRun):
            self._close_run(change.run, ABANDONED)
        elif isinstance(change, TallyRun):
            self._campaigns.tally(participant_id, self._run_ids[change.run], change)
        elif isinstance(change, ChooseLocale):
            self.set_locale(participant_id, change.locale, chosen=True)
        elif isinstance(change, SetInputs | StoreCalculation):
            apply_calculator_change(self.db, self._run_ids[change.run], change)
        else:
            self._campaigns.apply(participant_id, change)

    def set_locale(self, participant_id: int, locale: str, chosen: bool) -> None:
        """The language the person is answered in: chosen with /language, or hinted by their channel."""
        self.db.run(sql.SET_LOCALE, {"participant": participant_id, "locale": locale, "chosen": chosen})

    def set_callback_url(self, participant_id: int, url: str | None) -> None:
        """Where replies to this webhook sender can be pushed (reminders), as their bridge last said."""
        self.db.run(campaign_sql.SET_CALLBACK_URL, {"participant": participant_id, "url": url})

    def _open_run(self, participant_id: int, change: OpenRun) -> None:
        params = {
            "participant": participant_id,
            "number": change.number,
            "framework_id": change.framework_id,
            "framework_version": change.framework_version,
            "campaign": change.campaign_id,
            "round": change.round,
            "now": self.now,
        }
        self._run_ids[change.number] = self.db.scalar(sql.INSERT_RUN, params)
        self._cursors[change.number] = 0

    def _save_answer(self, change: SaveAnswer) -> None:
        self.db.run(sql.UPSERT_ANSWER[self.dialect], self._answer_params(change))

    def _answer_params(self, change: SaveAnswer) -> dict[str, Any]:
        return {
            "run_id": self._run_ids[change.run],
            "question_id": change.question_id,
            "dimension_id": change.dimension_id,
            "value": change.value,
            "now": self.now,
        }

    def _finish_run(self, change: FinishRun) -> None:
        run_id = self._close_run(change.run, FINISHED)
        params = {
            "run_id": run_id,
            "score_tenths": change.score_tenths,
            "stage_id": change.stage_id,
            "dimension_tenths": change.dimension_tenths,
            "chart_token": change.chart_token,
            "now": self.now,
        }
        self.db.run(sql.INSERT_RESULT, params)

    def _close_run(self, number: int, status: str) -> int:
        run_id = self._run_ids[number]
        self.db.run(sql.CLOSE_RUN, {"run_id": run_id, "status": status, "now": self.now})
        return run_id

    def remembered_replies(self, channel: str, message_id: str) -> list[dict[str, Any]] | None:
        """The replies already given to this delivery, if it was processed before."""
        row = self.db.first(sql.REMEMBERED, {"channel": channel, "message_id": message_id})
        return None if row is None else list(row.replies)

    def remember_replies(
        self, channel: str, message_id: str, participant_id: int | None, replies: list[dict[str, Any]]
    ) -> None:
        params = {
            "channel": channel,
            "message_id": message_id,
            "participant": participant_id,
            "replies": replies,
            "now": self.now,
        }
        self.db.run(sql.REMEMBER, params)


def _run_record(row: Any) -> RunRecord:
    inputs, refinements = run_inputs(row.inputs)
    return RunRecord(
        number=row.number,
        framework_id=row.framework_id,
        framework_version=row.framework_version,
        status=row.status,
        cursor=row.cursor,
        started_at=utc(row.started_at),
        finished_at=utc(row.finished_at) if row.finished_at else None,
        campaign_id=row.campaign_id,
        round=row.round,
        inputs=inputs,
        refinements=refinements,
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
        calculation=stored_calculation(row.calculation),
    )


def result_by_token(conn: Connection, token: str) -> ResultRecord | None:
    """The stored result a chart token names (for serving the chart by URL)."""
    row = conn.execute(sql.RESULT_BY_TOKEN, {"token": token}).first()
    return None if row is None else _result_record(row)


def mark_inactive(conn: Connection, channel: str, external_id: str) -> None:
    """A channel learnt the person cannot be reached (for example they blocked the bot)."""
    conn.execute(sql.MARK_INACTIVE, {"of_channel": channel, "of_sender": external_id})


REMEMBER_REPLIES_FOR = timedelta(days=2)
"""How long the replies to a delivery are kept to answer its retries (Telegram keeps an update
for 24 hours; bridges retry within minutes)."""


def forget_replies_before(conn: Connection, before: datetime) -> int:
    """Drop remembered replies older than `before`: retries come within minutes, not days."""
    return int(conn.execute(sql.PRUNE_REMEMBERED, {"before": before}).rowcount)


def forget_delivered_replies(conn: Connection, channel: str, message_id: str) -> None:
    """The replies to this delivery reached the person (a channel that sends them itself, such as
    Telegram, says so): a repeat of the delivery is applied once still, and answered with nothing,
    so the person does not get the same messages twice."""
    conn.execute(sql.DELIVERED, {"key_channel": channel, "key_message_id": message_id})


def ping(conn: Connection) -> None:
    """A trivial round trip: the database answers."""
    conn.execute(sql.PING).scalar_one()
