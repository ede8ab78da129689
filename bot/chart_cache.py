"""Rendered charts, cached: the PNG of a `Chart` (or any chart of `dialogs.types`) made once.

Drawing takes 50-100 ms of CPU and matplotlib takes a moment and some memory to import, so the
drawing module (`bot.charts`) is imported by the worker thread that first renders, not when the
server starts; a server nobody asks for a picture never loads it.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from dialogs.types import AnyChart


def _render(chart: AnyChart, no_answers: str) -> bytes:
    from bot.charts import render_picture

    return render_picture(chart, no_answers)


class ChartCache:
    """PNG bytes of recent charts, rendered off the event loop, at most `size` kept.

    Keyed by the whole `Chart` value (token and data), so a new result never gets an old picture;
    concurrent requests for one chart share a single render.
    """

    def __init__(self, size: int = 128, no_answers: str = "no answers") -> None:
        self.size = size
        self.no_answers = no_answers
        self._pictures: OrderedDict[AnyChart, bytes] = OrderedDict()
        self._rendering: dict[AnyChart, asyncio.Future[bytes]] = {}

    async def png(self, chart: AnyChart) -> bytes:
        """The chart's PNG, from the cache or rendered in a worker thread."""
        if (cached := self._pictures.get(chart)) is not None:
            self._pictures.move_to_end(chart)
            return cached
        pending = self._rendering.get(chart)
        if pending is None:
            pending = asyncio.ensure_future(asyncio.to_thread(_render, chart, self.no_answers))
            self._rendering[chart] = pending
            pending.add_done_callback(lambda done: self._store(chart, done))
        # shield: one caller going away must not cancel the render the others wait for
        return await asyncio.shield(pending)

    def _store(self, chart: AnyChart, done: asyncio.Future[bytes]) -> None:
        self._rendering.pop(chart, None)
        if done.cancelled() or done.exception() is not None:
            return
        self._pictures[chart] = done.result()
        self._pictures.move_to_end(chart)
        while len(self._pictures) > self.size:
            self._pictures.popitem(last=False)
