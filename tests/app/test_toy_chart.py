"""The toy chart takes its colours (and under NO_COLOR its markers) from palette.py, like every plot."""

from __future__ import annotations

import re

import pytest
from textual.app import App, ComposeResult

from gantui.app.palette import ON_DARK, ON_LIGHT, plot_colours
from gantui.app.widgets.toy_chart import GENERATED, REAL, ToyChart

PATTERN = [[0.9, 0.1, 0.8, 0.2], [0.95, 0.05, 0.9, 0.1]]
CURVE = [[2 * x * x + 1 for x in (i / 7 - 1 for i in range(15))]]


class _ChartApp(App):
    def compose(self) -> ComposeResult:
        yield ToyChart()


def _built(chart: ToyChart) -> str:
    """The chart as plotext builds it (ANSI escapes kept), at the widget's size."""
    chart.plt.plotsize(chart.size.width, chart.size.height)
    chart.plt._set_size(chart.size.width, chart.size.height)
    return chart.plt.build()


def _rgb_escapes(text: str) -> set[tuple[int, int, int]]:
    return {tuple(int(v) for v in match) for match in re.findall(r"38;2;(\d+);(\d+);(\d+)", text)}


@pytest.mark.parametrize("no_color", [False, True], ids=["colour", "NO_COLOR"])
async def test_the_toy_chart_uses_the_palette(monkeypatch, no_color: bool) -> None:
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    app = _ChartApp()
    async with app.run_test(size=(80, 20)) as pilot:
        chart = app.query_one(ToyChart)
        colours = plot_colours(app)
        generated, real = colours.curve(GENERATED), colours.curve(REAL)
        assert generated != real
        if not no_color:
            assert (generated, real) == (ON_DARK[GENERATED], ON_DARK[REAL])  # the 16-colour palette's own
        chart.show("pattern1010", PATTERN, PATTERN)
        assert {generated, real} <= _rgb_escapes(_built(chart))
        chart.show("quadratic", CURVE, CURVE)
        text = _built(chart)
        assert {generated, real} <= _rgb_escapes(text)
        if no_color:  # greys alone are not enough: the real curve has its own marker
            assert colours.marker(REAL) in re.sub(r"\x1b\[[0-9;]*m", "", text)
        app.theme = "textual-light"  # a theme change redraws in the light palette
        await pilot.pause()
        if not no_color:
            assert {ON_LIGHT[GENERATED], ON_LIGHT[REAL]} <= _rgb_escapes(_built(chart))
