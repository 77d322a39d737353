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
from gantui.app.format import count
from gantui.engine.run.history import MetricsFrame, window

_COLOURS = ("red", "cyan", "yellow", "green")


EMA_CHOICES = (None, 0.9, 0.99)  # what `e` cycles through: raw, then two smoothings
WINDOW_CHOICES = (None, 1_000, 10_000, 100_000)  # what `w` cycles through: all steps, then the last N


@dataclass(frozen=True)
class PlotView:
    """How to draw: EMA factor (None: raw values), log y axis, last N steps (None: all)."""

    ema: float | None = None
    log_y: bool = False
    last_steps: int | None = None

    def next_ema(self) -> PlotView:
        return replace(self, ema=_next(EMA_CHOICES, self.ema))

    def toggled_log(self) -> PlotView:
        return replace(self, log_y=not self.log_y)

    def next_window(self) -> PlotView:
        return replace(self, last_steps=_next(WINDOW_CHOICES, self.last_steps))

    def describe(self) -> str:
        smoothing = f"EMA {self.ema:g}" if self.ema else "raw"
        scale = "log" if self.log_y else "linear"
        span = f"last {count(self.last_steps)} steps" if self.last_steps else "all steps"
        return f"{smoothing} · {scale} · {span}"


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

    def _update_title(self) -> None:
        """The legend lives in the border title, where it never hides a curve."""
        entries = [f"[{_COLOURS[i]}]━[/] {escape(label)}" for i, (_, label) in enumerate(self.series)]
        if self.reference is not None:
            entries.append(f"[white]━[/] {escape(self.reference[1])}")
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
        key = (self.frame.version, self.frame.count, self.view, self.size, self.reference)
        if key == self._drawn_key or not self.is_mounted:
            return
        self._drawn_key = key
        self.border_subtitle = self.view.describe()
        frame, view = self.frame, self.view
        steps = frame.step_column()
        rows = window(steps, view.last_steps)
        curves = []
        for index, (column, _label) in enumerate(self.series):
            y = frame.series(column, view.ema)[rows].astype(np.float64)
            curves.append(plotted_curve(steps[rows], y, _COLOURS[index], view.log_y))
        references = ()
        if self.reference is not None and (not view.log_y or self.reference[0] > 0):
            value = self.reference[0]
            references = ((math.log10(value) if view.log_y else value, "white"),)
        self.show_chart(build_chart(curves, self.size.width, self.size.height, log_y=view.log_y,
                                    references=references))

    def show_chart(self, chart: Chart | None) -> None:
        self._chart = chart
        self.cells_drawn = chart.cells if chart else 0
        self.refresh()

    def render(self) -> RenderResult:
        draw_chart(self.plt, self._chart)
        return super().render()


def plotted_curve(x: np.ndarray, y: np.ndarray, colour: str, log_y: bool) -> Curve:
    """The finite points of a series (positive ones, as log10, on a log axis)."""
    keep = np.isfinite(x) & np.isfinite(y) & ((y > 0) if log_y else True)
    if not keep.all():  # a copy only when something must go: a million rows are 8 MB a series
        x, y = x[keep], y[keep]
    return Curve(x, np.log10(y) if log_y else y, colour)


def _next(choices: tuple, current: object) -> object:
    index = choices.index(current) if current in choices else -1
    return choices[(index + 1) % len(choices)]
