"""Keys that zoom, pan and inspect a screen's plots, which share one PlotView.

`+`/`-` zoom the x axis around the inspect cursor (else the middle), `[`/`]` or shift+←/→ pan, `0` shows the
whole window again; `i` turns the inspect cursor on or off and ←/→ move it one cell column, to the next row
of data, reading every curve's value there into the plot's border.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from textual.binding import Binding

from gantui.app.widgets.metric_plot import MetricPlot, PlotView, nearest_row

PLOT_BINDINGS = [
    Binding("plus", "zoom_in", "Zoom", key_display="+"),
    Binding("minus", "zoom_out", "Zoom out", key_display="-", show=False),
    Binding("0", "zoom_reset", "Unzoom", show=False),
    Binding("left_square_bracket,shift+left", "pan_earlier", "Pan ←", key_display="[", show=False),
    Binding("right_square_bracket,shift+right", "pan_later", "Pan →", key_display="]", show=False),
    Binding("i", "inspect", "Inspect"),
    # priority: a focused table must not take ←/→ while the cursor is on (check_action lets them through when off)
    Binding("left", "cursor_earlier", "Cursor ←", key_display="←", show=False, priority=True),
    Binding("right", "cursor_later", "Cursor →", key_display="→", show=False, priority=True),
]
PLOT_HELP = {
    "zoom_in": "zoom the plots' x axis in, around the inspect cursor (else the middle)",
    "zoom_out": "zoom out (back to the whole window at the widest)",
    "zoom_reset": "the whole window again",
    "pan_earlier": "pan a zoomed plot earlier (also shift+←)",
    "pan_later": "pan a zoomed plot later (also shift+→)",
    "inspect": "the inspect cursor: every curve's value, the step, epoch and wall time at it",
    "cursor_earlier": "move the inspect cursor one column earlier",
    "cursor_later": "move the inspect cursor one column later",
}
_CURSOR_ACTIONS = ("cursor_earlier", "cursor_later")


class PlotNavigation:
    """Mixed into a Screen before its base: the screen says which plot the keys measure and sets the view."""

    def lead_plot(self) -> MetricPlot:
        raise NotImplementedError

    def _set_view(self, view: PlotView) -> None:
        raise NotImplementedError

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in _CURSOR_ACTIONS:
            return self.lead_plot().view.cursor is not None
        return super().check_action(action, parameters)  # type: ignore[misc]

    def _navigate(self, change: Callable[[PlotView, tuple[float, float], np.ndarray], PlotView]) -> None:
        plot = self.lead_plot()
        shown, xs = plot.shown_range(), plot.x_values()
        if shown is None or not xs.size:
            self.notify("nothing plotted yet", severity="warning")  # type: ignore[attr-defined]
            return
        self._set_view(change(plot.view, shown, xs))

    def action_zoom_in(self) -> None:
        self._navigate(lambda view, shown, xs: view.zoomed(0.5, shown, _bounds(xs)))

    def action_zoom_out(self) -> None:
        self._navigate(lambda view, shown, xs: view.zoomed(2.0, shown, _bounds(xs)))

    def action_zoom_reset(self) -> None:
        self._navigate(lambda view, shown, xs: view.zoomed(np.inf, shown, _bounds(xs)))

    def action_pan_earlier(self) -> None:
        self._navigate(lambda view, shown, xs: view.panned(-0.25, _bounds(xs)))

    def action_pan_later(self) -> None:
        self._navigate(lambda view, shown, xs: view.panned(+0.25, _bounds(xs)))

    def action_inspect(self) -> None:
        def toggled(view: PlotView, shown: tuple[float, float], xs: np.ndarray) -> PlotView:
            x = None if view.cursor is not None else float(xs[nearest_row(xs, (shown[0] + shown[1]) / 2)])
            return view.inspecting(x, _bounds(xs))

        self._navigate(toggled)

    def _move_cursor(self, direction: int) -> None:
        width = self.lead_plot().column_width()

        def moved(view: PlotView, shown: tuple[float, float], xs: np.ndarray) -> PlotView:
            here = nearest_row(xs, view.cursor if view.cursor is not None else shown[0])
            row = nearest_row(xs, float(xs[here]) + direction * width)
            row = max(row, here + 1) if direction > 0 else min(row, here - 1)  # always to another row
            return view.inspecting(float(xs[min(max(row, 0), xs.size - 1)]), _bounds(xs))

        self._navigate(moved)

    def action_cursor_earlier(self) -> None:
        self._move_cursor(-1)

    def action_cursor_later(self) -> None:
        self._move_cursor(+1)


def _bounds(xs: np.ndarray) -> tuple[float, float]:
    return float(xs[0]), float(xs[-1])
