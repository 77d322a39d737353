"""Curves rasterised into braille cells with numpy, drawn by plotext as one marker per cell.

plotext draws a line by interpolating every segment into dots in pure Python, so a min/max envelope of a
noisy million-step loss (tens of thousands of dots for a 100×30 pane) took over 100 ms a frame. Here the
envelope is computed per braille dot column straight from the sorted series (`np.searchsorted` finds each
column's rows, `reduceat` their min and max, `np.interp` where the polyline crosses a column's edges) and
packed into braille characters; plotext keeps doing what it is good at — axes, ticks, labels, colours —
and receives at most one point per terminal cell, each with its own braille marker.

To put every cell exactly where plotext would, the chart fixes plotext's layout: limits and both tick sets
are explicit, only the lower x axis and the left y axis are drawn, and there is no title or axis label, so
plotext's canvas is the pane less one column for the y axis and the y labels' width, and less two rows
(the x axis and its labels). tests/app/test_chart.py checks this against plotext's own canvas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gantui.app.format import short_count

Colour = str | tuple[int, int, int]  # a plotext colour name or RGB
DOTS_X, DOTS_Y = 2, 4  # a braille cell is 2 dots wide and 4 high
# Braille bit of the dot in sub-row k (0: bottom) and sub-column c of a cell (Unicode U+2800 block).
_BRAILLE_BITS = np.array([[0x40, 0x80], [0x04, 0x20], [0x02, 0x10], [0x01, 0x08]], dtype=np.int64)


@dataclass(frozen=True)
class Curve:
    """One series to draw: x ascending, y finite (already log10 for a log plot); `marker` None draws braille
    dots, a character draws that character in every cell the curve covers."""

    x: np.ndarray
    y: np.ndarray
    colour: Colour
    marker: str | None = None


@dataclass(frozen=True)
class Layer:
    """The occupied cells of one curve as plotext points, each with its braille marker."""

    xs: list[float]
    ys: list[float]
    markers: list[str]
    colour: Colour


@dataclass(frozen=True)
class Chart:
    """Everything one plotext build needs; `cells` counts the braille cells drawn (for tests)."""

    xlim: tuple[float, float]
    ylim: tuple[float, float]
    xticks: tuple[list[float], list[str]]
    yticks: tuple[list[float], list[str]]
    layers: list[Layer]  # the cursor, reference lines, then the curves
    cells: int
    x_cell: float = 1.0  # the x span of one cell column: how far the inspect cursor moves a key press


def build_chart(curves: list[Curve], width: int, height: int, *, log_y: bool = False,
                references: tuple[tuple[float, Colour], ...] = (), xlim: tuple[float, float] | None = None,
                cursor: tuple[float, Colour] | None = None) -> Chart | None:
    """Lay out and rasterise `curves` and horizontal `references` (y, colour) for a width × height pane,
    over `xlim` (default: the curves' x range), with a vertical `cursor` line (x, colour).

    None when nothing fits or there is nothing to draw."""
    curves = [c for c in curves if c.x.size]
    if not curves:
        return None
    x_first = min(float(c.x[0]) for c in curves) if xlim is None else xlim[0]
    x_last = max(float(c.x[-1]) for c in curves) if xlim is None else xlim[1]
    if x_last <= x_first:
        x_last = x_first + 1.0
    y_low = min(float(np.min(c.y)) for c in curves)
    y_high = max(float(np.max(c.y)) for c in curves)
    for value, _ in references:
        y_low, y_high = min(y_low, value), max(y_high, value)
    pad = (y_high - y_low) * 0.05 or 0.5  # a flat line still needs a y range
    y_bottom = y_low - pad if (log_y or y_low < 0) else max(y_low - pad, 0.0)
    y_top = y_high + pad
    canvas_rows = height - 2  # the x axis and its labels
    yticks = _apart(value_ticks(y_bottom, y_top, max(2, min(6, canvas_rows // 2 + 1)), log=log_y),
                    (y_bottom, y_top), canvas_rows)
    label_width = max((len(label) for label in yticks[1]), default=0)
    canvas_columns = width - 1 - label_width  # the y axis and its labels
    if canvas_columns < 2 or canvas_rows < 2:
        return None
    xticks = step_ticks(x_first, x_last, max(2, min(6, width // 10)))
    lines = [Curve(np.array([x_first, x_last]), np.array([value, value]), colour) for value, colour in references]
    # reference lines first: where a curve crosses one, the curve's cell is drawn over it
    layers = [_layer(c, (x_first, x_last), (y_bottom, y_top), canvas_columns, canvas_rows) for c in lines + curves]
    x_cell = (x_last - x_first) / (canvas_columns - 1)
    if cursor is not None and x_first <= cursor[0] <= x_last:  # under everything: a curve crossing it shows
        column_x = x_first + round((cursor[0] - x_first) / x_cell) * x_cell
        y_cell = (y_top - y_bottom) / (canvas_rows - 1)
        ys = [y_bottom + row * y_cell for row in range(canvas_rows)]
        layers.insert(0, Layer([column_x] * canvas_rows, ys, ["│"] * canvas_rows, cursor[1]))
    return Chart((x_first, x_last), (y_bottom, y_top), xticks, yticks, layers,
                 sum(len(layer.xs) for layer in layers), x_cell)


def draw_chart(plt, chart: Chart | None) -> None:
    """Set up a cleared plotext figure (textual-plotext's `plt` or the plotext module) to draw `chart`."""
    plt.clear_data()
    plt.clear_figure()
    plt.xaxes(True, False)
    plt.yaxes(True, False)
    if chart is None:
        return
    plt.xlim(*chart.xlim)
    plt.ylim(*chart.ylim)
    plt.xticks(*chart.xticks)
    plt.yticks(*chart.yticks)
    for layer in chart.layers:
        if layer.xs:
            plt.scatter(layer.xs, layer.ys, marker=layer.markers, color=layer.colour)


# ---- rasterising -------------------------------------------------------------------------------------------
def _layer(curve: Curve, xlim: tuple[float, float], ylim: tuple[float, float], columns: int, rows: int) -> Layer:
    """The braille cells `curve` covers on a canvas of columns × rows cells spanning xlim × ylim."""
    # plotext puts value v in cell floor(0.5 + (cells-1)·(v-lo)/(hi-lo)): cell j spans [j-½, j+½] cell widths
    # from lo, so its two dot columns span [j-½, j] and [j, j+½], and its four dot rows quarters of that.
    x_cell = (xlim[1] - xlim[0]) / (columns - 1)
    y_cell = (ylim[1] - ylim[0]) / (rows - 1)
    edges = xlim[0] + (np.arange(columns * DOTS_X + 1) - 1) / DOTS_X * x_cell
    low, high = column_envelope(curve.x, curve.y, edges)
    drawn = np.isfinite(low) & (high >= ylim[0] - y_cell / 2) & (low <= ylim[1] + y_cell / 2)
    dot_rows = rows * DOTS_Y
    first = np.clip(np.floor((low - ylim[0]) / y_cell * DOTS_Y + DOTS_Y / 2), 0, dot_rows - 1)
    last = np.clip(np.floor((high - ylim[0]) / y_cell * DOTS_Y + DOTS_Y / 2), 0, dot_rows - 1)
    row = np.arange(dot_rows)[:, None]
    mask = (row >= np.where(drawn, first, dot_rows)) & (row <= np.where(drawn, last, -1))
    # (dot rows, dot columns) → (cell row, sub-row, cell column, sub-column) → one braille code per cell
    codes = np.einsum("rkcs,ks->rc", mask.reshape(rows, DOTS_Y, columns, DOTS_X).astype(np.int64), _BRAILLE_BITS)
    cell_rows, cell_columns = np.nonzero(codes)
    xs = xlim[0] + cell_columns * x_cell
    ys = ylim[0] + cell_rows * y_cell
    if curve.marker is not None:
        markers = [curve.marker] * len(cell_rows)
    else:
        markers = [chr(0x2800 + int(code)) for code in codes[cell_rows, cell_columns]]
    return Layer(xs.tolist(), ys.tolist(), markers, curve.colour)


def column_envelope(x: np.ndarray, y: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Min and max of the polyline (x, y) within each column [edges[i], edges[i+1]); NaN where it is absent.

    x ascending. Work is one binary search per edge plus one C pass over the rows in view, so a million
    rows cost a few milliseconds at any pane width.
    """
    columns = edges.size - 1
    low = np.full(columns, np.nan)
    high = np.full(columns, np.nan)
    if x.size == 0:
        return low, high
    bounds = np.searchsorted(x, edges, side="left")
    start, stop = int(bounds[0]), int(bounds[-1])
    occupied = np.flatnonzero(bounds[1:] > bounds[:-1])
    if occupied.size:  # the rows inside each column: reduceat over the columns' first rows
        rows_in_view = y[start:stop]
        starts = bounds[occupied] - start
        low[occupied] = np.minimum.reduceat(rows_in_view, starts)
        high[occupied] = np.maximum.reduceat(rows_in_view, starts)
    # where the line crosses each edge between the first and last point
    crossing = np.interp(edges, x, y)
    crossing[edges > x[-1]] = np.nan
    left, right = crossing[:-1].copy(), crossing[1:].copy()
    left[edges[:-1] < x[0]] = np.nan
    right[edges[1:] <= x[0]] = np.nan  # a line that starts on an edge starts in the column after it
    return np.fmin(np.fmin(low, left), right), np.fmax(np.fmax(high, left), right)


# ---- ticks ---------------------------------------------------------------------------------------------------
def _apart(ticks: tuple[list[float], list[str]], lim: tuple[float, float], rows: int) -> tuple[list[float], list[str]]:
    """The ticks that land on rows of their own (a blank row between labels where that leaves two), bottom up:
    plotext would write two labels that share a row over each other."""
    row_of = [math.floor(round(0.5 + (rows - 1) * (t - lim[0]) / (lim[1] - lim[0]), 8)) for t in ticks[0]]
    for gap in (2, 1):
        kept: list[int] = []
        for index, row in enumerate(row_of):
            if not kept or row - row_of[kept[-1]] >= gap:
                kept.append(index)
        if len(kept) >= 2 or gap == 1:
            return [ticks[0][i] for i in kept], [ticks[1][i] for i in kept]
    raise AssertionError("unreachable")


def _nice_spacing(span: float, count: int) -> float:
    raw = span / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def step_ticks(first: float, last: float, count: int) -> tuple[list[float], list[str]]:
    """About `count` round step numbers between first and last, labelled briefly (1.5k, 2M)."""
    if last <= first:
        return [first], [short_count(int(first))]
    spacing = _nice_spacing(last - first, count)
    start = math.ceil(first / spacing) * spacing
    ticks = [float(t) for t in np.arange(start, last + spacing * 0.001, spacing) if t <= last]
    return ticks, [short_count(int(t)) if t >= 1000 else f"{t:g}" for t in ticks]


def value_ticks(low: float, high: float, count: int, *, log: bool = False) -> tuple[list[float], list[str]]:
    """About `count` round values in [low, high], at least two. On a log axis low and high are log10 and
    the ticks too: whole decades when the range spans one, else round values placed at their log10."""
    if log and high - low < 1:
        values, labels = value_ticks(10 ** low, 10 ** high, count)
        return [math.log10(v) for v in values], labels
    for wanted in range(count, count + 8):  # a short pane asks for few ticks; finer spacing until two fit
        spacing = _nice_spacing(high - low, wanted)
        if log:  # whole decades: 0.01, 0.1, 1, 10
            spacing = float(max(1, round(spacing)))
        start = math.ceil(low / spacing - 1e-9) * spacing
        ticks = [float(t) for t in np.arange(start, high + spacing * 1e-6, spacing) if low <= t <= high]
        if len(ticks) >= 2:
            break
    if log:
        return ticks, [f"{10 ** t:.3g}" for t in ticks]
    decimals = max(0, -math.floor(math.log10(spacing) + 1e-9))
    return ticks, [f"{round(t, decimals) or 0.0:.{decimals}f}" for t in ticks]  # never "-0.0"
