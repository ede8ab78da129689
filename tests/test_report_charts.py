"""A campaign report's pictures: answers per level, the trend across rounds, and the PDF report."""

from __future__ import annotations

import dataclasses
import re
import zlib
from collections import Counter
from fractions import Fraction
from pathlib import Path

import numpy
import pytest
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

import bot.charts
from bot.charts import (
    DPI,
    SKIPPED_HATCH,
    TEXT_COLOUR,
    draw_levels,
    draw_trend,
    level_colours,
    levels_height,
    render_levels,
    render_picture,
    render_trend,
)
from bot.report_pdf import report_pdf
from dialogs.catalogue import catalogue
from dialogs.group_report import GroupReport, build_report
from dialogs.report_view import dimension_lines, overall_line
from dialogs.types import Band, LevelChart, TrendChart
from frameworks.group_scoring import rounded
from frameworks.registry import FrameworkRegistry
from frameworks.schema import Framework
from frameworks.scoring import stage_for
from storage.records import OVERALL
from storage.report_queries import Histogram, Pending, ReportNumbers, RoundNumbers
from tests.test_charts import BANDS, assert_drawn_as_text, kept_figures, png_size

LEVELS = ("Passive", "Impersonal", "Targeted", "Personalized", "Empathetic", "skipped")
TRICKY = "Costs $5 to $10 per $_$ citizen"
"""Mathtext would fail on `$_$`: drawing it proves the text was taken as text."""
Answers = dict[str, int | None]


def level_chart(questions: int, counts: tuple[int, ...] = (1, 2, 3, 4, 5, 1)) -> LevelChart:
    names = tuple(f"Question number {n} about something long enough to wrap" for n in range(questions))
    return LevelChart("t", "CX maturity", names, LEVELS, (counts,) * questions)


def trend_chart(series: tuple[tuple[str, tuple[float | None, ...]], ...], rounds: int = 3) -> TrendChart:
    labels = tuple(f"Round {number}" for number in range(1, rounds + 1))
    return TrendChart("t", "CX maturity", labels, series, BANDS, 1.0, 5.0)


def drawn(draw: object, chart: LevelChart | TrendChart) -> tuple[Figure, Axes]:
    """The chart drawn onto a fresh figure, laid out and rendered (as the PNG would be)."""
    figure = Figure(figsize=(8, 6), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    draw(axes, chart)  # type: ignore[operator]
    figure.canvas.draw()
    return figure, axes


def series_lines(axes: Axes) -> list[Line2D]:
    """The trend's lines (not the band dividers)."""
    return [line for line in axes.get_lines() if not str(line.get_label()).startswith("_")]


def luminance(colour: tuple[float, float, float]) -> float:
    return 0.2126 * colour[0] + 0.7152 * colour[1] + 0.0722 * colour[2]


# The level chart


def test_a_level_chart_is_a_png_800_wide_that_grows_with_the_questions() -> None:
    three, eleven = png_size(render_levels(level_chart(3))), png_size(render_levels(level_chart(11)))
    assert three[0] == eleven[0] == 800
    assert eleven[1] == round(levels_height(level_chart(11)) * DPI)
    assert eleven[1] > three[1] + 7 * 0.4 * DPI  # at least 0.4 in per extra question


def test_render_picture_sends_each_chart_to_its_own_drawing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.charts, "render_levels", lambda chart: b"levels")
    monkeypatch.setattr(bot.charts, "render_trend", lambda chart: b"trend")
    assert render_picture(level_chart(2)) == b"levels"
    assert render_picture(trend_chart((("People", (2.0, 3.0, 3.5)),))) == b"trend"


def test_segments_are_shares_in_level_order_and_skipped_is_hatched() -> None:
    chart = LevelChart("t", "Pulse", ("Morale", "Pace"), LEVELS, ((2, 0, 1, 0, 0, 1), (0, 0, 0, 0, 4, 0)))
    _, axes = drawn(draw_levels, chart)
    bars = [bar for container in axes.containers for bar in container]
    assert [round(bar.get_width(), 3) for bar in bars] == [0.5, 0.25, 0.25, 1.0]
    assert [bar.get_y() < 0.5 for bar in bars] == [True, True, True, False]  # first question on top
    assert [bool(bar.get_hatch()) for bar in bars] == [False, False, True, False]
    assert [bar.get_x() for bar in bars[:3]] == [0, 0.5, 0.75]  # level order, left to right


def test_the_palette_goes_from_light_to_dark() -> None:
    for count in (4, 5):
        shades = [luminance(colour) for colour in level_colours(count)]
        assert shades == sorted(shades, reverse=True)
        assert min(b - a for a, b in zip(shades[1:], shades, strict=False)) > 0.08  # told apart by lightness
    assert SKIPPED_HATCH


def test_counts_are_written_where_they_fit_and_in_contrasting_ink() -> None:
    chart = LevelChart("t", "Pulse", ("Morale",), LEVELS, ((80, 0, 0, 0, 150, 1),))
    _, axes = drawn(draw_levels, chart)
    labels = {text.get_text(): text for text in axes.texts}
    assert set(labels) == {"80", "150"}  # 1 of 231 is too thin a segment to hold its number
    assert to_rgb(labels["80"].get_color()) == to_rgb(TEXT_COLOUR)  # on the lightest level
    assert to_rgb(labels["150"].get_color()) == (1.0, 1.0, 1.0)  # on the darkest


def test_a_question_nobody_answered_is_an_empty_row() -> None:
    chart = LevelChart("t", "Pulse", ("Morale", "Pace"), LEVELS, ((0,) * 6, (1, 1, 1, 1, 1, 1)))
    figure, axes = drawn(draw_levels, chart)
    bars = [bar for container in axes.containers for bar in container]
    assert all(bar.get_y() > 0.5 for bar in bars)  # all on the second row
    assert [tick.get_text() for tick in axes.get_yticklabels()] == ["Morale", "Pace"]
    assert png_size(render_levels(chart))[0] == 800


def test_the_level_legend_names_every_level_above_the_bars() -> None:
    figure, axes = drawn(draw_levels, level_chart(4))
    legend = axes.get_legend()
    assert legend is not None
    assert [text.get_text() for text in legend.get_texts()] == list(LEVELS)
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    box = legend.get_window_extent(renderer)
    assert box.y0 >= axes.bbox.y1 - 1
    assert box.x0 >= 0
    assert box.x1 <= figure.bbox.x1 + 1  # not cut off


def test_dollar_signs_in_level_and_trend_text_are_drawn_as_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """A campaign's title and a framework's names, levels, bands and round labels reach these charts:
    each is drawn as written, never as mathtext (which `$_$` would make fail)."""
    figures = kept_figures(monkeypatch)
    levels = LevelChart(
        "t",
        "Team $_$ pulse",
        (TRICKY, "Plain"),
        ("$_$ level", "skipped $"),
        ((1, 2), (0, 0)),
    )
    bands = (Band("Low $_$", 1.0, 2.9), Band("High $", 3.0, 5.0))
    trend = TrendChart(
        "t",
        "Desk $_$ check",
        ("Round $_$ 1", "Round 2"),
        (("Spend $5 to $10", (2.0, None)),),
        bands,
        1.0,
        5.0,
    )
    assert render_levels(levels).startswith(b"\x89PNG")
    assert render_trend(trend).startswith(b"\x89PNG")
    drawn_levels, drawn_trend = figures
    assert_drawn_as_text(drawn_levels, ["Team $_$ pulse", TRICKY, "$_$ level", "skipped $"])
    assert_drawn_as_text(
        drawn_trend, ["Desk $_$ check", "Round $_$ 1", "Spend $5 to $10", "Low $_$", "High $"]
    )


# The trend chart

SERIES = (
    ("Organizational self-awareness", (2.1, None, 3.0)),
    ("Citizen insights", (None, 2.4, 2.6)),
    ("Citizen engagement and communication", (3.5, 3.9, 4.4)),
    ("Citizen context and trust", (1.0, 1.5, 5.0)),
)


def test_a_trend_chart_is_an_800_wide_png() -> None:
    width, height = png_size(render_trend(trend_chart(SERIES)))
    assert width == 800
    assert 400 <= height <= 600


def test_withheld_rounds_leave_gaps_in_the_lines() -> None:
    _, axes = drawn(draw_trend, trend_chart(SERIES))
    lines = series_lines(axes)
    assert [line.get_label() for line in lines] == [name for name, _ in SERIES]
    first, second = (numpy.asarray(line.get_ydata(), dtype=float) for line in lines[:2])
    assert list(numpy.isnan(first)) == [False, True, False]
    assert list(numpy.isnan(second)) == [True, False, False]
    assert first[2] == 3.0


def test_series_differ_by_marker_and_line_style_not_colour_alone() -> None:
    _, axes = drawn(draw_trend, trend_chart(SERIES))
    lines = series_lines(axes)
    assert len({line.get_marker() for line in lines}) == len(SERIES)
    assert len({line.get_linestyle() for line in lines}) == len(SERIES)


def test_the_trend_legend_sits_below_the_plot_and_the_bands_are_named() -> None:
    figure, axes = drawn(draw_trend, trend_chart(SERIES))
    legend = axes.get_legend()
    assert legend is not None
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    box = legend.get_window_extent(renderer)
    assert box.y1 < axes.bbox.y0
    assert box.y0 >= 0
    assert box.x0 >= 0
    assert box.x1 <= figure.bbox.x1
    assert [tick.get_text() for tick in axes.get_xticklabels()] == ["Round 1", "Round 2", "Round 3"]
    assert {band.name for band in BANDS} <= {text.get_text() for text in axes.texts}
    assert axes.get_ylim() == (1.0, 5.0)


def test_a_single_round_draws_one_point_per_series() -> None:
    chart = trend_chart(tuple((name, values[:1]) for name, values in SERIES), rounds=1)
    _, axes = drawn(draw_trend, chart)
    low, high = axes.get_xlim()
    assert low < 0 < high
    assert png_size(render_trend(chart))[0] == 800


# The PDF report


@pytest.fixture(scope="module")
def pulse() -> Framework:
    found = FrameworkRegistry.from_directories([Path(__file__).parent / "data" / "frameworks"]).get(
        "pulse-test"
    )
    assert found is not None
    return found


PEOPLE: list[Answers] = [
    {"morale": 1, "pace": 2, "quality": 2},
    {"morale": 2, "pace": 3, "quality": None},
    {"morale": 4, "pace": 4, "quality": 3},
    {"morale": 3, "pace": 1, "quality": 2},
]


def histograms(framework: Framework, people: list[Answers]) -> dict[str, Histogram]:
    """People per (sum, number) of their answers, for each dimension and overall."""
    parts = {d.id: [q.id for q in d.questions] for d in framework.dimensions}
    parts[OVERALL] = [q.id for q in framework.questions]
    out: dict[str, Histogram] = {}
    for answers in people:
        for part, questions in parts.items():
            values = [v for q in questions if (v := answers.get(q)) is not None]
            if values:
                bins = out.setdefault(part, {})
                bins[(sum(values), len(values))] = bins.get((sum(values), len(values)), 0) + 1
    return out


def numbers(
    framework: Framework, people: list[Answers], min_group: int = 3, rounds: tuple[RoundNumbers, ...] = ()
) -> ReportNumbers:
    """What `storage.report_queries` would give for these answer sets (withheld under `min_group`)."""
    if len(people) < min_group:  # all of them finished, none published yet
        waiting = (Pending(None, "", len(people)),)
        return ReportNumbers(
            len(rounds) or 1, framework.version, min_group, 0, 0, withheld=True, pending=waiting
        )
    stages: Counter[str] = Counter()
    for answers in people:
        values = [v for v in answers.values() if v is not None]
        stage = stage_for(framework, rounded(Fraction(sum(values), len(values))))
        stages[stage.id if stage else ""] += 1
    levels = {q.id: dict(Counter(answers.get(q.id) for answers in people)) for q in framework.questions}
    return ReportNumbers(
        round=len(rounds) or 1,
        framework_version=framework.version,
        min_group=min_group,
        completed=len(people),
        other_versions=0,
        withheld=False,
        scores=histograms(framework, people),
        stages=dict(stages),
        levels=levels,
        trend=rounds,
    )


def report(framework: Framework, people: list[Answers], rounds: tuple[RoundNumbers, ...] = ()) -> GroupReport:
    return build_report(framework, "Team $_$ pulse", "K7WP3QXM", numbers(framework, people, rounds=rounds))


def pdf_text(document: bytes) -> str:
    """The text drawn on the PDF's pages, a line per text object, with spaces normalised."""
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", document, flags=re.DOTALL)
    lines = []
    for stream in streams:
        try:
            content = zlib.decompress(stream)
        except zlib.error:
            content = stream
        for block in re.findall(rb"BT(.*?)ET", content, flags=re.DOTALL):
            pieces = re.findall(rb"\(((?:\\.|[^\\)])*)\)", block)
            lines.append(b"".join(_unescape(piece) for piece in pieces).decode("latin-1"))
    return " ".join(" ".join(lines).split())


def _unescape(piece: bytes) -> bytes:
    """A PDF string's bytes: `\\(`, `\\)`, `\\\\` and octal escapes like `\\267` resolved."""

    def one(match: re.Match[bytes]) -> bytes:
        code = match.group(1)
        return bytes([int(code, 8)]) if code[:1].isdigit() else code

    return re.sub(rb"\\([0-7]{1,3}|.)", one, piece, flags=re.DOTALL)


LIGATURE = re.compile("ffi|ffl|ff|fi|fl")


def shows(text: str, sentence: str) -> bool:
    """Whether the PDF's text holds `sentence`. Letters the font joins into a ligature glyph ("fi")
    are drawn with a code of their own (below 32), which stands for them here."""
    parts = LIGATURE.split(" ".join(sentence.split()))
    pieces = LIGATURE.findall(" ".join(sentence.split()))
    pattern = "".join(
        re.escape(part) + (f"(?:{piece}|[\\x00-\\x1f])" if index < len(pieces) else "")
        for index, (part, piece) in enumerate(zip(parts, [*pieces, ""], strict=True))
    )
    return re.search(pattern, text) is not None


def page_count(document: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", document))


@pytest.fixture(scope="module")
def full(pulse: Framework) -> tuple[GroupReport, bytes]:
    earlier = RoundNumbers(1, 4, False, histograms(pulse, PEOPLE[1:] + PEOPLE[:1]))
    withheld = RoundNumbers(2, 2, True)
    shown = report(
        pulse, PEOPLE, rounds=(earlier, withheld, RoundNumbers(3, 4, False, histograms(pulse, PEOPLE)))
    )
    return shown, report_pdf(catalogue(), shown)


def test_the_pdf_says_what_the_chat_says(full: tuple[GroupReport, bytes]) -> None:
    shown, document = full
    assert document.startswith(b"%PDF-")
    text = pdf_text(document)
    assert shown.overall is not None
    assert shows(text, overall_line(catalogue(), shown, shown.overall))
    for line in dimension_lines(catalogue(), shown):
        name = line.split(":")[0]
        assert name in text
    assert "Team $_$ pulse: group report" in text  # the title, as text
    assert "Campaign K7WP-3QXM \u00b7 Round 3 \u00b7 Generated" in text
    for heading in ("Answers per question", "Road map: quick wins first", "Trend across rounds"):
        assert shows(text, heading)
    assert re.search(rb"/Title \(Team \$_\$ pulse: group report\)", document)


def test_the_charts_are_vectors_not_pictures(full: tuple[GroupReport, bytes]) -> None:
    _, document = full
    assert b"/Subtype /Image" not in document
    text = pdf_text(document)
    assert "Developing" in text  # the level chart's legend
    assert "Leading" in text
    assert "Round 1" in text  # the trend chart's axis


def test_a_withheld_report_says_only_how_many_more_are_needed(pulse: Framework) -> None:
    withheld = report(pulse, PEOPLE[:2])
    document = report_pdf(catalogue(), withheld)
    text = pdf_text(document)
    sentence = catalogue().text("report_withheld", min_group=3, completed=2, needed=1)
    assert shows(text, sentence)
    assert "Group stage" not in text
    assert "Answers per question" not in text
    assert page_count(document) == 1


def test_a_long_road_map_flows_onto_more_pages(pulse: Framework, full: tuple[GroupReport, bytes]) -> None:
    shown, document = full
    long_items = tuple(
        dataclasses.replace(item, text=f"Step {n}: " + "talk with the team about it " * 20)
        for n, item in enumerate(shown.roadmap * 6)
    )
    longer = report_pdf(catalogue(), dataclasses.replace(shown, roadmap=long_items))
    pages, text = page_count(longer), pdf_text(longer)
    assert pages > page_count(document)
    assert f"{pages} / {pages}" in text  # the footer counts the pages
    assert "Step 11:" in text  # nothing lost at a page break
