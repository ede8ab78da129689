"""The engine, alone and with SQLite, beside baselines measured in the same run. Prints figures only.

- engine alone: the dialogue (parse, the shared `transitions` machine, rendering, scoring) on
  snapshots in memory, no storage; the traffic of `--people` people each starting the CX assessment,
  answering 11 questions, reviewing and submitting. Baseline: a bare `transitions` event fired on a
  model, the least a step on the shared machine can cost. Goal: 30,000 messages/s.
- engine + SQLite: the same traffic through `Engine.handle` on a SQLite store (one writer thread,
  group commit), every answer committed before its reply. Baseline: the standard sqlite3 module doing
  a message's statements (read the person, store the answer, move the cursor) with the same group
  commits and synchronous setting, no engine at all. Goal: 5,000 durable answers/s.

    python bench/engine.py [--people 400] [--synchronous NORMAL|FULL]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from transitions import Machine

from dialogs.catalogue import catalogue
from dialogs.commands import parse
from dialogs.conversation import Context, Conversation
from dialogs.dialogue import Dialogue
from dialogs.engine import Engine
from dialogs.types import Inbound
from frameworks.registry import FrameworkRegistry
from storage.records import Snapshot
from storage.store import open_store

FRAMEWORK = "cx-maturity"
GROUP = 64
"""Messages per commit in the sqlite3 baseline: about what the store's group commit gathers here."""


def messages(questions: int) -> list[str]:
    return [f"/start {FRAMEWORK}", *(str(1 + index % 5) for index in range(questions)), "/submit"]


def engine_alone(people: int, frameworks: FrameworkRegistry) -> float:
    """Messages a second through the dialogue on in-memory snapshots."""
    framework = frameworks.get(FRAMEWORK)
    assert framework is not None
    context, dialogue = Context(frameworks, catalogue()), Dialogue()
    script = messages(len(framework.questions))
    started = time.perf_counter()
    for person in range(people):
        snapshot = Snapshot(previous={})
        for text in script:
            conv = Conversation(snapshot, Inbound("bench", f"p{person}", text), context)
            dialogue.handle(conv, parse(text))
            snapshot.state = conv.state
            snapshot.active_run = conv.run.number if conv.run else snapshot.active_run
    return people * len(script) / (time.perf_counter() - started)


def bare_transitions(count: int) -> float:
    """Events a second on a bare `transitions` machine: one model, one event, no callbacks."""

    class Model:
        state = "a"

    machine = Machine(model=None, states=["a", "b"], initial="a", auto_transitions=False)
    machine.add_transition("go", "a", "b")
    machine.add_transition("go", "b", "a")
    event, model = machine.events["go"], Model()
    started = time.perf_counter()
    for _ in range(count):
        event.trigger(model)
    return count / (time.perf_counter() - started)


async def person(engine: Engine, name: str, script: list[str], latencies: list[float]) -> None:
    for text in script:
        started = time.perf_counter()
        await engine.handle(Inbound("bench", name, text))
        if text.isdigit():
            latencies.append(time.perf_counter() - started)


async def with_sqlite(people: int, synchronous: str, directory: Path, frameworks: FrameworkRegistry) -> None:
    framework = frameworks.get(FRAMEWORK)
    assert framework is not None
    store = await open_store(f"sqlite:///{directory / 'engine.db'}", synchronous=synchronous)
    engine = Engine(frameworks, store)
    script = messages(len(framework.questions))
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(person(engine, f"p{i}", script, latencies) for i in range(people)))
    elapsed = time.perf_counter() - started
    await store.close()
    answers = people * len(framework.questions)
    latencies.sort()
    median, p99 = statistics.median(latencies), latencies[int(len(latencies) * 0.99)]
    print(f"  engine + SQLite ({synchronous}): {answers / elapsed:,.0f} durable answers/s (goal: 5,000)")
    print(
        f"    answer latency, {people} people at once: median {median * 1e3:.1f} ms, p99 {p99 * 1e3:.1f} ms"
    )
    baseline = raw_sqlite(people * len(script), synchronous, directory)
    share = answers / elapsed / baseline
    print(f"  baseline, sqlite3 alone (no engine): {baseline:,.0f} messages/s; engine answers: {share:.0%}")


def raw_sqlite(count: int, synchronous: str, directory: Path) -> float:
    """A message's statements straight on sqlite3, committed in groups: the floor of the work."""
    db = sqlite3.connect(directory / "raw.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")
    db.executescript(
        "CREATE TABLE people (id INTEGER PRIMARY KEY, sender TEXT UNIQUE, state TEXT, cursor INT);"
        "CREATE TABLE answers (person INT, question INT, value INT, PRIMARY KEY (person, question));"
    )
    started = time.perf_counter()
    for first in range(0, count, GROUP):
        db.execute("BEGIN IMMEDIATE")
        for n in range(first, min(first + GROUP, count)):
            sender = f"p{n % 400}"
            row = db.execute("SELECT id, state, cursor FROM people WHERE sender = ?", (sender,)).fetchone()
            if row is None:
                db.execute("INSERT INTO people (sender, state, cursor) VALUES (?, 'asking', 0)", (sender,))
                row = db.execute(
                    "SELECT id, state, cursor FROM people WHERE sender = ?", (sender,)
                ).fetchone()
            db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?)", (row[0], row[2] % 11, n % 5))
            db.execute("UPDATE people SET cursor = cursor + 1 WHERE id = ?", (row[0],))
        db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=400)
    parser.add_argument("--synchronous", choices=["NORMAL", "FULL"], default="NORMAL")
    args = parser.parse_args()
    frameworks = FrameworkRegistry.from_directories()
    engine_alone(20, frameworks)  # warm: question pages, caches
    alone = statistics.median(engine_alone(args.people, frameworks) for _ in range(3))
    bare = bare_transitions(100_000)
    print(f"  engine alone: {alone:,.0f} messages/s (goal: 30,000)")
    print(f"  baseline, a bare transitions event: {bare:,.0f}/s; a message costs {bare / alone:.1f} of them")
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(with_sqlite(args.people, args.synchronous, Path(directory), frameworks))


if __name__ == "__main__":
    main()
