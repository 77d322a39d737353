"""The dashboard on fixture runs and on an in-process run: keys, failures, the command palette."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gantui.app.app import GanApp
from gantui.app.screens.choice import ChoiceScreen
from gantui.app.screens.dashboard import EQUILIBRIUM, DashboardScreen
from gantui.app.screens.help import HelpScreen
from gantui.app.widgets.metric_plot import MetricPlot
from gantui.app.widgets.run_title import RunTitle
from gantui.app.widgets.sample_view import SampleView
from gantui.engine.config import resolve_config
from gantui.engine.run.history import MetricsHistory
from gantui.engine.run.reader import read_json


def _app(runs_dir: Path, run: Path) -> GanApp:
    return GanApp([runs_dir], watch=run, graphics="ascii", poll_interval=0.05, probe_host=False)


async def _ready(pilot, wait_until) -> DashboardScreen:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, DashboardScreen)
                     and pilot.app.screen.poll is not None, what="the first poll")
    return pilot.app.screen


def _told(app: GanApp, words: str) -> bool:
    """A notification says `words`: a key that changes nothing else was handled."""
    return any(words in str(notification.message) for notification in app._notifications)


async def test_view_keys(runs_dir: Path, image_run: Path, wait_until) -> None:
    async with _app(runs_dir, image_run).run_test(size=(120, 40)) as pilot:
        screen = await _ready(pilot, wait_until)
        losses = screen.query_one("#losses", MetricPlot)
        assert losses.reference is not None and losses.reference[1] == "ln 2"
        await pilot.press("e")
        assert screen.view.ema == 0.9 and "EMA 0.9" in str(losses.border_subtitle)
        await pilot.press("e", "l", "w")
        assert screen.view.ema == 0.99 and screen.view.log_y and screen.view.last_steps == 1000
        await pilot.press("v")
        assert screen.has_class("compact")
        await pilot.press("v")
        assert not screen.has_class("compact")
        samples = screen.query_one(SampleView)
        assert "step 600" in str(samples.border_title)
        await pilot.press("comma", "comma")
        assert screen.sample_step == 200 and "step 200 (2 of 4)" in str(samples.border_title)
        await pilot.press("full_stop", "full_stop")
        assert screen.sample_step is None and "step 600" in str(samples.border_title)
        await pilot.press("o")
        assert pilot.app.clipboard == str(image_run.resolve())
        await pilot.press("question_mark")
        assert isinstance(pilot.app.screen, HelpScreen)
        await pilot.press("escape")
        assert pilot.app.screen is screen
        await pilot.press("p")  # a finished run: nothing to pause, says so
        await wait_until(pilot, lambda: _told(pilot.app, "the run is finished: nothing to pause"),
                         what="'nothing to pause'")
        assert screen.poll.state == "finished"


async def test_every_key_is_in_the_command_palette(runs_dir: Path, image_run: Path, wait_until) -> None:
    async with _app(runs_dir, image_run).run_test(size=(120, 40)) as pilot:
        screen = await _ready(pilot, wait_until)
        titles = {command.title for command in pilot.app.get_system_commands(screen)}
        for binding in DashboardScreen.BINDINGS:
            if binding.show:
                assert any(title.startswith(binding.description) for title in titles), binding.description


async def test_a_failed_run_shows_its_message(runs_dir: Path, image_run: Path, wait_until) -> None:
    status = json.loads((image_run / "status.json").read_text())
    status.update(state="failed", message="out of memory at step 420: try a smaller --batch-size")
    (image_run / "status.json").write_text(json.dumps(status))
    app = _app(runs_dir, image_run)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _ready(pilot, wait_until)
        banner = screen.query_one("#banner")
        assert banner.display and "out of memory at step 420" in str(banner.render())
        await wait_until(pilot, lambda: any("out of memory" in str(n.message) for n in app._notifications),
                         what="the failure's notification")
        await pilot.press("e")  # the app keeps running
        assert screen.view.ema == 0.9


def test_equilibrium_lines_match_the_engine() -> None:
    from gantui.engine.losses import LOSSES, equilibrium

    for loss in LOSSES:
        line, _label, d_prob, loss_g = EQUILIBRIUM[loss]
        expected = equilibrium(loss)
        assert line == pytest.approx(expected["loss_d"]) and d_prob == expected["d_prob"]
        assert loss_g == (None if expected["loss_g"] is None else pytest.approx(expected["loss_g"]))


async def test_a_million_points_are_rasterised_to_the_pane(runs_dir: Path, image_run: Path, wait_until) -> None:
    import numpy as np

    history = MetricsHistory()
    steps = np.arange(1_000_000, dtype=float)
    noise = np.random.default_rng(0).normal(size=steps.size)
    loss_d = 0.7 + 0.01 * noise
    loss_d[400_000] = 5.0  # one spike among a million rows must still show
    history.extend({"step": steps, "loss_d": loss_d, "loss_g": 0.7 - 0.01 * noise,
                    "d_real": steps * 0 + 0.5, "d_fake": steps * 0 + 0.5})
    async with _app(runs_dir, image_run).run_test(size=(160, 48)) as pilot:
        screen = await _ready(pilot, wait_until)
        plot = screen.query_one("#losses", MetricPlot)
        plot.show(history.frame())
        await pilot.pause()
        assert plot.frame.count == 1_000_000
        assert 0 < plot.cells_drawn <= 2 * plot.size.width * plot.size.height  # at most a cell per series
        top = max(next(layer for layer in plot._chart.layers if layer.colour == plot.colours().curve(0)).ys)
        assert plot._chart.ylim[1] > 5.0 and top > 4.0  # the spike reaches the top of D's layer
        await pilot.press("w")  # the last 1,000 steps: a window of raw rows, still drawn, without the spike
        assert plot.cells_drawn > 0 and plot._chart.ylim[1] < 1.0


def _training_app(runs_dir: Path, dataset: str, arch: str, sample_every: int) -> tuple[GanApp, object]:
    """An app that trains in its own process (thread mode), and a long run's configuration for it."""
    config = resolve_config(dataset, arch, steps=1_000_000, log_every=5, sample_every=sample_every,
                            runs_dir=str(runs_dir), device="cpu")
    return GanApp([runs_dir], graphics="ascii", train_mode="thread", poll_interval=0.1, probe_host=False), config


async def test_keys_are_handled_while_a_run_trains_in_process(runs_dir: Path, wait_until, press) -> None:
    app, config = _training_app(runs_dir, "mnist", "mlp", sample_every=50)
    async with app.run_test(size=(120, 40)) as pilot:
        handle = app.start_run(config)
        screen = await _ready(pilot, wait_until)
        await wait_until(pilot, lambda: screen.poll.state == "running" and screen.poll.metrics.count > 1,
                         what="training to run")
        await press(pilot, "e")
        await wait_until(pilot, lambda: screen.view.ema == 0.9, timeout=5, what="the EMA key to be handled")
        await press(pilot, "question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), timeout=5, what="the help screen")
        await press(pilot, "escape")
        await wait_until(pilot, lambda: app.screen is screen, timeout=5, what="help to close")
        assert handle.thread.is_alive()
        rows = screen.poll.metrics.count
        await wait_until(pilot, lambda: screen.poll.metrics.count > rows, what="the plots to keep updating")
        await press(pilot, "q")  # quitting with a live in-process run asks first
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen), what="the quit question")
        await press(pilot, "s")
        await wait_until(pilot, lambda: not handle.thread.is_alive(), what="the run to stop")
    assert handle.final_state == "stopped"


async def test_p_pauses_and_resumes_a_live_run(runs_dir: Path, wait_until, press) -> None:
    app, config = _training_app(runs_dir, "pattern1010", "pattern-mlp", sample_every=1000)
    async with app.run_test(size=(120, 40)) as pilot:
        handle = app.start_run(config)
        screen = await _ready(pilot, wait_until)
        title = screen.query_one(RunTitle)

        def state() -> str | None:
            return read_json(handle.path / "status.json").get("state")

        def titled(word: str) -> bool:
            return f" ─ {word} ─ " in title.render().plain

        await wait_until(pilot, lambda: state() == "running" and titled("running"), what="the run to train")
        await press(pilot, "p")
        await wait_until(pilot, lambda: state() == "paused", what="status.json to say paused")
        await wait_until(pilot, lambda: titled("paused"), what="the title to say paused")
        await press(pilot, "p")
        await wait_until(pilot, lambda: state() == "running", what="status.json to say running again")
        await wait_until(pilot, lambda: titled("running"), what="the title to say running again")
        await press(pilot, "s")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen), what="the stop question")
        await press(pilot, "y")
        await wait_until(pilot, lambda: state() == "stopped", what="status.json to say stopped")
        await wait_until(pilot, lambda: not handle.thread.is_alive(), what="the training thread to end")
    assert handle.final_state == "stopped"


async def test_active_alarms_show_in_a_banner(runs_dir: Path, image_run: Path, wait_until) -> None:
    import socket
    import time

    status = json.loads((image_run / "status.json").read_text())
    status.update(state="running", host=socket.gethostname(), pid=None, heartbeat=time.time() + 3600,
                  alarms=["D(x) above 0.95 for 200 steps: the discriminator wins"])
    (image_run / "status.json").write_text(json.dumps(status))
    async with _app(runs_dir, image_run).run_test(size=(100, 30)) as pilot:
        screen = await _ready(pilot, wait_until)
        banner = screen.query_one("#banner")
        assert banner.display and banner.has_class("-alarm")
        assert "the discriminator wins" in str(banner.render())


def _metrics_row(run: Path, step: float) -> dict[str, str]:
    import csv

    with open(run / "metrics.csv", newline="") as handle:
        return next(row for row in csv.DictReader(handle) if float(row["step"]) == step)


async def test_zoom_pan_and_inspect_by_keys(runs_dir: Path, image_run: Path, wait_until) -> None:
    from gantui.app.format import duration, number

    async with _app(runs_dir, image_run).run_test(size=(120, 40)) as pilot:
        screen = await _ready(pilot, wait_until)
        losses, d_outputs = screen.query_one("#losses", MetricPlot), screen.query_one("#d-outputs", MetricPlot)
        await wait_until(pilot, lambda: losses.cells_drawn > 0, what="the losses drawn")
        assert losses.shown_range() == (10.0, 600.0)
        await pilot.press("i")
        cursor = screen.view.cursor
        assert cursor is not None and losses._chart.layers[0].markers[0] == "│"
        for _ in range(3):
            await pilot.press("right")
        assert screen.view.cursor > cursor and screen.view.cursor % 10 == 0  # on rows of data
        row = _metrics_row(image_run, screen.view.cursor)
        readout = str(losses.border_subtitle)
        assert f"step {int(screen.view.cursor):,}" in readout and f"epoch {int(float(row['epoch']))}" in readout
        assert duration(float(row["time"])) in readout
        assert f"D {number(float(row['loss_d']))}" in readout and f"G {number(float(row['loss_g']))}" in readout
        assert f"D(x) {number(float(row['d_real']))}" in str(d_outputs.border_subtitle)
        await pilot.press("plus", "plus")
        low, high = screen.view.span
        assert high - low == pytest.approx(590 / 4) and low <= screen.view.cursor <= high
        assert losses.shown_range() == (low, high) == d_outputs.shown_range()
        await pilot.press("right_square_bracket")
        assert screen.view.span[0] > low
        await pilot.press("minus")
        assert screen.view.span[1] - screen.view.span[0] == pytest.approx(590 / 2)
        await pilot.press("0")
        assert screen.view.span is None and losses.shown_range() == (10.0, 600.0)
        await pilot.press("i")
        assert screen.view.cursor is None and "raw" in str(losses.border_subtitle)
        await pilot.press("question_mark")
        help_text = " ".join(str(line) for line in pilot.app.screen.lines)
        assert "inspect cursor" in help_text and "zoom" in help_text


@pytest.mark.parametrize("size", [(40, 12), (60, 20), (80, 24)], ids=lambda size: f"{size[0]}x{size[1]}")
async def test_small_terminals_say_so_and_keep_state_and_step(runs_dir: Path, image_run: Path, wait_until,
                                                              size) -> None:
    from gantui.app.widgets.too_small import TooSmall

    async with _app(runs_dir, image_run).run_test(size=size) as pilot:
        screen = await _ready(pilot, wait_until)
        await pilot.pause()
        too_small = screen.query_one(TooSmall)
        if size == (40, 12):
            assert too_small.display and not screen.query_one("#panes").display
            assert "needs at least 50×16; this terminal is 40×12" in str(too_small.render())
            await pilot.resize_terminal(60, 20)
            await wait_until(pilot, lambda: not too_small.display and screen.query_one("#panes").display,
                             what="the panes back at 60×20")
            return
        title = str(screen.query_one(RunTitle).render())
        assert not too_small.display and "finished" in title and "step 600 / 600" in title
        assert screen.query_one("#losses", MetricPlot).size.width >= 30  # the plots keep room for curves


@pytest.mark.parametrize("no_color", [False, True], ids=["colour", "NO_COLOR"])
async def test_every_curve_stands_apart_and_its_legend_matches(runs_dir: Path, image_run: Path, wait_until,
                                                               monkeypatch, no_color: bool) -> None:
    """Under NO_COLOR (greys by luminance) and in 16 colours (TERM=xterm): each curve its own, none near the
    background, and each legend entry the colour of its curve."""
    from rich.color import Color as RichColor
    from rich.color import ColorSystem
    from textual.color import Color

    from gantui.app.palette import markup

    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    async with _app(runs_dir, image_run).run_test(size=(120, 40)) as pilot:
        screen = await _ready(pilot, wait_until)
        for plot in screen.query(MetricPlot):
            await wait_until(pilot, lambda plot=plot: plot.cells_drawn > 0, what="the plot drawn")
            background = Color.parse(pilot.app.theme_variables["surface"])
            layers = plot._chart.layers
            curves = [layer.colour for layer in layers[-len(plot.series):]]
            drawn = curves + [layers[0].colour]  # and the reference line
            grey = [Color(*colour).brightness for colour in drawn]
            assert min(abs(g - background.brightness) for g in grey) > 0.15, (plot.id, drawn)
            assert min(abs(a - b) for i, a in enumerate(grey) for b in grey[i + 1:]) > 0.1, (plot.id, drawn)
            xterm = [RichColor.from_rgb(*colour).downgrade(ColorSystem.STANDARD).number for colour in drawn]
            assert len(set(xterm)) == len(xterm) or no_color, (plot.id, xterm)
            for colour in curves + [layers[0].colour]:
                assert f"[{markup(colour)}]━" in str(plot.border_title)


def _set_live_alarms(run: Path, alarms: list[str]) -> None:
    import os
    import socket
    import time

    status = json.loads((run / "status.json").read_text())
    status.update(state="running", heartbeat=time.time() + 3600, pid=os.getpid(), host=socket.gethostname(),
                  alarms=alarms)
    (run / "status.json").write_text(json.dumps(status))


@pytest.mark.parametrize("quiet", [False, True], ids=["bell", "quiet"])
async def test_an_alarm_rings_and_notifies_once(runs_dir: Path, image_run: Path, wait_until, monkeypatch,
                                                quiet: bool) -> None:
    first = "discriminator wins at step 300: D loss 0.01. Try a lower D learning rate"
    _set_live_alarms(image_run, [first])
    app = GanApp([runs_dir], watch=image_run, graphics="ascii", poll_interval=0.05, probe_host=False, quiet=quiet)
    rings: list[int] = []
    monkeypatch.setattr(app, "bell", lambda: rings.append(1))

    def told() -> list[str]:
        return [str(n.message) for n in app._notifications if n.title == "Alarm"]

    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _ready(pilot, wait_until)
        await wait_until(pilot, lambda: told() == [first], what="the alarm's notification")
        polls = screen.polls_seen
        _set_live_alarms(image_run, [first])  # a new heartbeat, the same alarm
        await wait_until(pilot, lambda: screen.polls_seen > polls, what="another poll")
        assert told() == [first] and len(rings) == (0 if quiet else 1)  # once, however many polls see it
        second = "divergence at step 400: gradient norm 1e+07. Try a lower learning rate"
        _set_live_alarms(image_run, [first, second])
        await wait_until(pilot, lambda: told() == [first, second], what="the second alarm")
        assert len(rings) == (0 if quiet else 2)


def test_quiet_from_the_flag_or_the_environment(monkeypatch) -> None:
    from gantui.cli import parse_args

    monkeypatch.delenv("GANTUI_QUIET", raising=False)
    assert not parse_args(["watch"]).quiet and parse_args(["watch", "--quiet"]).quiet
    assert parse_args(["--quiet", "watch"]).quiet and parse_args(["--quiet"]).quiet
    monkeypatch.setenv("GANTUI_QUIET", "1")
    assert parse_args(["compare", "A", "B"]).quiet
    monkeypatch.setenv("GANTUI_QUIET", "0")
    assert not parse_args([]).quiet


async def test_a_light_theme_recolours_curves_and_legends(runs_dir: Path, image_run: Path, wait_until) -> None:
    from gantui.app.palette import ON_LIGHT, markup

    async with _app(runs_dir, image_run).run_test(size=(120, 40)) as pilot:
        screen = await _ready(pilot, wait_until)
        losses = screen.query_one("#losses", MetricPlot)
        pilot.app.theme = "textual-light"
        await wait_until(pilot, lambda: losses._chart is not None and losses._chart.layers[-1].colour == ON_LIGHT[1],
                         what="the curves in the light palette")
        assert f"[{markup(ON_LIGHT[0])}]━" in str(losses.border_title)
