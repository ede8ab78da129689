"""A crowd starting at once in Telegram, against a fake Bot API that refuses more than 30 messages a
second (429 with `retry_after`, as Telegram does). Prints figures only.

`--people` people (1,000 by default) send `/start cx-maturity` together to the bot in polling mode
(aiogram's real session, the app as `cxbot serve` runs it, SQLite). Reported: the time until every
one of them has question 1, the messages sent and refused, and, as the baseline of the same run,
the time the limit itself allows for those messages (messages / 30 per second): the burst can drain
no faster than that.

    python bench/telegram.py [--people 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.telegram_fake.server import FakeBotAPI  # noqa: E402 - the tests' fake Bot API
from tests.telegram_fake.user import FakeUser  # noqa: E402
from tests.test_telegram_harness import running_bot  # noqa: E402

LIMIT = 30


async def measure(people: int, directory: Path) -> None:
    async with FakeBotAPI(flood_limit=LIMIT) as server, running_bot(directory, server=server) as bot:
        crowd = [FakeUser(server, 100_000 + n, f"P{n}") for n in range(people)]
        started = time.perf_counter()
        await asyncio.gather(*(person.send_text("/start cx-maturity") for person in crowd))
        waits = [bot.wait_for(person, "Question 1 of 11", within=3600) for person in crowd]
        await asyncio.gather(*waits)
        elapsed = time.perf_counter() - started
        sent = sum(1 for r in server.requests if r.method in ("sendMessage", "sendPhoto"))
        floor = sent / LIMIT
        print(f"  {people:,} people: every one had question 1 after {elapsed:.1f} s")
        print(f"  messages sent: {sent:,}; refused with 429: {server.flood_refusals}")
        print(
            f"  baseline, the limit's own pace ({LIMIT}/s): {floor:.1f} s; "
            f"the burst took {elapsed / floor:.2f}x that"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(measure(args.people, Path(directory)))


if __name__ == "__main__":
    main()
