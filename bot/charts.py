"""Charts as PNG: a result's dimension scores over the shaded stage bands, and a campaign report's
answers per level of each question and group scores across rounds.

Each chart has a `draw_*` function that draws it onto a given `Axes` (so the PDF report draws the
same pictures as vectors) and a `render_*` function that makes the PNG. Rendering is a pure function
of a chart value (the engine's data), shared by every channel that shows pictures. It takes 50-100 ms
of CPU, so async code goes through `ChartCache`, which renders in a worker thread and keeps the last
pictures in a bounded LRU cache.
"""

from __future__ import annotations

import io
import math
import textwrap
import threading
from collections.abc import Sequence
from itertools import pairwise

from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.transforms import ScaledTranslation

from dialogs.types import AnyChart, Band, Chart, LevelChart, TrendChart

Colour = str | tuple[float, float, float]

SIZE_INCHES = (8.0, 4.5)
DPI = 100
"""800 x 450 px: readable in a chat bubble and on a phone."""
BAR_COLOUR = "#1f4e79"
"""Dark navy: over 6:1 contrast with every band shade, and distinct without colour vision."""
BAND_SHADES = ("#f4f4f4", "#e4e4e4", "#f4f4f4", "#e4e4e4")
"""Bands alternate light greys (told apart by lightness, not hue) and carry their names as text."""
TEXT_COLOUR = "#1a1a1a"
OVERALL_COLOUR = "#b3261e"
"""Dark red for the overall score's line: set apart from the navy bars, 6:1 on the grey bands, and
dashed, so it does not rely on colour alone."""
OVERALL_ROOM = 0.45
"""Rows of room above the first bar for the overall score's label."""
MUTED_COLOUR = "#595959"
"""7:1 on white: muted but still readable."""
LABEL_WIDTH = 22
"""Characters per line of a wrapped dimension name."""
QUESTION_WIDTH = 28
"""Characters per line of a wrapped question label (level chart)."""
ROW_INCHES = 0.45
"""Height per question of the level chart: two-line labels stay apart with 11 questions."""
LEVEL_RAMP = (0.15, 0.92)
"""Where the level palette starts and ends on matplotlib's "Blues": light to dark, so the levels
are told apart by lightness alone (readable without colour vision and in greyscale print)."""
SKIPPED_FILL = "#eeeeee"
SKIPPED_HATCH = "////"
SKIPPED_LINES = "#9a9a9a"
SERIES_COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#1a1a1a", "#8c6d00", "#56b4e9")
"""Okabe-Ito hues (the yellow darkened): distinct with colour-vision deficiencies, dark enough on grey."""
SERIES_MARKERS = ("o", "s", "^", "D", "v", "P", "X")
SERIES_LINES: tuple[str | tuple[int, tuple[int, ...]], ...] = ("-", "--", ":", "-.", (0, (5, 1, 1, 1)))
"""Markers and line styles change with every series too, so lines never differ by colour alone."""

# Matplotlib's text layout and font caches are process-wide and not documented as thread-safe,
# so drawing is serialised (the PDF report takes this lock too); figures themselves are never
# shared (no pyplot state at all).
DRAW_LOCK = threading.Lock()


def render_picture(chart: AnyChart, no_answers: str = "no answers") -> bytes:
    """Any chart as PNG bytes."""
    if isinstance(chart, LevelChart):
        return render_levels(chart)
    if isinstance(chart, TrendChart):
        return render_trend(chart)
    return render_chart(chart, no_answers)


def render_chart(chart: Chart, no_answers: str = "no answers") -> bytes:
    """The chart as PNG bytes. `no_answers` labels a dimension without a score."""
    with DRAW_LOCK:
        figure = _figure(SIZE_INCHES)
        draw_chart(figure.add_subplot(), chart, no_answers)
        return _png(figure, chart.title)


def render_levels(chart: LevelChart) -> bytes:
    """People per level of each question as 100%-stacked horizontal bars, as PNG bytes."""
    with DRAW_LOCK:
        figure = _figure((SIZE_INCHES[0], levels_height(chart)))
        draw_levels(figure.add_subplot(), chart)
        return _png(figure, chart.title)


def render_trend(chart: TrendChart) -> bytes:
    """Group scores per dimension across rounds, as lines over the stage bands, as PNG bytes."""
    with DRAW_LOCK:
        figure = _figure((SIZE_INCHES[0], trend_height(chart)))
        draw_trend(figure.add_subplot(), chart)
        return _png(figure, chart.title)


def levels_height(chart: LevelChart) -> float:
    """Inches a level chart needs at 8 in wide: a row per question, plus title, legend and axis."""
    return max(1.7 + ROW_INCHES * len(chart.questions), 3.0)


def trend_height(chart: TrendChart) -> float:
    """Inches a trend chart needs at 8 in wide: the plot plus a legend row per few series."""
    return 4.2 + 0.25 * math.ceil(len(chart.series) / _series_columns(chart))


def _figure(size: tuple[float, float]) -> Figure:
    figure = Figure(figsize=size, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure, title: str) -> bytes:
    figure.suptitle(title, color=TEXT_COLOUR, fontsize=14, fontweight="bold", parse_math=False)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI, facecolor="white")
    return out.getvalue()


def band_spans(chart: Chart | TrendChart) -> list[tuple[Band, float, float]]:
    """Each band from its low end to the next band's low end, so the shading has no gaps."""
    bands = sorted(chart.bands, key=lambda band: band.low)
    if not bands:
        return []
    ends = [following.low for _, following in pairwise(bands)] + [chart.scale_max]
    starts = [min(bands[0].low, chart.scale_min)] + [band.low for band in bands[1:]]
    return list(zip(bands, starts, ends, strict=True))


# The result (and group profile) chart: scores as bars over vertical bands.


def draw_chart(axes: Axes, chart: Chart, no_answers: str = "no answers") -> None:
    """The dimension scores as bars over the stage bands, onto `axes` (no title)."""
    _draw_bands(axes, band_spans(chart), across=False)
    _draw_scores(axes, chart, no_answers)
    _style(axes, chart)
    if chart.overall is not None:
        _draw_overall(axes, chart, chart.overall)


def _draw_bands(axes: Axes, spans: list[tuple[Band, float, float]], across: bool) -> None:
    """Shaded bands with their names: side by side along x, or (`across`) stacked along y."""
    for index, (band, start, end) in enumerate(spans):
        shade = BAND_SHADES[index % len(BAND_SHADES)]
        span, line = (axes.axhspan, axes.axhline) if across else (axes.axvspan, axes.axvline)
        span(start, end, color=shade, zorder=0, linewidth=0)
        if index:
            line(start, color="#9a9a9a", linewidth=0.8, linestyle=(0, (3, 3)), zorder=1)
        middle = (start + end) / 2
        # names beside their band right of the plot (`across`), or over it above the plot
        x, y, ha, va = (1.01, middle, "left", "center") if across else (middle, 1.01, "center", "bottom")
        transform = axes.get_yaxis_transform() if across else axes.get_xaxis_transform()
        name = "\n".join(textwrap.wrap(band.name, 14))
        axes.text(
            x, y, name, transform=transform, ha=ha, va=va, fontsize=9.5, color=MUTED_COLOUR, parse_math=False
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
            _score(score, chart.decimal_mark),
            va="center",
            fontsize=11,
            fontweight="bold",
            color=TEXT_COLOUR,
            zorder=3,
        )


def _draw_overall(axes: Axes, chart: Chart, overall: float) -> None:
    """The overall score as a dashed line across every row, named in a band of its own above the
    first row ("CX maturity: 3.1", the words of the result's stage line), so the line never hides
    a bar's value and reads without colour."""
    rows = max(len(chart.labels), 1)
    axes.set_ylim(rows - 0.5, -0.5 - OVERALL_ROOM)
    axes.plot(
        [overall, overall],
        [rows - 0.5, -0.5],
        color=OVERALL_COLOUR,
        linestyle=(0, (4, 2)),
        linewidth=1.8,
        zorder=1.5,  # over the bands, under the bars and their values: a reference, not a bar
        solid_capstyle="butt",
    )
    where = (overall - chart.scale_min) / ((chart.scale_max - chart.scale_min) or 1)
    # near either end the label grows inward, so it stays over the plot
    align = "left" if where < 0.2 else "right" if where > 0.8 else "center"
    axes.text(
        overall,
        -0.5 - OVERALL_ROOM / 2,
        f"{chart.title}: {_score(overall, chart.decimal_mark)}",
        ha=align,
        va="center",
        fontsize=10,
        fontweight="bold",
        color=OVERALL_COLOUR,
        bbox={"facecolor": "white", "edgecolor": OVERALL_COLOUR, "pad": 2.0, "linewidth": 0.8},
        zorder=5,
        parse_math=False,
    )


def _score(value: float, decimal_mark: str) -> str:
    """A score as the reader's language writes it (the text beside the chart says it the same way)."""
    return f"{value:.1f}".replace(".", decimal_mark)


def _style(axes: Axes, chart: Chart) -> None:
    _row_labels(axes, chart.labels, LABEL_WIDTH)
    # room right of the scale for the value label of a top score
    axes.set_xlim(chart.scale_min, chart.scale_max + (chart.scale_max - chart.scale_min) * 0.07)
    axes.set_xticks(_whole_numbers(chart.scale_min, chart.scale_max))
    _quiet(axes, "bottom")
    axes.spines["bottom"].set_bounds(chart.scale_min, chart.scale_max)


def _row_labels(axes: Axes, labels: Sequence[str], width: int) -> None:
    """Wrapped labels, one per row, the first on top (reading order)."""
    wrapped = ["\n".join(textwrap.wrap(label, width)) for label in labels]
    axes.set_yticks(list(range(len(labels))), wrapped, parse_math=False)  # "$5 to $10" stays text
    axes.set_ylim(max(len(labels), 1) - 0.5, -0.5)


def _whole_numbers(low: float, high: float) -> list[float]:
    return [float(value) for value in range(math.ceil(low), math.floor(high) + 1)]


def _quiet(axes: Axes, *kept: str) -> None:
    """Ticks without marks, and only the `kept` spines, in the muted colour."""
    axes.tick_params(colors=TEXT_COLOUR, labelsize=10, length=0)
    for side, spine in axes.spines.items():
        spine.set_visible(side in kept)
        spine.set_color(MUTED_COLOUR)


def _plain_legend(legend: Legend) -> None:
    """Legend labels come from frameworks, so they are text, not mathtext."""
    for text in legend.get_texts():
        text.set_parse_math(False)


# The level chart: people per level of each question as 100%-stacked bars.


def draw_levels(axes: Axes, chart: LevelChart) -> None:
    """People per level of each question as 100%-stacked bars with a legend above, onto `axes`.

    The last level is "skipped": light grey and hatched, set apart from the answer levels.
    """
    fills = level_colours(len(chart.levels) - 1)
    for row, counts in enumerate(chart.counts):
        _draw_level_row(axes, row, counts, fills)
    _level_legend(axes, chart, fills)
    _row_labels(axes, chart.questions, QUESTION_WIDTH)
    axes.set_xlim(0, 1)
    axes.set_xticks([0, 0.25, 0.5, 0.75, 1], ["0%", "25%", "50%", "75%", "100%"])
    _quiet(axes)
    axes.tick_params(axis="x", colors=MUTED_COLOUR, labelsize=9)


def level_colours(count: int) -> list[tuple[float, float, float]]:
    """`count` fills from light to dark, evenly spaced in lightness."""
    ramp = colormaps["Blues"]
    low, high = LEVEL_RAMP
    steps = [low + (high - low) * index / max(count - 1, 1) for index in range(count)]
    return [to_rgb(ramp(step)) for step in steps]


def _draw_level_row(
    axes: Axes, row: int, counts: Sequence[int], fills: Sequence[tuple[float, float, float]]
) -> None:
    # the outline shows the whole bar, so a row nobody answered is visibly empty
    outline = Rectangle((0, row - 0.3), 1, 0.6, fill=False, edgecolor="#bdbdbd", linewidth=0.6, zorder=1)
    axes.add_patch(outline)
    total = sum(counts)
    start = 0.0
    for index, count in enumerate(counts):
        if not count:
            continue
        share = count / total
        skipped = index >= len(fills)
        fill = SKIPPED_FILL if skipped else fills[index]
        hatch = SKIPPED_HATCH if skipped else None
        axes.barh(
            row,
            share,
            left=start,
            height=0.6,
            color=fill,
            edgecolor="white",
            linewidth=0.8,
            hatch=hatch,
            hatchcolor=SKIPPED_LINES,
            zorder=2,
        )
        _count_label(axes, row, start + share / 2, share, count, fill, skipped)
        start += share


def _count_label(
    axes: Axes, row: int, middle: float, share: float, count: int, fill: Colour, boxed: bool
) -> None:
    """The count inside its segment, if the segment is wide enough to hold it."""
    text = str(count)
    if share < 0.018 + 0.022 * len(text):  # about 0.1 in per digit at a plot 5-6 in wide
        return
    box = {"facecolor": fill, "edgecolor": "none", "pad": 1.0} if boxed else None
    axes.text(middle, row, text, ha="center", va="center", fontsize=9, color=_ink(fill), bbox=box, zorder=3)


def _ink(fill: Colour) -> str:
    """Dark or white text, whichever contrasts more with the fill (WCAG relative luminance)."""
    channels = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(fill)]
    luminance = 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]
    dark = (luminance + 0.05) / (0.0103 + 0.05)  # TEXT_COLOUR's luminance is about 0.0103
    return TEXT_COLOUR if dark >= 1.05 / (luminance + 0.05) else "white"


def _level_legend(axes: Axes, chart: LevelChart, fills: Sequence[tuple[float, float, float]]) -> None:
    handles = [
        Patch(facecolor=fills[index], edgecolor="white")
        if index < len(fills)
        else Patch(facecolor=SKIPPED_FILL, hatch=SKIPPED_HATCH, edgecolor=SKIPPED_LINES, linewidth=0.6)
        for index in range(len(chart.levels))
    ]
    width = sum(len(label) + 6 for label in chart.levels)  # characters, with the swatch
    columns = len(chart.levels) if width <= 90 else math.ceil(len(chart.levels) / 2)
    legend = axes.legend(
        handles,
        list(chart.levels),
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncols=max(columns, 1),
        frameon=False,
        fontsize=9,
        handlelength=1.4,
        columnspacing=1.2,
        labelcolor=TEXT_COLOUR,
    )
    _plain_legend(legend)


# The trend chart: group scores across rounds as lines over horizontal bands.


def draw_trend(axes: Axes, chart: TrendChart) -> None:
    """Each series' score per round as a line with markers over the stage bands, with a legend
    below, onto `axes`. A None value (a withheld round) leaves a gap in its line."""
    _draw_bands(axes, band_spans(chart), across=True)
    handles = [_draw_series(axes, index, series) for index, series in enumerate(chart.series)]
    labels = ["\n".join(textwrap.wrap(name, 32)) for name, _ in chart.series]
    # anchored a fixed distance below the axes, clear of the round labels at any height
    below = axes.transAxes + ScaledTranslation(0, -0.32, axes.figure.dpi_scale_trans)
    legend = axes.legend(
        handles,
        labels,
        loc="upper center",
        bbox_to_anchor=(0.5, 0),
        bbox_transform=below,
        ncols=_series_columns(chart),
        frameon=False,
        fontsize=9.5,
        handlelength=3.2,
        labelcolor=TEXT_COLOUR,
    )
    _plain_legend(legend)
    axes.set_xticks(list(range(len(chart.rounds))), list(chart.rounds), parse_math=False)  # translated
    axes.set_xlim(-0.4, max(len(chart.rounds) - 1, 0) + 0.4)
    axes.set_ylim(chart.scale_min, chart.scale_max)
    axes.set_yticks(_whole_numbers(chart.scale_min, chart.scale_max))
    _quiet(axes, "left", "bottom")


def _draw_series(axes: Axes, index: int, series: tuple[str, Sequence[float | None]]) -> Line2D:
    name, values = series
    points = [math.nan if value is None else value for value in values]  # NaN breaks the line
    (line,) = axes.plot(
        range(len(points)),
        points,
        color=SERIES_COLOURS[index % len(SERIES_COLOURS)],
        marker=SERIES_MARKERS[index % len(SERIES_MARKERS)],
        linestyle=SERIES_LINES[index % len(SERIES_LINES)],
        linewidth=2,
        markersize=7,
        markeredgecolor="white",
        markeredgewidth=0.8,
        clip_on=False,  # a top or bottom score keeps its whole marker
        zorder=3,
        label=name,
    )
    return line


def _series_columns(chart: TrendChart) -> int:
    longest = max((min(len(name), 32) for name, _ in chart.series), default=1)
    return max(1, min(len(chart.series), 90 // (longest + 10)))
