"""A plot of metric series against step (plotext), with a reference line, EMA, log scale and a window.

Used twice on the dashboard: the losses (D and G, the loss's equilibrium line) and D(x) / D(G(z)) (the
0.5 line). The history can hold a million rows; each draw decimates to the pane's width (min and max per
column of braille dots), so drawing costs the same at any run length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from textual.app import RenderResult
from textual.markup import escape
from textual_plotext import PlotextPlot

from gantui.app.format import count, short_count
from gantui.app.history import MetricsFrame, decimate, window

_COLOURS = ("red", "cyan", "yellow", "green")


@dataclass(frozen=True)
class PlotView:
    """How to draw: EMA factor (None: raw values), log y axis, last N steps (None: all)."""

    ema: float | None = None
    log_y: bool = False
    last_steps: int | None = None

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
        self.points_drawn = 0  # how many points the last draw handed plotext (tests, the decimation promise)
        self._lines: list[tuple[list[float], list[float], str]] = []
        self._ticks: tuple[list[float], list[str]] | None = None
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
        """Decimate what the view shows to the pane's width; the next render draws it."""
        key = (self.frame.version, self.frame.count, self.view, self.size, self.reference)
        if key == self._drawn_key or not self.is_mounted:
            return
        self._drawn_key = key
        self.border_subtitle = self.view.describe()
        frame, view = self.frame, self.view
        steps = frame.step_column()
        rows = window(steps, view.last_steps)
        x = steps[rows]
        buckets = max(self.size.width - 8, 8) * 2  # braille: two dots per cell
        lines: list[tuple[list[float], list[float], str]] = []
        for index, (column, _label) in enumerate(self.series):
            y = frame.series(column, view.ema)[rows].astype(np.float64)
            keep = np.isfinite(y) & (y > 0) if view.log_y else np.isfinite(y)
            xs, ys = decimate(x[keep], y[keep], buckets)
            if xs.size:
                lines.append((xs.tolist(), ys.tolist(), _COLOURS[index]))
        self.points_drawn = sum(len(xs) for xs, _, _ in lines)
        if self.reference is not None and lines and (not view.log_y or self.reference[0] > 0):
            value = self.reference[0]
            lines.append(([float(x[0]), float(x[-1])], [value, value], "white"))
        self._lines = lines
        self._ticks = step_ticks(float(x[0]), float(x[-1]), max(2, min(6, self.size.width // 10))) if x.size \
            else None
        self.refresh()

    def render(self) -> RenderResult:
        # plotext rescales its stored data in place when it builds a log plot, so every build starts afresh
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.frame(False)
        for xs, ys, colour in self._lines:
            plt.plot(xs, ys, marker="braille", color=colour)
        if self._lines:
            values = [v for _, ys, _ in self._lines for v in ys]
            low, high = min(values), max(values)
            if self.view.log_y:
                plt.yscale("log")
            else:
                pad = (high - low) * 0.05 or 0.5  # a flat line still needs a y range
                plt.ylim(max(low - pad, 0.0) if low >= 0 else low - pad, high + pad)
        if self._ticks is not None:
            plt.xticks(*self._ticks)
        return super().render()


def step_ticks(first: float, last: float, count: int) -> tuple[list[float], list[str]]:
    """About `count` round step numbers between first and last, labelled briefly (1.5k, 2M)."""
    if last <= first:
        return [first], [short_count(int(first))]
    raw = (last - first) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    spacing = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.ceil(first / spacing) * spacing
    ticks = [float(t) for t in np.arange(start, last + spacing * 0.001, spacing)]
    return ticks, [short_count(int(t)) if t >= 1000 else f"{t:g}" for t in ticks]
