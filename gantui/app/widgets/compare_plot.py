"""One metric of several runs overlaid, one colour (and under NO_COLOR one marker) per run, the legend in
the border title.

The dashboard's MetricPlot with curves that each bring their own x (steps or wall time differ per run).
Each curve is windowed and smoothed with the shared EMA like the dashboard's, then averaged per dot column.
"""

from __future__ import annotations

import numpy as np
from textual.markup import escape

from gantui.app.chart import Curve, build_chart
from gantui.app.format import count, duration, number
from gantui.app.widgets.metric_plot import MetricPlot, nearest_row, plotted_curve, shown_rows
from gantui.engine.run.history import ema


class ComparePlot(MetricPlot):
    """Curves (label, x, y) of one metric; x is a step or a wall time in seconds."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        self.curves: list[tuple[str, np.ndarray, np.ndarray]] = []
        self.curves_key: object = None
        self.x_by_time = False
        self._smoothed: dict[tuple, np.ndarray] = {}
        super().__init__((), id=id, classes=classes)

    def show_curves(self, title: str, curves: list[tuple[str, np.ndarray, np.ndarray]], key: object,
                    x_by_time: bool) -> None:
        """`key` changes whenever the curves do (run versions, metric, x axis)."""
        if key == self.curves_key:
            return
        self.title, self.curves, self.curves_key, self.x_by_time = title, curves, key, x_by_time
        self._smoothed = {}
        self._drawn_key = None
        self._update_title()
        self.replot()

    def _update_title(self) -> None:
        if not self.is_mounted:
            return
        colours = self.colours()
        entries = [f"{colours.legend(i)} {escape(label)}" for i, (label, _, _) in enumerate(self.curves)]
        heading = f"{escape(self.title)}  " if self.title else ""
        self.border_title = heading + "  ".join(entries)

    def _series(self, index: int, y: np.ndarray) -> np.ndarray:
        if self.view.ema is None:
            return y
        key = (index, self.view.ema)
        if key not in self._smoothed:
            self._smoothed[key] = ema(y, self.view.ema)
        return self._smoothed[key]

    def replot(self) -> None:
        key = (self.curves_key, self.view, self.size, self.app.theme)
        if key == self._drawn_key or not self.is_mounted:
            return
        self._drawn_key = key
        axis = "wall time (s)" if self.x_by_time else "step"
        self.border_subtitle = self.readout() or f"{self.view.describe()} · x: {axis}"
        # One mean per braille dot column: many overlaid min/max bands are unreadable.
        buckets = max(self.size.width - 8, 8) * 2
        colours = self.colours()
        curves = []
        for index, (_, x, y) in enumerate(self.curves):
            y = self._series(index, y.astype(np.float64))
            rows = shown_rows(x, self.view, None if self.x_by_time else self.view.last_steps)
            curve = plotted_curve(x[rows], y[rows], colours.curve(index), self.view.log_y)
            curves.append(Curve(*bucket_means(curve.x, curve.y, buckets), curve.colour, colours.marker(index)))
        self.show_chart(build_chart(curves, self.size.width, self.size.height, log_y=self.view.log_y,
                                    xlim=self.view.span, cursor=self.cursor_line()))

    def x_values(self) -> np.ndarray:
        xs = [x for _, x, _ in self.curves if x.size]
        return np.unique(np.concatenate(xs)) if xs else np.zeros(0)

    def readout(self) -> str | None:
        """Each run's value at the cursor (its row nearest to it), by the run's number."""
        x = self.view.cursor
        if x is None or not self.curves:
            return None
        values = []
        for label, xs, ys in self.curves:
            value = number(float(ys[nearest_row(xs, x)])) if xs.size else "–"
            values.append(f"{label.split()[0]} {value}")
        where = duration(x) if self.x_by_time else f"step {count(x)}"
        return f"{where} │ {'  '.join(values)}"


def bucket_means(x: np.ndarray, y: np.ndarray, buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """At most `buckets` points: the mean x and y of each run of consecutive rows."""
    n = x.size
    if buckets < 1 or n <= buckets:
        return x, y
    starts = np.unique(np.linspace(0, n, buckets + 1).astype(np.int64)[:-1])
    sizes = np.diff(np.append(starts, n))
    return np.add.reduceat(x, starts) / sizes, np.add.reduceat(y, starts) / sizes
