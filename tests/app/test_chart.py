"""The braille rasteriser behind the plots: exact envelopes, cells where plotext puts them, sane ticks."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from textual_plotext.plot import Plot

from gantui.app.chart import Curve, build_chart, column_envelope, draw_chart, value_ticks

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _built_lines(chart, width: int, height: int) -> list[str]:
    plot = Plot()
    draw_chart(plot, chart)
    plot.plotsize(width, height)
    plot._set_size(width, height)  # as textual-plotext's PlotextPlot.render does
    return _ANSI.sub("", plot.build()).rstrip("\n").split("\n")


@pytest.mark.parametrize("size", [(100, 30), (40, 8), (23, 5), (161, 47)])
def test_every_cell_lands_where_it_was_rasterised(size: tuple[int, int]) -> None:
    width, height = size
    x = np.arange(5000, dtype=float)
    y = np.sin(x / 300) * 3 + 10
    chart = build_chart([Curve(x, y, "red")], width, height)
    assert chart is not None and chart.cells > 0
    lines = _built_lines(chart, width, height)
    assert len(lines) == height and all(len(line) == width for line in lines)
    label_width = max(len(label) for label in chart.yticks[1])
    columns, rows = width - 1 - label_width, height - 2
    (x0, x1), (y0, y1) = chart.xlim, chart.ylim
    layer = chart.layers[0]
    for xs, ys, marker in zip(layer.xs, layer.ys, layer.markers, strict=True):
        column = round((xs - x0) / (x1 - x0) * (columns - 1))
        row = round((ys - y0) / (y1 - y0) * (rows - 1))
        assert lines[height - 3 - row][label_width + 1 + column] == marker  # rows count up from the x axis
    braille = sum(1 for line in lines for ch in line if 0x2800 < ord(ch) <= 0x28FF)
    assert braille == chart.cells  # nothing else drew braille, nothing was lost


def test_envelope_keeps_a_single_spike_among_a_million_rows() -> None:
    x = np.arange(1_000_000, dtype=float)
    y = np.zeros_like(x)
    y[123_456], y[654_321] = 5.0, -7.0
    edges = np.linspace(0, 1_000_000, 201)
    low, high = column_envelope(x, y, edges)
    assert np.nanmax(high) == 5.0 and np.nanmin(low) == -7.0
    spike_column = int(np.searchsorted(edges, 123_456, side="right")) - 1
    assert high[spike_column] == 5.0 and high[spike_column + 5] == 0.0


def test_envelope_draws_the_line_through_columns_without_points() -> None:
    x = np.array([0.0, 10.0])
    y = np.array([0.0, 10.0])
    edges = np.linspace(-5, 15, 21)  # 20 columns one unit wide, column k is [k-5, k-4)
    low, high = column_envelope(x, y, edges)
    assert np.isnan(low[:5]).all() and np.isnan(high[16:]).all()  # no line outside the data
    assert low[15] == high[15] == 10.0  # the last point, on column 15's left edge
    for column in range(5, 15):  # inside: the segment's span within each column
        assert low[column] == pytest.approx(column - 5) and high[column] == pytest.approx(column - 4)


def test_a_log_chart_labels_values_and_a_flat_series_still_draws() -> None:
    x = np.arange(100, dtype=float)
    chart = build_chart([Curve(x, np.log10(np.geomspace(0.01, 100, 100)), "red")], 60, 20, log_y=True)
    assert chart is not None
    assert {"0.01", "1", "100"} <= set(chart.yticks[1])
    flat = build_chart([Curve(x, np.full(100, 0.5), "cyan")], 60, 20)
    assert flat is not None and flat.ylim[0] < 0.5 < flat.ylim[1] and flat.cells >= 29


def test_too_small_or_empty_draws_nothing() -> None:
    x = np.arange(10, dtype=float)
    assert build_chart([Curve(x, x, "red")], 6, 3) is None
    assert build_chart([Curve(x[:0], x[:0], "red")], 80, 20) is None


@pytest.mark.parametrize("low, high", [(-0.31, 0.42), (0.0, 1.0), (0.6893, 0.6951), (-120.0, 3e4)])
def test_value_ticks_are_round_inside_and_never_negative_zero(low: float, high: float) -> None:
    ticks, labels = value_ticks(low, high, 5)
    assert 2 <= len(ticks) <= 7
    assert all(low <= t <= high for t in ticks)
    assert not any(label.startswith("-") and float(label) == 0 for label in labels)
    assert len(set(labels)) == len(labels)  # labels tell the ticks apart


def test_log_ticks_within_a_decade_are_round_values() -> None:
    ticks, labels = value_ticks(math.log10(0.25), math.log10(1.9), 5, log=True)
    assert labels == ["0.5", "1.0", "1.5"]
    assert all(math.log10(0.25) <= t <= math.log10(1.9) for t in ticks)
    assert [float(label) for label in labels] == pytest.approx([10 ** t for t in ticks])


@pytest.mark.parametrize("height", [5, 6, 7, 9, 12, 30])
@pytest.mark.parametrize("low, high", [(0.28, 1.89), (0.2, 2.0), (-3.0, 40.0)])
def test_y_labels_never_share_a_row(height: int, low: float, high: float) -> None:
    x = np.arange(60, dtype=float)
    chart = build_chart([Curve(x, np.linspace(low, high, 60), "red")], 42, height)
    assert chart is not None and chart.yticks[0]
    rows = height - 2
    (low, high), ticks = chart.ylim, chart.yticks[0]
    placed = [math.floor(round(0.5 + (rows - 1) * (t - low) / (high - low), 8)) for t in ticks]
    assert len(set(placed)) == len(placed)
    lines = _built_lines(chart, 42, height)
    assert sum(line.split("┤")[0].strip() != "" for line in lines if "┤" in line) == len(ticks)
