"""Compare 2 to 8 runs: one metric overlaid, the latest sample grids side by side, a table of what differs.

A reader thread polls every run folder and posts `CompareLoaded` (newer replaces older), so live runs keep
updating. Keys switch the metric, the x axis (step or wall time) and the smoothing (shared with the
dashboards); `,` and `.` step every sample grid through time together.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey
from textual.worker import get_current_worker

from gantui.app.format import count, duration, number, short_count, size, world_mark
from gantui.app.messages import CompareLoaded
from gantui.app.palette import markup
from gantui.app.runview.compare_data import CompareReader, CompareRun
from gantui.app.screens.help import HelpScreen, key_lines
from gantui.app.screens.plot_keys import PLOT_BINDINGS, PLOT_HELP, PlotNavigation
from gantui.app.screens.sample_stepping import SampleSteppingScreen
from gantui.app.widgets.compare_plot import ComparePlot
from gantui.app.widgets.fitting_footer import FittingFooter
from gantui.app.widgets.metric_plot import PlotView
from gantui.app.widgets.sample_view import SampleView
from gantui.app.widgets.too_small import TooSmall
from gantui.engine.places import place_of
from gantui.engine.run.layout import undated_name

POLL_S = 1.0
MIN_SIZE = (60, 18)  # columns, rows below which the plot, grids and table are empty boxes
METRICS: tuple[tuple[str, str, float], ...] = (  # (column, label, divide by)
    ("loss_d", "loss D", 1.0), ("loss_g", "loss G", 1.0), ("d_real", "D(x)", 1.0), ("d_fake", "D(G(z))", 1.0),
    ("samples_per_s", "samples/s", 1.0), ("mem_allocated", "GPU memory allocated (GiB)", 2.0**30),
    ("rss", "process memory (GiB)", 2.0**30), ("fid", "FID", 1.0), ("kid", "KID", 1.0),
    ("coverage", "coverage", 1.0), ("diversity", "diversity", 1.0), ("fid_rand", "FID (random embedding)", 1.0),
    ("precision_rand", "precision (random embedding)", 1.0), ("recall_rand", "recall (random embedding)", 1.0),
    ("density_rand", "density (random embedding)", 1.0), ("coverage_rand", "coverage (random embedding)", 1.0),
)


def run_label(index: int, path: Path) -> str:
    """`2 mnist-dcgan28-wide`: the run's number in the legend and its folder name without the date."""
    name = undated_name(path.name)
    return f"{index + 1} {name[:28]}"


def _text(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return number(value, 4)
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    return str(value)


Row = tuple[str, Callable[[CompareRun], object], bool]  # (label, value of a run, is configuration)


def _peak(run: CompareRun) -> str:
    _, _, values = run.column("mem_peak")
    finite = values[np.isfinite(values)] if values.size else values
    return size(float(finite.max())) if finite.size else "–"


def _best(name: str) -> Callable[[CompareRun], object]:
    def best(run: CompareRun) -> object:
        _, _, values = run.column(name)
        finite = values[np.isfinite(values)] if values.size else values
        return float(finite.min()) if finite.size else None
    return best


def _length(run: CompareRun) -> str:
    steps, epochs = run.config.get("steps"), run.config.get("epochs")
    return f"{count(steps)} steps" if steps else f"{count(epochs)} epochs" if epochs else "–"


def _device(run: CompareRun) -> str | None:
    """The run's device, with `×N` for a run of N processes."""
    device = run.status.get("device") or run.config.get("device")
    mark = world_mark(run.world_size)
    return f"{device} {mark}" if mark and device else device


TABLE_ROWS: tuple[Row, ...] = (
    ("name", lambda run: run.config.get("name"), True),
    ("dataset", lambda run: run.config.get("dataset"), True),
    ("arch", lambda run: run.config.get("arch"), True),
    ("loss", lambda run: run.config.get("loss"), True),
    ("optimizer", lambda run: run.config.get("optimizer"), True),
    ("lr", lambda run: run.config.get("lr"), True),
    ("betas", lambda run: run.config.get("betas"), True),
    ("batch size", lambda run: run.config.get("batch_size"), True),
    ("latent dim", lambda run: run.config.get("latent_dim"), True),
    ("seed", lambda run: run.config.get("seed"), True),
    ("length", _length, True),
    ("sample interval", lambda run: run.config.get("sample_every"), True),
    ("device", _device, True),
    ("params G", lambda run: short_count(run.status.get("params_g")), False),
    ("params D", lambda run: short_count(run.status.get("params_d")), False),
    ("state", lambda run: run.state, False),
    ("step", lambda run: f"{count(run.status.get('step'))}/{count(run.status.get('total_steps'))}", False),
    ("samples/s", lambda run: count(run.last("samples_per_s")), False),
    ("peak memory", _peak, False),
    ("wall time", lambda run: duration(run.last("time")), False),
    ("final loss D", lambda run: run.last("loss_d"), False),
    ("final loss G", lambda run: run.last("loss_g"), False),
    ("final D(x)", lambda run: run.last("d_real"), False),
    ("final D(G(z))", lambda run: run.last("d_fake"), False),
    ("best FID", _best("fid"), False),
    ("last coverage", lambda run: run.last("coverage"), False),
    ("last diversity", lambda run: run.last("diversity"), False),
    ("best FID rand", _best("fid_rand"), False),
    ("last precision rand", lambda run: run.last("precision_rand"), False),
    ("last recall rand", lambda run: run.last("recall_rand"), False),
    ("last coverage rand", lambda run: run.last("coverage_rand"), False),
)


class CompareScreen(PlotNavigation, SampleSteppingScreen):
    """Curves, samples and a table of 2 to 8 runs."""

    ACTION_HELP = {
        "next_metric": "plot the next metric (loss D, loss G, D(x), D(G(z)), samples/s, memory, quality)",
        "previous_metric": "plot the previous metric",
        "toggle_x": "x axis: step or wall time",
        "cycle_ema": "smooth the curves: raw, EMA 0.9, EMA 0.99 (shared with the dashboards)",
        "toggle_log": "log scale for the y axis",
        "cycle_window": "all steps, or only the last 1k / 10k / 100k",
        "earlier": "every sample grid one snapshot earlier",
        "later": "every sample grid one snapshot later (the last follows new ones)",
        "help": "this list",
        "back": "back",
        **PLOT_HELP,
    }
    BINDINGS = [
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("m", "next_metric", "Metric"),
        Binding("M", "previous_metric", "Prev metric", show=False),
        Binding("t", "toggle_x", "Step/time"),
        Binding("e", "cycle_ema", "EMA"),
        Binding("l", "toggle_log", "Log y"),
        Binding("w", "cycle_window", "Window"),
        Binding("comma", "earlier", "Earlier", key_display=","),
        Binding("full_stop", "later", "Later", key_display="."),
        Binding("escape", "back", "Back"),
        Binding("q", "app.quit", "Quit", show=False),
        *PLOT_BINDINGS,
    ]

    def __init__(self, paths: list[Path], *, graphics: str = "ascii", poll_interval: float = POLL_S,
                 reader: CompareReader | None = None) -> None:
        super().__init__()
        self.reader = reader  # one already reading (`gantui compare` starts it with the app)
        self.paths = [Path(p) for p in paths]
        self.labels = [run_label(index, path) for index, path in enumerate(self.paths)]
        self.graphics = graphics
        self.poll_interval = max(poll_interval, 0.05)
        self.runs: tuple[CompareRun, ...] = ()
        self.problems: tuple[str | None, ...] = ()  # per run: its remote host not answering
        self.metric = 0
        self.x_by_time = False
        self.loads_seen = 0
        self._wake = threading.Event()
        self._shown_samples: list[object] = [None] * len(self.paths)

    def compose(self) -> ComposeResult:
        yield TooSmall("compare screen", MIN_SIZE)
        yield ComparePlot(id="compare-plot", classes="pane")
        with Horizontal(id="compare-samples"):
            for index, label in enumerate(self.labels):
                yield SampleView(self.graphics, title=label, id=f"compare-sample-{index}", classes="pane")
        yield DataTable(id="compare-table", cursor_type="none", zebra_stripes=True, fixed_columns=1)
        yield FittingFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        # the labels' column has a set width: sized from its cells, a rebuild could catch it at zero width
        table.add_column("", key="what", width=max(len(label) for label, _, _ in TABLE_ROWS) + 2)
        for index, label in enumerate(self.labels):
            table.add_column(self._header(index, label), key=str(index))
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)
        ema = getattr(self.app, "ema", None)
        self.query_one(ComparePlot).set_view(PlotView(ema))
        self.query_one(TooSmall).fit(self.size)
        self._read()

    def on_resize(self) -> None:
        self.query_one(TooSmall).fit(self.size)

    def _header(self, index: int, label: str) -> Text:
        """A run's column header in its curve's colour, after its marker where the curves have markers."""
        colours = self.query_one(ComparePlot).colours()
        marker = colours.marker(index)
        return Text(f"{marker} {label}" if marker else label, style=f"bold {markup(colours.curve(index))}")

    def _theme_changed(self, _theme: object) -> None:  # the headers' colours come from the theme, as the plot's
        table = self.query_one(DataTable)
        for index, label in enumerate(self.labels):
            table.columns[ColumnKey(str(index))].label = self._header(index, label)
        table.notify_style_update()  # drops the table's rendered-cell caches, which hold the old headers

    def on_screen_resume(self) -> None:  # the smoothing may have changed on a dashboard meanwhile
        plot = self.query_one(ComparePlot)
        ema = getattr(self.app, "ema", None)
        if plot.view.ema != ema:
            plot.set_view(replace(plot.view, ema=ema))

    # ---- reading (a thread; it only posts messages) ----------------------------------------------------------
    @work(thread=True, exclusive=True, group="compare-read", exit_on_error=False)
    def _read(self) -> None:
        worker = get_current_worker()
        reader = self.reader or CompareReader(self.paths)
        complained = False
        shown_problems: tuple[str | None, ...] = ()
        while not worker.is_cancelled:
            try:
                runs = reader.poll()
            except Exception as error:  # a file in a state nobody foresaw: say so once, keep polling
                runs = None
                if not complained:
                    complained = True
                    self.app.call_from_thread(self.notify, f"reading runs failed: {error}", severity="warning")
            problems = reader.problems()
            if runs is not None or problems != shown_problems:
                shown_problems = problems
                self.post_message(CompareLoaded(runs if runs is not None else self.runs, problems))
            self._wake.wait(self.poll_interval)
            self._wake.clear()

    def on_unmount(self) -> None:  # the reader is cancelled: wake it so that it ends now
        self._wake.set()

    @on(CompareLoaded)
    def _loaded(self, message: CompareLoaded) -> None:
        self.runs = message.runs
        self.problems = message.problems
        self.loads_seen += 1
        self._plot()
        self._show_samples()
        self._fill_table()

    # ---- the plot ---------------------------------------------------------------------------------------------
    def _plot(self) -> None:
        column, label, scale = METRICS[self.metric]
        curves = []
        for run_index, run in enumerate(self.runs):
            steps, times, values = run.column(column)
            x = times if self.x_by_time else steps
            curves.append((self.labels[run_index], x, values / scale if scale != 1.0 else values))
        key = (tuple(run.version for run in self.runs), self.metric, self.x_by_time)
        missing = all(values.size == 0 for _, _, values in curves)
        title = f"{label} (no run has it)" if missing else label
        self.query_one(ComparePlot).show_curves(title, curves, key, self.x_by_time)

    def _switch_metric(self, offset: int) -> None:
        self.metric = (self.metric + offset) % len(METRICS)
        self._plot()

    def action_next_metric(self) -> None:
        self._switch_metric(+1)

    def action_previous_metric(self) -> None:
        self._switch_metric(-1)

    def action_toggle_x(self) -> None:
        self.x_by_time = not self.x_by_time
        plot = self.query_one(ComparePlot)
        plot.set_view(replace(plot.view, span=None, cursor=None))  # steps and seconds do not translate
        self._plot()

    def _set_view(self, view: PlotView) -> None:
        self.app.ema = view.ema  # type: ignore[attr-defined]
        self.query_one(ComparePlot).set_view(view)

    def lead_plot(self) -> ComparePlot:
        return self.query_one(ComparePlot)

    def action_cycle_ema(self) -> None:
        self._set_view(self.query_one(ComparePlot).view.next_ema())

    def action_toggle_log(self) -> None:
        self._set_view(self.query_one(ComparePlot).view.toggled_log())

    def action_cycle_window(self) -> None:
        self._set_view(self.query_one(ComparePlot).view.next_window())

    # ---- samples, stepping through time together ---------------------------------------------------------------
    def all_sample_steps(self) -> list[int]:
        return sorted({step for run in self.runs for step in run.sample_steps})

    def _show_samples(self) -> None:
        """Each run's grid at `sample_step` (its latest at or before it), or each run's latest."""
        for index, run in enumerate(self.runs):
            view = self.query_one(f"#compare-sample-{index}", SampleView)
            if self.sample_step is None:
                step = run.sample_steps[-1] if run.sample_steps else None
                path = place_of(run.path).picture(run.path)
            else:
                earlier = [s for s in run.sample_steps if s <= self.sample_step]
                step = earlier[-1] if earlier else None
                path = place_of(run.path).picture(run.path, step, wait=False) if step is not None else None
            problem = self.problems[index] if index < len(self.problems) else None
            key = (step, path, run.version if self.sample_step is None else 0, problem)
            if key == self._shown_samples[index]:
                continue
            self._shown_samples[index] = key
            view.expect_samples(run.config)
            view.show_file(path)
            view.set_dataset(str(run.config.get("dataset", "")))
            caption = f"step {count(step)}" if step is not None else "no samples"
            view.set_caption(f"{problem} · {caption}" if problem else caption)

    # ---- the table ---------------------------------------------------------------------------------------------
    def _fill_table(self) -> None:
        table = self.query_one(DataTable)
        scrolled = table.scroll_x
        table.clear()  # the rows are rebuilt with new values; where the reader had scrolled to stays put
        for label, value_of, is_config in TABLE_ROWS:
            values = [_text(value_of(run)) for run in self.runs]
            differs = len(set(values)) > 1
            style = ("bold reverse" if is_config else "bold") if differs else ""  # setups stand out most
            heading = Text(f"≠ {label}" if differs else f"  {label}", style="bold" if differs else "dim")
            table.add_row(heading, *[Text(value, style=style) for value in values], key=label)
        # DataTable may scroll its (hidden) cursor cell into view once the new widths are known: undo that
        table.call_after_refresh(table.scroll_to, x=scrolled, animate=False)

    def differing(self) -> list[str]:
        """The rows whose values differ between the runs (each marked ≠)."""
        return [label for label, value_of, _ in TABLE_ROWS if len({_text(value_of(run)) for run in self.runs}) > 1]

    # ---- the rest ------------------------------------------------------------------------------------------------
    def action_help(self) -> None:
        lines = key_lines(self.BINDINGS, self.ACTION_HELP)
        self.app.push_screen(HelpScreen("Compare keys", lines, "Runs: " + ", ".join(str(p) for p in self.paths)))

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.dismiss()

