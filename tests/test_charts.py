"""Result charts: PNG pictures of the scores against the stage bands, rendered off the event loop."""

from __future__ import annotations

import asyncio
import io
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

import bot.charts
from bot.chart_cache import ChartCache
from bot.charts import band_spans, render_chart
from dialogs.types import Band, Chart

BANDS = (
    Band("Passive", 1.0, 1.8),
    Band("Impersonal", 1.9, 2.6),
    Band("Targeted", 2.7, 3.4),
    Band("Personalized", 3.5, 4.2),
    Band("Empathetic", 4.3, 5.0),
)
LABELS = (
    "Organizational self-awareness",
    "Citizen insights",
    "Citizen engagement and communication",
    "Citizen context and trust",
)


def make_chart(scores: tuple[float | None, ...] = (3.5, None, 1.0, 5.0), token: str = "t-1") -> Chart:
    return Chart(token, "CX maturity", LABELS, scores, BANDS, 1.0, 5.0)


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def count_colour(data: bytes, colour: tuple[int, int, int]) -> int:
    """How many pixels of the PNG have exactly this RGB colour."""
    from matplotlib.image import imread

    rgb = (imread(io.BytesIO(data), format="png")[..., :3] * 255).round()
    return int((rgb == colour).all(axis=-1).sum())


def test_a_chart_is_an_800_by_450_png() -> None:
    assert png_size(render_chart(make_chart())) == (800, 450)


def test_the_scores_show_as_dark_bars() -> None:
    navy = (0x1F, 0x4E, 0x79)

    def bar_pixels(scores: tuple[float | None, ...]) -> int:
        return count_colour(render_chart(make_chart(scores)), navy)

    empty = bar_pixels((None, None, None, None))
    low = bar_pixels((1.5, 1.5, 1.5, 1.5))
    high = bar_pixels((4.5, 4.5, 4.5, 4.5))
    assert empty == 0
    assert 0 < low < high


def test_unscored_dimensions_are_labelled() -> None:
    with_label = render_chart(make_chart((None, None, None, None)), no_answers="no answers")
    without = render_chart(make_chart((None, None, None, None)), no_answers="")
    assert with_label != without


def test_the_bands_cover_the_whole_scale_without_gaps() -> None:
    spans = band_spans(make_chart())
    assert [band.name for band, _, _ in spans] == [band.name for band in BANDS]
    assert spans[0][1] == 1.0
    assert spans[-1][2] == 5.0
    assert all(end == following[1] for (_, _, end), following in zip(spans, spans[1:], strict=False))


def test_rendering_in_threads_gives_the_same_pictures() -> None:
    charts = [make_chart((score, 2.0, None, 4.0), token=str(score)) for score in (1.0, 2.5, 3.3, 4.8)]
    alone = [render_chart(chart) for chart in charts]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(render_chart, charts * 2))
    assert together == alone * 2


async def test_the_cache_renders_once_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[threading.Thread] = []

    def slow_render(chart: Chart, no_answers: str = "") -> bytes:
        threads.append(threading.current_thread())
        time.sleep(0.2)
        return chart.token.encode()

    monkeypatch.setattr(bot.charts, "render_chart", slow_render)
    cache = ChartCache(size=2)
    ticks = 0

    async def ticker() -> None:  # runs only if the loop stays free while rendering
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticking = asyncio.create_task(ticker())
    results = await asyncio.gather(*(cache.png(make_chart(token="a")) for _ in range(3)))
    ticking.cancel()
    assert results == [b"a", b"a", b"a"]
    assert len(threads) == 1  # three requests, one render
    assert threads[0] is not threading.main_thread()
    assert ticks >= 10
    assert await cache.png(make_chart(token="a")) == b"a"
    assert len(threads) == 1  # served from the cache


async def test_the_cache_is_bounded_and_keyed_by_the_whole_chart(monkeypatch: pytest.MonkeyPatch) -> None:
    rendered: list[Chart] = []

    def counting_render(chart: Chart, no_answers: str = "") -> bytes:
        rendered.append(chart)
        return b"png"

    monkeypatch.setattr(bot.charts, "render_chart", counting_render)
    cache = ChartCache(size=2)
    first, second, third = (make_chart(token=name) for name in "abc")
    for chart in (first, second, third, first):
        await cache.png(chart)
    assert rendered == [first, second, third, first]  # the oldest was dropped when the third came
    changed = make_chart((1.0, 1.0, 1.0, 1.0), token="a")
    await cache.png(changed)
    assert rendered[-1] == changed  # same token, other scores: drawn again


async def test_a_failed_render_is_not_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0

    def failing(chart: Chart, no_answers: str = "") -> bytes:
        nonlocal calls
        calls += 1
        raise ValueError("broken")

    monkeypatch.setattr(bot.charts, "render_chart", failing)
    cache = ChartCache()
    for _ in range(2):
        with pytest.raises(ValueError, match="broken"):
            await cache.png(make_chart())
    assert calls == 2


def kept_figures(monkeypatch: pytest.MonkeyPatch) -> list[Figure]:
    """The figures the `render_*` functions draw from now on, whole (title included)."""
    figures: list[Figure] = []
    real_png = bot.charts._png

    def keep_figure(figure: Figure, title: str) -> bytes:
        figures.append(figure)
        return real_png(figure, title)

    monkeypatch.setattr(bot.charts, "_png", keep_figure)
    return figures


def assert_drawn_as_text(figure: Figure, literals: list[str]) -> None:
    """Each literal is drawn as written (wrapping aside), and no text with a `$` is taken as mathtext."""
    with_dollars = [text for text in figure.findobj(Text) if "$" in text.get_text()]
    drawn = " ".join(text.get_text().replace("\n", " ") for text in with_dollars)
    for literal in literals:
        assert literal in drawn, literal
    assert not any(text.get_parse_math() for text in with_dollars)


def test_dollar_signs_in_framework_text_are_drawn_as_text(monkeypatch: pytest.MonkeyPatch) -> None:
    figures = kept_figures(monkeypatch)
    chart = Chart(
        token="t",
        title="Cost per $_$ citizen",
        labels=("Costs $5 to $10 million", "Plain"),
        scores=(2.5, None),
        bands=(Band("Low $", 1.0, 2.9), Band("High", 3.0, 5.0)),
        scale_min=1.0,
        scale_max=5.0,
    )
    png = render_chart(chart, no_answers="no $ answers")
    assert png.startswith(b"\x89PNG")
    [figure] = figures
    assert_drawn_as_text(figure, ["Cost per $_$ citizen", "Costs $5 to $10 million", "Low $", "no $ answers"])


def test_scores_are_drawn_with_the_readers_decimal_mark(monkeypatch: pytest.MonkeyPatch) -> None:
    figures = kept_figures(monkeypatch)
    chart = Chart(
        "t", "Maturidade em CX", LABELS, (3.5, None, 1.0, 4.2), BANDS, 1.0, 5.0, overall=3.1, decimal_mark=","
    )
    render_chart(chart)
    [figure] = figures
    drawn = {text.get_text() for text in figure.findobj(Text)}
    assert {"3,5", "1,0", "4,2", "Maturidade em CX: 3,1"} <= drawn, drawn
    assert not any(char.isdigit() and "." in text for text in drawn for char in text[:1]), drawn
