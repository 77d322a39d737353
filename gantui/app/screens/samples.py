"""The samples full-screen: one run's grid (or, zoomed, a few samples or one) with all the room there is.

`,` and `.` step through the snapshots as on the dashboard; leaving hands back the snapshot stepped to.
A remote run's earlier snapshot is fetched from its host in a worker; the screen says so meanwhile.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.widgets import Footer

from gantui.app.format import count
from gantui.app.screens.sample_stepping import SampleSteppingScreen
from gantui.app.widgets.sample_view import SampleView
from gantui.engine.places import place_of
from gantui.engine.run.layout import RunLayout


class SamplesScreen(SampleSteppingScreen):
    """A run's sample snapshots, full-screen."""

    BINDINGS = [
        Binding("z", "zoom", "Zoom"),
        Binding("comma", "earlier", "Earlier", key_display=","),
        Binding("full_stop", "later", "Later", key_display="."),
        Binding("escape", "back", "Back"),
        Binding("Z", "back", "Back", show=False),
        Binding("enter", "back", "Back", show=False),
    ]
    DEFAULT_CSS = """
    SamplesScreen SampleView { height: 1fr; border: round $primary; }
    """

    def __init__(self, path: Path, *, graphics: str, sample_step: int | None = None,
                 zoom: int | None = None, expected_count: int | None = None) -> None:
        super().__init__()
        self.run_layout = RunLayout(path)
        self.graphics = graphics
        self.sample_step = sample_step
        self.zoom = zoom
        self.expected_count = expected_count

    def compose(self) -> ComposeResult:
        yield SampleView(self.graphics, id="full-samples")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        view = self.query_one(SampleView)
        view.zoom, view.expected_count = self.zoom, self.expected_count
        self._show_samples()

    def all_sample_steps(self) -> tuple[int, ...]:
        return tuple(self.run_layout.sample_steps())

    def _show_samples(self) -> None:
        steps = self.all_sample_steps()
        shown = self.sample_step if self.sample_step is not None else (steps[-1] if steps else None)
        view = self.query_one(SampleView)
        place = place_of(self.run_layout.path)
        if place.host is None:
            view.show_file(place.picture(self.run_layout.path, self.sample_step))
        else:  # the host sends it (once: the mirror keeps it); never wait for it here
            view.show_message(f"fetching step {count(shown)} from {place.host}…")
            self._fetch(self.sample_step)
        where = f" ({steps.index(shown) + 1} of {len(steps)})" if shown in steps else ""
        view.border_title = f"{self.run_layout.path.name} · step {count(shown)}{where}" if shown is not None \
            else self.run_layout.path.name
        follow = "latest" if self.sample_step is None else "pinned"
        view.set_caption(f"{follow} · , earlier · . later · z zoom · esc back")

    @work(thread=True, exclusive=True, group="fetch-sample", exit_on_error=False)
    def _fetch(self, step: int | None) -> None:
        path = place_of(self.run_layout.path).picture(self.run_layout.path, step)
        self.app.call_from_thread(self._fetched, step, path)

    def _fetched(self, step: int | None, path: Path | None) -> None:
        if step == self.sample_step:  # else stepped on meanwhile: that one's fetch shows it
            with contextlib.suppress(NoMatches):  # left meanwhile
                self.query_one(SampleView).show_file(path)

    def action_zoom(self) -> None:
        self.query_one(SampleView).cycle_zoom()

    def action_back(self) -> None:
        self.dismiss(self.sample_step)
