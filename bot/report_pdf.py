"""A campaign round's group report as an A4 PDF a facilitator can hand to leadership.

Every sentence comes from `dialogs.report_view` and the catalogue, so the PDF says what the chat
says, and the charts are the dashboard's, drawn by `bot.charts` as vectors (not pictures). A withheld
report holds nothing but its counts, so its PDF is the title and the withheld sentence. Made with
matplotlib's PDF backend: text and charts flow down A4 pages, onto as many as they need.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable
from datetime import date
from functools import partial

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from bot.charts import (
    DRAW_LOCK,
    MUTED_COLOUR,
    TEXT_COLOUR,
    draw_chart,
    draw_levels,
    draw_trend,
    levels_height,
    trend_height,
)
from dialogs.catalogue import Catalogue
from dialogs.codes import shown
from dialogs.group_report import GroupReport
from dialogs.report_view import (
    group_lines,
    level_chart,
    profile_chart,
    roadmap_lines,
    summary_lines,
    trend_chart,
    trend_lines,
    withheld_lines,
)

PAGE = (8.27, 11.69)
"""A4 in inches."""
MARGIN = 0.8
FOOTER = 0.45
"""Inches from the bottom edge to the page number."""
ROOM = PAGE[1] - 2 * MARGIN - 0.5
"""The tallest a chart is drawn, in inches: a page inside its margins, less a heading's room."""
SQUEEZE = 0.8
"""A chart may lose a fifth of its height to stay on the page it starts on."""
CHAR_EM = 0.58
"""Average character width in ems used to wrap lines: DejaVu Sans measures about 0.53 on English
text, and the slack keeps a line with many capitals inside the margin."""
LINE_SPACING = 1.4
CHART_TITLE_INCHES = 0.4
"""The PNG charts' title row, which the PDF leaves out (its headings name the charts)."""

Draw = Callable[[Axes], None]


def report_pdf(cat: Catalogue, report: GroupReport, generated: date | None = None) -> bytes:
    """The report as A4 PDF bytes: a title block, then (unless withheld) the summary and profile,
    groups, trend, answers per question and road map, with page numbers in the footer."""
    title = cat.text("report_title", title=report.title)
    with DRAW_LOCK:  # the charts' lock: matplotlib's font caches are shared with PNG rendering
        pages = Pages()
        _title_block(pages, cat, report, title, generated or date.today())
        if report.withheld or report.overall is None:
            for part in withheld_lines(cat, report):
                pages.paragraph(part)
        else:
            _body(pages, cat, report)
        return pages.pdf(title)


def _title_block(pages: Pages, cat: Catalogue, report: GroupReport, title: str, generated: date) -> None:
    pages.paragraph(title, size=20, weight="bold")
    pages.paragraph(report.framework.title, size=13, after=0.05)
    meta = cat.text(
        "report_pdf_meta", code=shown(report.code), round=report.round, date=generated.isoformat()
    )
    pages.paragraph(meta, size=10, colour=MUTED_COLOUR, after=0.3)


def _body(pages: Pages, cat: Catalogue, report: GroupReport) -> None:
    _summary(pages, cat, report)
    profile = profile_chart(report.framework, report, "")
    pages.chart(
        partial(draw_chart, chart=profile, no_answers=cat.text("chart_no_answers")), _profile_height(report)
    )
    if report.groups:
        pages.heading(cat.text("report_groups_title"))
        pages.paragraph("\n".join(group_lines(cat, report)))
    if len(report.trend) > 1:
        pages.heading(cat.text("report_trend_title"))
        pages.paragraph("\n".join(trend_lines(cat, report)))
        trend = trend_chart(cat, report, "")
        pages.chart(partial(draw_trend, chart=trend), trend_height(trend) - CHART_TITLE_INCHES)
    levels = level_chart(cat, report, "")
    height = levels_height(levels) - CHART_TITLE_INCHES
    pages.heading(cat.text("report_levels_title"), keep=height)
    pages.chart(partial(draw_levels, chart=levels), height)
    pages.heading(cat.text("report_roadmap_title"))
    pages.paragraph("\n".join(roadmap_lines(cat, report)))


def _summary(pages: Pages, cat: Catalogue, report: GroupReport) -> None:
    """The chat's summary message, a paragraph for each of its parts."""
    for part in "\n".join(summary_lines(cat, report)).split("\n\n"):
        pages.paragraph(part)


def _profile_height(report: GroupReport) -> float:
    return 1.3 + 0.5 * len(report.dimensions)


class Pages:
    """A4 pages filled from the top down; what does not fit on a page starts the next one."""

    def __init__(self) -> None:
        self.figures: list[Figure] = []
        self._used = 0.0
        """Inches taken from the top of the current page."""
        self._new_page()

    def heading(self, text: str, keep: float = 1.0) -> None:
        """A section heading, kept on one page with the first `keep` inches of what follows it."""
        self._room(0.4 + min(keep * SQUEEZE, ROOM))
        self._used += 0.15
        self.paragraph(text, size=13, weight="bold", after=0.06)

    def paragraph(
        self,
        text: str,
        size: float = 10,
        weight: str = "normal",
        colour: str = TEXT_COLOUR,
        after: float = 0.12,
    ) -> None:
        """Text wrapped to the page width, its lines flowing onto the next page if need be."""
        step = size * LINE_SPACING / 72
        for line in _wrap(text, size):
            self._room(step)
            self._figure.text(
                MARGIN / PAGE[0],
                1 - self._used / PAGE[1],
                line,
                va="top",
                fontsize=size,
                fontweight=weight,
                color=colour,
                parse_math=False,  # report text is framework and catalogue text: "$5" stays "$5"
            )
            self._used += step
        self._used += after

    def chart(self, draw: Draw, height: float) -> None:
        """A chart the width of the text, `height` inches tall with its labels and legend."""
        height = min(height, ROOM)
        if self._left() >= SQUEEZE * height:  # a little shorter rather than a half-empty page
            height = min(height, self._left())
        self._room(height)
        box = Bbox.from_bounds(MARGIN, PAGE[1] - self._used - height, PAGE[0] - 2 * MARGIN, height)
        box = Bbox(box.get_points() / PAGE)  # inches to page fractions
        axes = self._figure.add_axes(box.bounds)
        draw(axes)
        self._fit(axes, box)
        self._used += height + 0.2

    def pdf(self, title: str) -> bytes:
        """The pages, numbered, as PDF bytes with `title` in the document's metadata."""
        for number, figure in enumerate(self.figures, start=1):
            figure.text(
                0.5,
                FOOTER / PAGE[1],
                f"{number} / {len(self.figures)}",
                ha="center",
                fontsize=9,
                color=MUTED_COLOUR,
            )
        out = io.BytesIO()
        with PdfPages(out, metadata={"Title": title, "Creator": "cxbot"}) as document:
            for figure in self.figures:
                document.savefig(figure)
        return out.getvalue()

    @property
    def _figure(self) -> Figure:
        return self.figures[-1]

    def _new_page(self) -> None:
        figure = Figure(figsize=PAGE, dpi=72)
        # an Agg canvas measures the charts' labels for `_fit`; saving switches it to the PDF one
        self._canvas = FigureCanvasAgg(figure)
        self.figures.append(figure)
        self._used = MARGIN

    def _left(self) -> float:
        return PAGE[1] - MARGIN - self._used

    def _room(self, height: float) -> None:
        if height > self._left() and self._used > MARGIN:
            self._new_page()

    def _fit(self, axes: Axes, box: Bbox) -> None:
        """Shrink the plot so it, its tick labels, band names and legend together fill `box`."""
        outer = axes.get_tightbbox(self._canvas.get_renderer())
        if outer is None:  # nothing drawn: keep the whole box
            return
        inner = axes.bbox
        page = self._figure.bbox
        left, right = (inner.x0 - outer.x0) / page.width, (outer.x1 - inner.x1) / page.width
        below, above = (inner.y0 - outer.y0) / page.height, (outer.y1 - inner.y1) / page.height
        axes.set_position(
            (box.x0 + left, box.y0 + below, box.width - left - right, box.height - below - above)
        )


def _wrap(text: str, size: float) -> list[str]:
    """Lines of at most the width of the text column; a list item ("- ...") keeps a hanging indent."""
    width = int((PAGE[0] - 2 * MARGIN) * 72 / (size * CHAR_EM))
    lines: list[str] = []
    for line in text.split("\n"):
        indent = "  " if line.startswith("- ") else ""
        lines += textwrap.wrap(line, width, subsequent_indent=indent) or [""]
    return lines
