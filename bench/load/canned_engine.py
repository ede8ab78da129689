"""`cxbot serve` with its engine answering every message with the same stored replies: the whole HTTP
layer (admission, rate limits, parsing, rendering, metrics, the middleware) and none of the step.
Measured beside bare aiohttp and the real server, it splits a message's cost between the two.

The first message is handled for real (so the replies are a real question page); every later one is
answered with those replies, without storage or dialogue.

    python bench/load/canned_engine.py PORT
"""

from __future__ import annotations

import sys

from dialogs.engine import Engine
from dialogs.types import Inbound, Reply

_real_handle = Engine.handle
_canned: list[Reply] = []


async def canned(self: Engine, inbound: Inbound) -> list[Reply]:
    if not _canned:
        _canned.extend(await _real_handle(self, inbound))
    return _canned


Engine.handle = canned  # type: ignore[method-assign]

if __name__ == "__main__":
    from bot.cli import main

    sys.argv = ["cxbot", "serve", "--port", sys.argv[1]]
    main()
