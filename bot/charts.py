"""Result charts as PNG: the dimension scores as horizontal bars over the shaded stage bands.

`render_chart` is a pure function of a `Chart` value (the engine's data), shared by every channel
that shows pictures. It takes 50-100 ms of CPU, so async code goes through `ChartCache`, which
renders in a worker thread and keeps the last pictures in a bounded LRU cache.
"""

from __future__ import annotations

import asyncio
import io
import textwrap
import threading
from collections import OrderedDict
from itertools import pairwise

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from dialogs.types import AnyChart, Band, Chart, LevelChart, TrendChart

SIZE_INCHES = (8.0, 4.5)
DPI = 100
"""800 x 450 px: readable in a chat bubble and on a phone."""
BAR_COLOUR = "#1f4e79"
"""Dark navy: over 6:1 contrast with every band shade, and distinct without colour vision."""
BAND_SHADES = ("#f4f4f4", "#e4e4e4", "#f4f4f4", "#e4e4e4")
"""Bands alternate light greys (told apart by lightness, not hue) and carry their names as text."""
TEXT_COLOUR = "#1a1a1a"
MUTED_COLOUR = "#595959"
"""7:1 on white: muted but still readable."""
LABEL_WIDTH = 22
"""Characters per line of a wrapped dimension name."""

# Matplotlib's text layout and font caches are process-wide and not documented as thread-safe,
# so drawing is serialised; figures themselves are never shared (no pyplot state at all).
_DRAW_LOCK = threading.Lock()


def render_picture(chart: AnyChart, no_answers: str = "no answers") -> bytes:
    """Any chart as PNG bytes."""
    if isinstance(chart, LevelChart):
        return render_levels(chart)
    if isinstance(chart, TrendChart):
        return render_trend(chart)
    return render_chart(chart, no_answers)


def render_chart(chart: Chart, no_answers: str = "no answers") -> bytes:
    """The chart as PNG bytes. `no_answers` labels a dimension without a score."""
    with _DRAW_LOCK:
        figure = Figure(figsize=SIZE_INCHES, dpi=DPI, layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        _draw_bands(axes, chart)
        _draw_scores(axes, chart, no_answers)
        _style(axes, chart)
        figure.suptitle(chart.title, color=TEXT_COLOUR, fontsize=14, fontweight="bold", parse_math=False)
        out = io.BytesIO()
        figure.savefig(out, format="png", dpi=DPI, facecolor="white")
        return out.getvalue()


def band_spans(chart: Chart) -> list[tuple[Band, float, float]]:
    """Each band from its low end to the next band's low end, so the shading has no gaps."""
    bands = sorted(chart.bands, key=lambda band: band.low)
    if not bands:
        return []
    ends = [following.low for _, following in pairwise(bands)] + [chart.scale_max]
    starts = [min(bands[0].low, chart.scale_min)] + [band.low for band in bands[1:]]
    return list(zip(bands, starts, ends, strict=True))


def _draw_bands(axes: Axes, chart: Chart) -> None:
    for index, (band, start, end) in enumerate(band_spans(chart)):
        axes.axvspan(start, end, color=BAND_SHADES[index % len(BAND_SHADES)], zorder=0, linewidth=0)
        if index:
            axes.axvline(start, color="#9a9a9a", linewidth=0.8, linestyle=(0, (3, 3)), zorder=1)
        axes.text(
            (start + end) / 2,
            1.01,
            "\n".join(textwrap.wrap(band.name, 14)),
            transform=axes.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize=9.5,
            color=MUTED_COLOUR,
            parse_math=False,
        )


def _draw_scores(axes: Axes, chart: Chart, no_answers: str) -> None:
    span = chart.scale_max - chart.scale_min
    for row, score in enumerate(chart.scores):
        if score is None:
            axes.text(
                chart.scale_min + span * 0.02,
                row,
                no_answers,
                va="center",
                fontsize=10,
                fontstyle="italic",
                color=MUTED_COLOUR,
                parse_math=False,
            )
            continue
        width = max(score - chart.scale_min, span * 0.005)
        axes.barh(row, width, left=chart.scale_min, height=0.55, color=BAR_COLOUR, zorder=2)
        axes.text(
            score + span * 0.012,
            row,
            f"{score:.1f}",
            va="center",
            fontsize=11,
            fontweight="bold",
            color=TEXT_COLOUR,
            zorder=3,
        )


def _style(axes: Axes, chart: Chart) -> None:
    rows = range(len(chart.labels))
    labels = ["\n".join(textwrap.wrap(label, LABEL_WIDTH)) for label in chart.labels]
    axes.set_yticks(list(rows), labels, parse_math=False)  # framework text is text: "$5 to $10" stays
    axes.set_ylim(len(chart.labels) - 0.5, -0.5)  # first dimension on top, reading order
    # room right of the scale for the value label of a top score
    axes.set_xlim(chart.scale_min, chart.scale_max + (chart.scale_max - chart.scale_min) * 0.07)
    whole = range(int(chart.scale_min), int(chart.scale_max) + 1)
    axes.set_xticks([float(value) for value in whole])
    axes.tick_params(colors=TEXT_COLOUR, labelsize=10, length=0)
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    axes.spines["bottom"].set_color(MUTED_COLOUR)
    axes.spines["bottom"].set_bounds(chart.scale_min, chart.scale_max)


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
            pending = asyncio.ensure_future(asyncio.to_thread(render_picture, chart, self.no_answers))
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


def render_levels(chart: LevelChart) -> bytes:
    """People per level of each question as stacked horizontal bars."""
    raise NotImplementedError("written next")


def render_trend(chart: TrendChart) -> bytes:
    """Group scores per dimension across rounds, as lines over the stage bands."""
    raise NotImplementedError("written next")
