"""The dashboard: one run, live or finished, read only from its run directory.

A follower thread polls the folder every POLL_S and posts `RunPolled` (newer replaces older); this screen
hands each pane the part it shows. Commands go through the run's handle: a RunControl for a run in this
process, control.json for any other run on this machine.
"""

from __future__ import annotations

import math
import threading
from dataclasses import replace
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static
from textual.worker import get_current_worker

from gantui.app.format import count
from gantui.app.graphics import next_mode
from gantui.app.launch import RunHandle, WatchedRun
from gantui.app.messages import RunPolled
from gantui.app.runview.follow import DashboardFollower, RunPoll
from gantui.app.screens.choice import ChoiceScreen
from gantui.app.screens.help import HelpScreen, key_lines
from gantui.app.screens.plot_keys import PLOT_BINDINGS, PLOT_HELP, PlotNavigation
from gantui.app.screens.sample_stepping import SampleSteppingScreen
from gantui.app.screens.samples import SamplesScreen
from gantui.app.widgets.device_pane import DevicePane
from gantui.app.widgets.events_pane import EventsPane
from gantui.app.widgets.fitting_footer import FittingFooter
from gantui.app.widgets.metric_plot import MetricPlot, PlotView
from gantui.app.widgets.progress_pane import ProgressPane
from gantui.app.widgets.quality_pane import QualityPane
from gantui.app.widgets.ranks_pane import RanksPane
from gantui.app.widgets.run_title import RunTitle
from gantui.app.widgets.sample_view import SampleView
from gantui.app.widgets.too_small import TooSmall
from gantui.engine.places import place_of
from gantui.engine.run.layout import RunLayout
from gantui.engine.run.state import LIVE_STATES, RunState

POLL_S = 0.5
PLOT_S = 1.0  # plots redraw at most this often while a run is live: a full plotext build costs ~15 ms
# Where the curves settle when D can no longer tell real from fake: gantui.engine.losses.equilibrium,
# repeated here so watching a run never imports torch (a test keeps the two equal).
# Per loss: (loss_d's line, its label, D(x) = D(G(z)) as a probability, loss_g's value; None: no single value).
EQUILIBRIUM: dict[str, tuple[float | None, str, float | None, float | None]] = {
    "bce": (math.log(2), "ln 2", 0.5, math.log(2)),
    "mse": (0.25, "0.25", 0.5, 0.25),
    "hinge": (1.0, "1", None, None),
    "wgan-gp": (0.0, "0", None, None),
}
COMPACT_BELOW = (110, 32)  # columns, rows under which the compact layout is the default
NARROW_BELOW = 72  # columns under which the samples column gives the plots more of the width
MIN_SIZE = (50, 16)  # columns, rows below which the panes are empty boxes: TooSmall says so instead
FAILED_STATES = (RunState.FAILED, RunState.DIVERGED, RunState.LOST)

HELP_NOTES = (
    "Everything shown comes from the run folder, so a run started elsewhere (a shell, nohup, another "
    "machine's synced folder) looks the same: `gantui watch RUN`.\n"
    "Pause, stop and snapshot reach a run in another process through control.json in its folder."
)


class DashboardScreen(PlotNavigation, SampleSteppingScreen):
    """Losses, D(x)/D(G(z)), progress, device, (ranks,) quality, samples and events of one run."""

    ACTION_HELP = {
        "pause_resume": "pause the run, or resume it when paused",
        "stop": "stop the run after writing a final checkpoint (asks first)",
        "snapshot": "write a sample grid now",
        "help": "this list",
        "quit_app": "quit; asks whether to leave a live run running or stop it",
        "cycle_ema": "smooth the curves: raw, EMA 0.9, EMA 0.99",
        "toggle_log": "log scale for the y axis",
        "cycle_window": "all steps, or only the last 1k / 10k / 100k",
        "cycle_graphics": "draw samples with sixel, kitty, half-cell blocks or ASCII",
        "zoom": "show fewer samples, larger: all that fit → 16 → 4 → 1",
        "full_screen": "the samples full-screen (z zooms, , and . step through the snapshots there)",
        "earlier": "the previous sample snapshot",
        "later": "the next sample snapshot (the last one follows new ones)",
        "toggle_compact": "compact or full layout",
        "show_path": "show the run folder's path and copy it to the clipboard",
        "back": "back to the launcher",
        "save_grid": "save the sample grid shown as a PNG (in the run folder's exports/) and say where",
        "explore": "the latent explorer on this run's generator (its last checkpoint)",
        **PLOT_HELP,
    }
    BINDINGS = [
        Binding("p", "pause_resume", "Pause/resume"),
        Binding("s", "stop", "Stop"),
        Binding("n", "snapshot", "Snapshot"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit_app", "Quit"),
        Binding("e", "cycle_ema", "EMA"),
        Binding("l", "toggle_log", "Log y"),
        Binding("w", "cycle_window", "Window"),
        Binding("g", "cycle_graphics", "Graphics"),
        Binding("z", "zoom", "Zoom"),
        Binding("Z", "full_screen", "Full screen", key_display="Z"),
        Binding("enter", "full_screen", "Full screen", show=False),
        Binding("comma", "earlier", "Earlier", key_display=","),
        Binding("full_stop", "later", "Later", key_display="."),
        Binding("v", "toggle_compact", "Compact"),
        Binding("o", "show_path", "Folder"),
        Binding("a", "save_grid", "Save PNG", show=False),
        Binding("x", "explore", "Explore", show=False),
        Binding("escape", "back", "Launcher", show=False),
        *PLOT_BINDINGS,
    ]

    def __init__(self, path: Path, handle: RunHandle | None = None, *, graphics: str = "ascii",
                 poll_interval: float = POLL_S, probe_host: bool = True, can_go_back: bool = False,
                 quiet: bool = False) -> None:
        super().__init__()
        self.quiet = quiet  # alarms notify without the terminal bell
        self.path = Path(path)
        self.handle: RunHandle = handle if handle is not None else WatchedRun(self.path)
        self.graphics = graphics
        self.poll_interval = poll_interval
        self.probe_host = probe_host
        self.can_go_back = can_go_back
        self.poll: RunPoll | None = None
        self.view = PlotView()
        self.compact_chosen: bool | None = None  # None: by terminal size
        self.polls_seen = 0
        self._wake = threading.Event()
        self._notified_failure = False
        self._alarms_told: set[str] = set()
        self._shown_sample: tuple | None = None
        self._config_applied = False
        self._plotted_version = -1

    # ---- layout -----------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield TooSmall("dashboard", MIN_SIZE)
        yield RunTitle(self.path.name, host=place_of(self.path).host, id="run-title")
        yield Static("", id="banner", markup=False)
        with Horizontal(id="panes"):
            with Vertical(id="left-column"):
                yield MetricPlot((("loss_d", "D"), ("loss_g", "G")), title="Losses", id="losses",
                                 classes="pane")
                yield MetricPlot((("d_real", "D(x)"), ("d_fake", "D(G(z))")), title="",
                                 id="d-outputs", classes="pane")
                yield ProgressPane(id="progress", classes="pane")
            with Vertical(id="right-column"):
                yield SampleView(self.graphics, id="samples", classes="pane")
                yield DevicePane(id="device", classes="pane")
                yield RanksPane(id="ranks", classes="pane")
                yield QualityPane(id="quality", classes="pane")
                yield EventsPane(id="events", classes="pane")
        yield FittingFooter()

    def on_mount(self) -> None:
        self.query_one("#banner").display = False
        self.query_one(RanksPane).display = False  # runs of several processes only
        if getattr(self.app, "ema", None) is not None:  # the smoothing chosen on another screen
            self._set_view(PlotView(self.app.ema))  # type: ignore[attr-defined]
        self._apply_layout()
        self.query_one("#d-outputs", MetricPlot).set_reference(0.5, "0.5")
        self.set_interval(PLOT_S, self._update_plots)
        self._follow()

    def on_resize(self) -> None:
        self._apply_layout()

    def _apply_layout(self) -> None:
        self.query_one(TooSmall).fit(self.size)
        small = self.size.width < COMPACT_BELOW[0] or self.size.height < COMPACT_BELOW[1]
        self.set_class(self.compact_chosen if self.compact_chosen is not None else small, "compact")
        self.set_class(self.size.width < NARROW_BELOW, "-narrow")

    # ---- following the run folder (a thread; it only posts messages) ------------------------------------
    @work(thread=True, exclusive=True, group="follow", exit_on_error=False)
    def _follow(self) -> None:
        worker = get_current_worker()
        follower = DashboardFollower(self.path, self.handle, probe_host=self.probe_host)
        complained = False
        try:
            while not worker.is_cancelled:
                try:
                    poll = follower.poll()
                except Exception as error:  # a file in a state nobody foresaw: say so once, keep following
                    poll = None
                    if not complained:
                        complained = True
                        self.app.call_from_thread(self.notify, f"reading the run folder failed: {error}",
                                                  severity="warning")
                if poll is not None:
                    self.post_message(RunPolled(poll))
                self._wake.wait(self.poll_interval)
                self._wake.clear()
        finally:
            follower.close()

    def poll_now(self) -> None:
        self._wake.set()

    @on(RunPolled)
    def _polled(self, message: RunPolled) -> None:
        poll, previous = message.poll, self.poll
        self.poll = poll
        self.polls_seen += 1
        if not self._config_applied and poll.config:
            self._config_applied = True
            loss_line, label, d_line, loss_g = EQUILIBRIUM.get(str(poll.config.get("loss")), (None, "", 0.5, None))
            self.query_one("#losses", MetricPlot).set_reference(loss_line, label)
            self.query_one("#d-outputs", MetricPlot).set_reference(d_line, "0.5")
            self.query_one(QualityPane).set_equilibrium(loss_line, loss_g, d_line)
            self.query_one(SampleView).set_dataset(str(poll.config.get("dataset", "")))
        self.query_one(RunTitle).show(poll)
        if previous is None or not poll.is_live:  # live plots follow on the plot timer
            self._update_plots()
        self.query_one(ProgressPane).show(poll)
        self.query_one(DevicePane).show(poll)
        ranks = self.query_one(RanksPane)
        ranks.display = poll.world_size > 1
        if ranks.display:
            ranks.show(poll)
        self.query_one(QualityPane).show(poll)
        self.query_one(EventsPane).show(poll.events)
        self._show_samples()
        self._show_failure(poll)

    def _update_plots(self) -> None:
        if self.poll is None or self.poll.metrics.version == self._plotted_version:
            return
        self._plotted_version = self.poll.metrics.version
        self.query_one("#losses", MetricPlot).show(self.poll.metrics)
        self.query_one("#d-outputs", MetricPlot).show(self.poll.metrics)

    def _show_failure(self, poll: RunPoll) -> None:
        banner = self.query_one("#banner", Static)
        if poll.connection:  # a remote run's host does not answer: what is shown is as of then
            banner.set_class(True, "-alarm")
            banner.update(poll.connection)
            banner.display = True
            return
        alarms = poll.status.get("alarms") if poll.is_live else None
        banner.set_class(poll.state not in FAILED_STATES, "-alarm")
        if poll.state not in FAILED_STATES:
            banner.display = bool(alarms)  # the trainer's active alarms (D winning, mode collapse, …)
            if alarms:
                more = f" (+{len(alarms) - 1} more)" if len(alarms) > 1 else ""
                banner.update(f"alarm: {alarms[-1]}{more}")
                self._tell_alarms(alarms)
            return
        if poll.state is RunState.LOST:
            text = "no heartbeat from this run for a minute: its process may be gone (it can be resumed)"
        else:
            text = poll.status.get("message") or poll.failure or f"the run {poll.state}"
            if poll.failed_rank is not None:  # a run of several processes: which one failed
                text = f"rank {poll.failed_rank}: {text}"
        banner.update(f"{poll.state}: {text}")
        banner.display = True
        if not self._notified_failure and poll.state is not RunState.LOST:
            self._notified_failure = True
            self.notify(str(text), title=f"Run {poll.state}", severity="error", timeout=15)

    def _tell_alarms(self, alarms: list) -> None:
        """Each alarm once (its message names its step): the terminal bell, unless quiet, and a notification."""
        for alarm in map(str, alarms):
            if alarm in self._alarms_told:
                continue
            self._alarms_told.add(alarm)
            if not self.quiet:
                self.app.bell()
            self.notify(alarm, title="Alarm", severity="warning", timeout=12)

    # ---- samples ----------------------------------------------------------------------------------------
    def _show_samples(self) -> None:
        poll = self.poll
        if poll is None:
            return
        steps = poll.sample_steps
        if self.sample_step is not None and self.sample_step not in steps:
            self.sample_step = None
        step = self.sample_step
        picture = place_of(self.path).picture(self.path, step, wait=False)  # a remote one: fetched meanwhile
        key = (step, poll.samples_stamp if step is None else 0, self.graphics, picture)
        if key == self._shown_sample:
            return
        self._shown_sample = key
        view = self.query_one(SampleView)
        view.expect_samples(poll.config)
        view.show_file(picture)
        view.set_dataset(str(poll.config.get("dataset", "")))
        shown = step if step is not None else (steps[-1] if steps else None)
        position = f" ({steps.index(shown) + 1} of {len(steps)})" if shown in steps else ""
        follow = "latest" if step is None else "pinned"
        view.border_title = f"Samples · step {count(shown)}{position}" if shown is not None else "Samples"
        view.set_caption(f"{follow} · , . step · z zoom")

    def all_sample_steps(self) -> tuple[int, ...]:
        return self.poll.sample_steps if self.poll is not None else ()

    def action_zoom(self) -> None:
        self.query_one(SampleView).cycle_zoom()

    def action_full_screen(self) -> None:
        def returned(step: int | None) -> None:  # the snapshot stepped to there stays shown here
            self.sample_step = step
            self._show_samples()

        view = self.query_one(SampleView)
        self.app.push_screen(SamplesScreen(self.path, graphics=self.graphics, sample_step=self.sample_step,
                                           zoom=view.zoom, expected_count=view.expected_count), returned)

    async def action_cycle_graphics(self) -> None:
        self.graphics = next_mode(self.graphics, self.app.graphics_modes)  # type: ignore[attr-defined]
        self.app.graphics = self.graphics  # type: ignore[attr-defined]
        await self.query_one(SampleView).set_mode(self.graphics)
        self._shown_sample = None
        self._show_samples()
        self.notify(f"graphics: {self.graphics}", timeout=2)

    # ---- plot views -------------------------------------------------------------------------------------
    def _set_view(self, view: PlotView) -> None:
        self.view = view
        self.app.ema = view.ema  # type: ignore[attr-defined]
        for plot in self.query(MetricPlot):
            plot.set_view(view)

    def lead_plot(self) -> MetricPlot:
        return self.query_one("#losses", MetricPlot)

    def action_cycle_ema(self) -> None:
        self._set_view(self.view.next_ema())

    def action_toggle_log(self) -> None:
        self._set_view(self.view.toggled_log())

    def action_cycle_window(self) -> None:
        self._set_view(self.view.next_window())

    def action_toggle_compact(self) -> None:
        self.compact_chosen = not self.has_class("compact")
        self._apply_layout()

    # ---- controls ---------------------------------------------------------------------------------------
    def _command(self, name: str, done: str) -> None:
        state = self.poll.state if self.poll else RunState.STARTING
        if state not in LIVE_STATES:
            self.notify(f"the run is {state}: nothing to {name}", severity="warning")
            return
        if place_of(self.path).host is not None:  # over ssh: never on the event loop
            self._send_command(name, done)
            return
        try:
            self.handle.command(name)
        except OSError as error:
            self.notify(f"cannot {name}: {error}", severity="error")
            return
        self.notify(done, timeout=3)
        self.poll_now()

    @work(thread=True, group="command", exit_on_error=False)
    def _send_command(self, name: str, done: str) -> None:
        try:
            self.handle.command(name)
        except OSError as error:
            self.app.call_from_thread(self.notify, f"cannot {name}: {error}", severity="error")
            return
        self.app.call_from_thread(self.notify, done, timeout=3)
        self.poll_now()

    def action_pause_resume(self) -> None:
        if self.poll is not None and self.poll.state is RunState.PAUSED:
            self._command("resume", "resuming")
        else:
            self._command("pause", "pausing after this step")

    def action_stop(self) -> None:
        state = self.poll.state if self.poll else RunState.STARTING
        if state not in LIVE_STATES:
            self.notify(f"the run is {state}: nothing to stop", severity="warning")
            return

        def answered(choice: str | None) -> None:
            if choice == "stop":
                self._command("stop", "stopping: writing a final checkpoint")

        self.app.push_screen(ChoiceScreen(f"Stop {self.path.name}? A final checkpoint is written; "
                                          "`gantui resume` can continue it.",
                                          [("y", "Stop", "stop"), ("n", "Keep training", "keep")]), answered)

    def action_snapshot(self) -> None:
        self._command("snapshot", "sample snapshot requested")

    def action_show_path(self) -> None:
        place = place_of(self.path)  # a remote run: where it is on its host, as scp would name it
        path = f"{place.label.rstrip('/')}/{self.path.name}" if place.host else str(self.path.resolve())
        self.app.copy_to_clipboard(path)
        self.notify(path, title="Run folder (copied)", timeout=10)

    def action_help(self) -> None:
        lines = key_lines(self.BINDINGS, self.ACTION_HELP, skip=("back",))
        lines.append(("escape", "back to the launcher") if self.can_go_back else ("ctrl+p", "command palette"))
        self.app.push_screen(HelpScreen("Dashboard keys", lines, HELP_NOTES))

    def action_back(self) -> None:
        if self.can_go_back:
            self.dismiss()

    def on_screen_resume(self) -> None:  # the smoothing may have changed on the compare screen meanwhile
        ema = getattr(self.app, "ema", None)
        if ema != self.view.ema:
            self._set_view(replace(self.view, ema=ema))

    def action_save_grid(self) -> None:
        """Copy the grid on screen to exports/ (pixels as written by the trainer) and say where."""
        shown = place_of(self.path).picture(self.path, self.sample_step)
        if shown is None or shown.suffix != ".png":
            self.notify("no sample grid to save yet" if shown is None else "toy samples are a chart, not a grid",
                        severity="warning")
            return
        steps = self.all_sample_steps()
        step = self.sample_step if self.sample_step is not None else (steps[-1] if steps else 0)
        out = place_of(self.path).exports(self.path) / RunLayout(self.path).exported_grid(step).name
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(shown.read_bytes())
        except OSError as error:
            self.notify(f"cannot save the grid: {error}", severity="error")
            return
        self.notify(str(out.resolve()), title="Sample grid saved", timeout=10)

    def action_explore(self) -> None:
        if not RunLayout(self.path).last_checkpoint.is_file():
            self.notify("no checkpoint yet: the explorer needs the generator's weights", severity="warning")
            return
        self.app.open_explorer(self.path)  # type: ignore[attr-defined]

    async def action_quit_app(self) -> None:
        await self.app.action_quit()

