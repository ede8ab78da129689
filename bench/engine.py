"""Durable answers per second through the engine and storage, in one process, on SQLite.

Simulated people each start the CX assessment and answer every question; each answer is
committed before its reply returns (group commit on the writer thread). Prints figures only.

    python bench/engine.py [--people 400] [--synchronous NORMAL|FULL]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from dialogs.engine import Engine
from dialogs.types import Inbound
from frameworks.registry import FrameworkRegistry
from storage.store import open_store

FRAMEWORK = "cx-maturity"


async def person(engine: Engine, name: str, questions: int, latencies: list[float]) -> None:
    await engine.handle(Inbound("bench", name, f"/start {FRAMEWORK}"))
    for index in range(questions):
        started = time.perf_counter()
        await engine.handle(Inbound("bench", name, str(1 + (index % 5))))
        latencies.append(time.perf_counter() - started)


async def measure(people: int, synchronous: str, directory: Path) -> None:
    frameworks = FrameworkRegistry.from_directories()
    questions = len(frameworks.get(FRAMEWORK).questions)  # type: ignore[union-attr]
    store = await open_store(f"sqlite:///{directory / 'bench.db'}", synchronous=synchronous)
    engine = Engine(frameworks, store)
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(person(engine, f"p{i}", questions, latencies) for i in range(people)))
    elapsed = time.perf_counter() - started
    await store.close()
    messages = people * (questions + 1)
    answers = people * questions
    latencies.sort()
    print(f"people: {people}, synchronous={synchronous}")
    print(f"messages: {messages} in {elapsed:.2f} s = {messages / elapsed:,.0f} messages/s")
    print(f"durable answers/s: {answers / elapsed:,.0f} (target: at least 5,000)")
    print(
        f"answer latency: median {statistics.median(latencies) * 1000:.1f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=400)
    parser.add_argument("--synchronous", choices=["NORMAL", "FULL"], default="NORMAL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(measure(args.people, args.synchronous, Path(directory)))


if __name__ == "__main__":
    main()
