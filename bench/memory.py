"""Memory as many different people write, beside the process's own size before they came. Prints
figures only.

`--people` distinct people (100,000 by default) each start the CX assessment and answer its first
question through the engine on a SQLite store, in batches; the process's resident memory is read
before (the baseline: the engine loaded and ready) and after. Goal: under 100 MB of growth, since a
person's state lives in the database, not in memory.

    python bench/memory.py [--people 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import time
from pathlib import Path

from dialogs.engine import Engine
from dialogs.types import Inbound
from frameworks.registry import FrameworkRegistry
from storage.store import open_store

BATCH = 500


def resident_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")) / 1024


async def visit(engine: Engine, name: str) -> None:
    await engine.handle(Inbound("bench", name, "/start cx-maturity"))
    await engine.handle(Inbound("bench", name, "3"))


async def measure(people: int, directory: Path) -> None:
    store = await open_store(f"sqlite:///{directory / 'memory.db'}")
    engine = Engine(FrameworkRegistry.from_directories(), store)
    for n in range(200):  # warm: caches made once per process are part of the baseline
        await visit(engine, f"warm-{n}")
    gc.collect()
    before = resident_mb()
    started = time.perf_counter()
    for first in range(0, people, BATCH):
        await asyncio.gather(*(visit(engine, f"p{n}") for n in range(first, min(first + BATCH, people))))
    elapsed = time.perf_counter() - started
    gc.collect()
    after = resident_mb()
    await store.close()
    print(f"  {people:,} people, 2 messages each, in {elapsed:.0f} s")
    growth = after - before
    print(
        f"  baseline (engine ready): {before:.0f} MB; after: {after:.0f} MB; growth {growth:.0f} MB "
        "(goal: under 100)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(measure(args.people, Path(directory)))


if __name__ == "__main__":
    main()
