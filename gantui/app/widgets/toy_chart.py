"""Toy data as a chart: the 1010 pattern's four values as bars against the real range, or the generated
curve against y = 2x² + 1.

Colours (and, under NO_COLOR, markers) come from palette.py like every other plot's: generated is the
first curve's, real the second's, so they read in 16 colours, on a light theme and as greys; a theme
change redraws the chart.
"""

from __future__ import annotations

import numpy as np
from textual_plotext import PlotextPlot

from gantui.app.palette import plot_colours

GENERATED, REAL = 0, 1  # the palette's curve indices of the generated values and the real ones


class ToyChart(PlotextPlot):
    """Generated vectors (when there are any) over real ones, drawn to suit the dataset."""

    DEFAULT_CSS = """
    ToyChart {
        height: 1fr;
        min-height: 5;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.dataset = ""
        self.fake: list[list[float]] = []
        self.real: list[list[float]] = []

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, _theme: object) -> None:  # the colours come from the theme
        self.show(self.dataset, self.fake, self.real)

    def show(self, dataset: str, fake: list[list[float]] | None, real: list[list[float]] | None) -> None:
        self.dataset, self.fake, self.real = dataset, list(fake or []), list(real or [])
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.frame(False)
        if self.dataset == "quadratic" or _length(self.fake, self.real) == 15:
            self._curve()
        else:
            self._pattern()
        self.refresh()

    def _style(self, index: int) -> dict[str, object]:
        """plotext's color and marker of the palette's curve `index`."""
        colours = plot_colours(self.app)
        return {"color": colours.curve(index), "marker": colours.marker(index) or "braille"}

    def _pattern(self) -> None:
        """Each generated value as a bar, with the span of the real values beside it."""
        plt = self.plt
        length = _length(self.fake, self.real)
        positions = list(range(1, length + 1))
        if self.fake:
            generated = np.asarray(self.fake, dtype=np.float64).mean(axis=0)
            plt.bar([p - 0.15 for p in positions], generated.tolist(), label="generated",
                    color=self._style(GENERATED)["color"], width=0.3)
        if self.real:
            real = np.asarray(self.real, dtype=np.float64)
            for index, position in enumerate(positions):
                low, high = float(real[:, index].min()), float(real[:, index].max())
                plt.plot([position + 0.2] * 2, [low, max(high, low + 0.01)], **self._style(REAL),
                         label="real range" if index == 0 else None)
        plt.ylim(0, 1.05)
        plt.xticks(positions, [str(p) for p in positions])

    def _curve(self) -> None:
        plt = self.plt
        length = _length(self.fake, self.real) or 15
        x = np.linspace(-1.0, 1.0, length)
        plt.plot(x.tolist(), (2 * x**2 + 1).tolist(), label="y = 2x²+1", **self._style(REAL))
        for index, curve in enumerate(self.fake[:3]):
            plt.plot(x.tolist(), list(curve), label="generated" if index == 0 else None, **self._style(GENERATED))


def _length(fake: list[list[float]], real: list[list[float]]) -> int:
    for vectors in (fake, real):
        if vectors and vectors[0]:
            return len(vectors[0])
    return 0
