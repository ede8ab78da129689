"""A campaign report over many completed participants, on SQLite and PostgreSQL. Prints figures only.

Seeds one campaign with `--people` finished CX assessments (11 answers each, random levels, in 4
groups; answers, runs and results as the engine stores them, and the round's tallies through the
same upsert the engine uses, with what each run added in `tallied_runs`), then times `report_numbers`
(every aggregate of one round's report, with the privacy rules and the count of answer sets not yet
published) through the store's read path. The baseline, measured in the same run, is
the raw driver (sqlite3, asyncpg) computing the heaviest single aggregate straight from the answers
(people per question and level): what a report without tallies would have to do.

    python bench/report.py [--people 100000] [--backend sqlite|postgresql|both]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert

from dialogs.campaign_dialogue import new_campaign
from dialogs.tally import tally_rows
from frameworks.registry import FrameworkRegistry
from frameworks.scoring import score
from storage.campaign_statements import ADD_TO_TALLY
from storage.report_queries import report_numbers
from storage.store import Store, open_store
from storage.tables import (
    answers,
    campaign_groups,
    campaign_members,
    campaign_rounds,
    campaigns,
    participants,
    results,
    runs,
    tallied_runs,
)

FRAMEWORK = "cx-maturity"
BATCH = 5_000
GROUPS = ("Front office", "Back office", "Digital", "Policy")
PENDING_AT_END = 3 * len(GROUPS)
"""Finished but not yet in the report: 3 per group (under the minimum of 5)."""
RAW_LEVELS = (
    "SELECT a.question_id, a.value, count(*) FROM answers a JOIN runs r ON r.id = a.run_id "
    "WHERE r.campaign_id = {c} AND r.round = 1 AND r.status = 'finished' GROUP BY a.question_id, a.value"
)


def people(count: int, campaign_id: int) -> Iterator[dict[str, Any]]:
    """Batches of rows for `count` finished participants (ids are assigned here, not by the database)."""
    framework = FrameworkRegistry.from_directories().get(FRAMEWORK)
    assert framework is not None
    rng = random.Random(7)
    now = datetime.now(UTC)
    batch: dict[str, Any] = {}
    for n in range(1, count + 1):
        chosen = {q.id: rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5)) for q in framework.questions}
        result = score(framework, chosen)
        batch.setdefault("participants", []).append(
            {
                "id": n,
                "channel": "bench",
                "external_id": f"p{n}",
                "state": "idle",
                "created_at": now,
                "last_seen_at": now,
            }
        )
        batch.setdefault("runs", []).append(
            {
                "id": n,
                "participant_id": n,
                "number": 1,
                "framework_id": FRAMEWORK,
                "framework_version": framework.version,
                "campaign_id": campaign_id,
                "round": 1,
                "status": "finished",
                "cursor": 10,
                "started_at": now,
                "finished_at": now,
            }
        )
        batch.setdefault("members", []).append(
            {
                "campaign_id": campaign_id,
                "participant_id": n,
                "group_id": None,
                "progress": "completed",
                "progress_round": 1,
                "joined_at": now,
                "moved_at": now,
                "position": 1 + n % len(GROUPS),
            }
        )
        batch.setdefault("answers", []).extend(
            {
                "run_id": n,
                "question_id": q.id,
                "dimension_id": framework.dimension_of[q.id].id,
                "framework_version": framework.version,
                "value": chosen[q.id],
                "answered_at": now,
            }
            for q in framework.questions
        )
        batch.setdefault("results", []).append(
            {
                "run_id": n,
                "framework_id": FRAMEWORK,
                "framework_version": framework.version,
                "score_tenths": int((result.score or 0) * 10),
                "stage_id": result.stage.id if result.stage else None,
                "dimension_tenths": {},
                "chart_token": uuid.uuid4().hex,
                "created_at": now,
            }
        )
        tallies = batch.setdefault("tallies", {})
        rows = tally_rows(framework, chosen, result)
        published = n <= count - PENDING_AT_END  # the last few of each group wait for their batch
        for row in rows if published else ():
            key = (1 + n % len(GROUPS), framework.version, *row)
            tallies[key] = tallies.get(key, 0) + 1
        batch.setdefault("tallied", []).append(
            {
                "run_id": n,
                "campaign_id": campaign_id,
                "round": 1,
                "framework_version": framework.version,
                "position": 1 + n % len(GROUPS),
                "rows": [list(row) for row in rows],
                "batch": n // 20 if published else None,
            }
        )
        if n % BATCH == 0 or n == count:
            yield batch
            batch = {}


def create_campaign(conn: Connection) -> int:
    framework = FrameworkRegistry.from_directories().get(FRAMEWORK)
    assert framework is not None
    made = new_campaign(FRAMEWORK, framework.version, "Bench", groups=GROUPS)
    now = datetime.now(UTC)
    values = {
        "code": made.code,
        "framework_id": FRAMEWORK,
        "title": "Bench",
        "min_group": 5,
        "round": 1,
        "dashboard_token": made.dashboard_token,
        "pseudonym_key": made.pseudonym_key,
        "created_at": now,
    }
    campaign_id = int(conn.execute(insert(campaigns).values(values).returning(campaigns.c.id)).scalar_one())
    conn.execute(
        insert(campaign_rounds),
        [{"campaign_id": campaign_id, "number": 1, "framework_version": framework.version, "opened_at": now}],
    )
    conn.execute(
        insert(campaign_groups),
        [{"campaign_id": campaign_id, "position": i, "name": name} for i, name in enumerate(GROUPS, 1)],
    )
    return campaign_id


def insert_batch(conn: Connection, batch: dict[str, Any], campaign_id: int) -> None:
    group_ids = dict(
        conn.execute(
            campaign_groups.select()
            .with_only_columns(campaign_groups.c.position, campaign_groups.c.id)
            .where(campaign_groups.c.campaign_id == campaign_id)
        ).all()
    )
    members = [{**m, "group_id": group_ids[m.pop("position")]} for m in batch["members"]]
    tallied = [{**t, "group_id": group_ids[t.pop("position")]} for t in batch["tallied"]]
    for table, rows in (
        (participants, batch["participants"]),
        (runs, batch["runs"]),
        (campaign_members, members),
        (answers, batch["answers"]),
        (results, batch["results"]),
        (tallied_runs, tallied),
    ):
        conn.execute(insert(table), rows)
    tallies = [
        {
            "campaign_id": campaign_id,
            "round": 1,
            "framework_version": version,
            "group_id": group_ids[position],
            "kind": kind,
            "part": part,
            "a": a,
            "b": b,
            "n": n,
        }
        for (position, version, kind, part, a, b), n in batch["tallies"].items()
    ]
    conn.execute(ADD_TO_TALLY[conn.dialect.name], tallies)


async def seed(store: Store, count: int) -> int:
    campaign_id = await store.run(create_campaign)
    started = time.perf_counter()
    for batch in people(count, campaign_id):
        await store.run(partial(insert_batch, batch=batch, campaign_id=campaign_id))
    print(f"  seeded {count:,} finished participants in {time.perf_counter() - started:.0f} s")
    return campaign_id


async def timed(label: str, call: Callable[[], Awaitable[object]], repeat: int = 5) -> float:
    await call()  # warm caches, as a live dashboard would
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    print(f"  {label}: median {median * 1000:,.0f} ms (best {min(times) * 1000:,.0f} ms, {repeat} runs)")
    return median


async def measure(url: str, count: int, raw: Callable[[int], Awaitable[object]]) -> None:
    store = await open_store(url)
    try:
        campaign_id = await seed(store, count)
        report = await timed(
            "cxbot report_numbers (whole report)",
            lambda: store.read(partial(report_numbers, campaign_id=campaign_id, round_=1, min_group=5)),
        )
        baseline = await timed("raw driver, answers per question and level", lambda: raw(campaign_id))
        numbers = await store.read(partial(report_numbers, campaign_id=campaign_id, round_=1, min_group=5))
        print(f"  completed {numbers.completed:,}, pending {numbers.pending_count}; target: under 1,000 ms")
        print(f"  the report takes {report / baseline:.1%} of the raw aggregate's time")
    finally:
        await store.close()


async def on_sqlite(count: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "report.db"
        print(f"SQLite ({path.name})")

        async def raw(campaign_id: int) -> object:
            def query() -> object:
                with sqlite3.connect(path) as conn:
                    return conn.execute(RAW_LEVELS.format(c=campaign_id)).fetchall()

            return await asyncio.to_thread(query)

        await measure(f"sqlite:///{path}", count, raw)


async def on_postgres(count: int, admin: str) -> None:
    import asyncpg

    name = f"cxbot_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = f"{admin.rsplit('/', 1)[0]}/{name}"
    print(f"PostgreSQL ({name})")
    try:

        async def raw(campaign_id: int) -> object:
            db = await asyncpg.connect(url)
            try:
                return await db.fetch(RAW_LEVELS.format(c=campaign_id))
            finally:
                await db.close()

        await measure(url, count, raw)
    finally:
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        asyncio.run(on_sqlite(args.people))
    if args.backend in ("postgresql", "both"):
        asyncio.run(on_postgres(args.people, args.postgres))


if __name__ == "__main__":
    main()
