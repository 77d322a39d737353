"""A plot of metric series against step (plotext), with a reference line, EMA, log scale and a window.

Used twice on the dashboard: the losses (D and G, the loss's equilibrium line) and D(x) / D(G(z)) (the
0.5 line). The history can hold a million rows; each draw rasterises the min/max envelope of every braille
dot column with numpy (gantui/app/chart.py), so plotext only ever draws one point per terminal cell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from textual.app import RenderResult
from textual.markup import escape
from textual_plotext import PlotextPlot

from gantui.app.chart import Chart, Curve, build_chart, draw_chart
from gantui.app.format import count, duration, number
from gantui.app.palette import PlotColours, Rgb, markup, plot_colours
from gantui.engine.run.history import MetricsFrame, window

EMA_CHOICES = (None, 0.9, 0.99)  # what `e` cycles through: raw, then two smoothings
WINDOW_CHOICES = (None, 1_000, 10_000, 100_000)  # what `w` cycles through: all steps, then the last N


@dataclass(frozen=True)
class PlotView:
    """How to draw: EMA factor (None: raw values), log y axis, last N steps (None: all), the x range zoomed
    into (None: the window's) and the x of the inspect cursor (None: off)."""

    ema: float | None = None
    log_y: bool = False
    last_steps: int | None = None
    span: tuple[float, float] | None = None
    cursor: float | None = None

    def next_ema(self) -> PlotView:
        return replace(self, ema=_next(EMA_CHOICES, self.ema))

    def toggled_log(self) -> PlotView:
        return replace(self, log_y=not self.log_y)

    def next_window(self) -> PlotView:
        return replace(self, last_steps=_next(WINDOW_CHOICES, self.last_steps), span=None)

    def zoomed(self, factor: float, shown: tuple[float, float], data: tuple[float, float]) -> PlotView:
        """The x range `factor` times as wide (below 1: zoom in) around the cursor, else the middle of what is
        `shown`; back to the whole window once it would cover all the `data`."""
        low, high = shown
        centre = self.cursor if self.cursor is not None and low <= self.cursor <= high else (low + high) / 2
        width = max((high - low) * factor, MIN_SPAN)
        if width >= data[1] - data[0]:
            return replace(self, span=None)
        return replace(self, span=_inside(centre - width / 2, width, data))

    def panned(self, fraction: float, data: tuple[float, float]) -> PlotView:
        """The zoomed range moved by `fraction` of its width (negative: earlier), kept inside the data."""
        if self.span is None:
            return self
        low, high = self.span
        return replace(self, span=_inside(low + (high - low) * fraction, high - low, data))

    def inspecting(self, x: float | None, data: tuple[float, float]) -> PlotView:
        """The cursor at `x` (None: off); a zoomed range follows it."""
        span = self.span
        if x is not None and span is not None and not span[0] <= x <= span[1]:
            span = _inside(x - (span[1] - span[0]) / 2, span[1] - span[0], data)
        return replace(self, cursor=x, span=span)

    def describe(self) -> str:
        smoothing = f"EMA {self.ema:g}" if self.ema else "raw"
        scale = "log" if self.log_y else "linear"
        span = f"last {count(self.last_steps)} steps" if self.last_steps else "all steps"
        if self.span is not None:
            span = f"zoom {count(self.span[0])}–{count(self.span[1])}"
        return f"{smoothing} · {scale} · {span}"


MIN_SPAN = 4.0  # the narrowest x range a zoom reaches


def _inside(low: float, width: float, data: tuple[float, float]) -> tuple[float, float]:
    """[low, low + width] shifted to lie inside `data` (as far as it fits)."""
    low = max(min(low, data[1] - width), data[0])
    return low, low + width


class MetricPlot(PlotextPlot):
    """Series from a MetricsFrame against step, redrawn only when the frame, view or size changes."""

    DEFAULT_CSS = """
    MetricPlot {
        height: 1fr;
        min-height: 5;
    }
    """

    def __init__(self, series: tuple[tuple[str, str], ...], *, title: str = "",
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.series = series  # (metrics column, legend label)
        self.reference: tuple[float, str] | None = None
        self.frame = MetricsFrame()
        self.view = PlotView()
        self.cells_drawn = 0  # braille cells the last draw filled (tests: it never exceeds the pane)
        self._chart: Chart | None = None
        self.title = title
        self._drawn_key: tuple | None = None
        self._update_title()

    def set_reference(self, value: float | None, label: str) -> None:
        self.reference = None if value is None else (value, label)
        self._drawn_key = None
        self._update_title()
        self.replot()

    def on_mount(self) -> None:
        self._update_title()
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, _theme: object) -> None:  # the colours come from the theme
        self._update_title()
        self.replot()

    def colours(self) -> PlotColours:
        return plot_colours(self.app)

    def _update_title(self) -> None:
        """The legend lives in the border title, where it never hides a curve."""
        if not self.is_mounted:  # the colours come from the app's theme: on_mount sets the legend
            return
        colours = self.colours()
        entries = [f"[{markup(colours.curve(i))}]━[/] {escape(label)}" for i, (_, label) in enumerate(self.series)]
        if self.reference is not None:
            entries.append(f"[{markup(colours.reference)}]━[/] {escape(self.reference[1])}")
        heading = f"{escape(self.title)}  " if self.title else ""
        self.border_title = heading + "  ".join(entries)

    def show(self, frame: MetricsFrame) -> None:
        self.frame = frame
        self.replot()

    def set_view(self, view: PlotView) -> None:
        self.view = view
        self.replot()

    def on_resize(self) -> None:
        self.replot()

    def replot(self) -> None:
        """Rasterise what the view shows for the pane's size; the next render hands it to plotext."""
        key = (self.frame.version, self.frame.count, self.view, self.size, self.reference, self.app.theme)
        if key == self._drawn_key or not self.is_mounted:
            return
        self._drawn_key = key
        frame, view = self.frame, self.view
        steps = frame.step_column()
        self.border_subtitle = self.readout() or view.describe()
        rows = shown_rows(steps, view, view.last_steps)
        colours = self.colours()
        curves = []
        for index, (column, _label) in enumerate(self.series):
            y = frame.series(column, view.ema)[rows].astype(np.float64)
            curves.append(plotted_curve(steps[rows], y, colours.curve(index), view.log_y))
        references: tuple[tuple[float, Rgb], ...] = ()
        if self.reference is not None and (not view.log_y or self.reference[0] > 0):
            value = self.reference[0]
            references = ((math.log10(value) if view.log_y else value, colours.reference),)
        self.show_chart(build_chart(curves, self.size.width, self.size.height, log_y=view.log_y,
                                    references=references, xlim=view.span, cursor=self.cursor_line()))

    def cursor_line(self) -> tuple[float, Rgb] | None:
        return None if self.view.cursor is None else (self.view.cursor, self.colours().cursor)

    def x_values(self) -> np.ndarray:
        """The x of every row, ascending: where the inspect cursor can stand."""
        return self.frame.step_column()

    def shown_range(self) -> tuple[float, float] | None:
        """The x range drawn last (None: nothing drawn)."""
        return self._chart.xlim if self._chart is not None else None

    def column_width(self) -> float:
        """The x span of one cell column as drawn last."""
        return self._chart.x_cell if self._chart is not None else 1.0

    def readout(self) -> str | None:
        """Every curve's value at the inspect cursor's row, with its step, epoch and wall time."""
        steps = self.frame.step_column()
        if self.view.cursor is None or not steps.size:
            return None
        row = nearest_row(steps, self.view.cursor)
        values = "  ".join(f"{label} {number(_at(self.frame.series(column), row))}"
                           for column, label in self.series)
        epoch, seconds = _at(self.frame.series("epoch"), row), _at(self.frame.series("time"), row)
        return f"step {count(steps[row])} · epoch {count(epoch)} · {duration(seconds)} │ {values}"

    def show_chart(self, chart: Chart | None) -> None:
        self._chart = chart
        self.cells_drawn = chart.cells if chart else 0
        self.refresh()

    def render(self) -> RenderResult:
        draw_chart(self.plt, self._chart)
        return super().render()


def plotted_curve(x: np.ndarray, y: np.ndarray, colour: Rgb, log_y: bool) -> Curve:
    """The finite points of a series (positive ones, as log10, on a log axis)."""
    keep = np.isfinite(x) & np.isfinite(y) & ((y > 0) if log_y else True)
    if not keep.all():  # a copy only when something must go: a million rows are 8 MB a series
        x, y = x[keep], y[keep]
    return Curve(x, np.log10(y) if log_y else y, colour)


def shown_rows(x: np.ndarray, view: PlotView, last_steps: int | None) -> slice:
    """The rows a view draws: its zoomed range, else the last `last_steps` steps."""
    if view.span is None:
        return window(x, last_steps)
    return slice(int(np.searchsorted(x, view.span[0], "left")), int(np.searchsorted(x, view.span[1], "right")))


def nearest_row(x: np.ndarray, value: float) -> int:
    """The row of ascending `x` nearest to `value`."""
    index = int(np.searchsorted(x, value))
    if index == x.size or (index > 0 and value - x[index - 1] <= x[index] - value):
        return index - 1
    return index


def _at(column: np.ndarray, row: int) -> float:
    return float(column[row]) if row < column.size else math.nan


def _next(choices: tuple, current: object) -> object:
    index = choices.index(current) if current in choices else -1
    return choices[(index + 1) % len(choices)]
