"""Keys only: pick data and architecture on the launcher, start in-process runs, watch them grow, pause,
resume and stop them."""

from __future__ import annotations

from pathlib import Path

from gantui.app.app import GanApp
from gantui.app.screens.choice import ChoiceScreen
from gantui.app.screens.dashboard import DashboardScreen
from gantui.app.screens.launcher import LauncherScreen
from gantui.app.widgets.metric_plot import MetricPlot
from gantui.engine.run.reader import read_json


async def _tab_to(pilot, screen: LauncherScreen, field: str) -> None:
    """Press tab until `field` has focus."""
    for _ in range(40):
        if screen.focused is not None and screen.focused.id == field:
            return
        await pilot.press("tab")
    raise AssertionError(f"could not tab to {field}")


async def _fill(pilot, screen: LauncherScreen, field: str, text: str) -> None:
    """Tab to the input `field` and replace its text by typing."""
    await _tab_to(pilot, screen, field)
    await pilot.press("home", "ctrl+k", *text)
    assert screen.focused.value == text  # type: ignore[union-attr]


async def _configure(pilot, screen: LauncherScreen, steps: str, log_every: str | None = None,
                     sample_every: str | None = None) -> None:
    await _tab_to(pilot, screen, "length_kind")
    await pilot.press("enter", "down", "enter")
    assert screen.query_one("#length_kind").value == "steps"  # type: ignore[attr-defined]
    await _fill(pilot, screen, "length", steps)
    if log_every is not None:
        await _fill(pilot, screen, "log_every", log_every)
    if sample_every is not None:
        await _fill(pilot, screen, "sample_every", sample_every)


async def _launch(pilot, wait_until, dataset: str) -> LauncherScreen:
    """Wait for the menus, choose `dataset` (focus starts on its menu: enter, type, enter), go to the
    architecture list."""
    screen = pilot.app.screen
    assert isinstance(screen, LauncherScreen)
    await wait_until(pilot, lambda: screen.catalog is not None, what="the catalog")
    await pilot.press("enter", *dataset, "enter")
    await wait_until(pilot, lambda: screen.preview is not None and screen.preview.dataset == dataset,
                     what=f"the {dataset} preview")
    await _tab_to(pilot, screen, "arch")
    return screen


async def _watch_grow_pause_stop(press, pilot, wait_until) -> DashboardScreen:
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen), what="the dashboard")
    dashboard = app.screen
    assert isinstance(dashboard, DashboardScreen)
    losses = dashboard.query_one("#losses", MetricPlot)
    await wait_until(pilot, lambda: dashboard.poll is not None and dashboard.poll.metrics.count >= 2,
                     what="two metric rows")
    first_rows, first_step = dashboard.poll.metrics.count, dashboard.poll.step
    await wait_until(pilot, lambda: dashboard.poll.metrics.count > first_rows + 2, what="more metric rows")
    assert dashboard.poll.step > first_step
    await wait_until(pilot, lambda: losses.frame.count > first_rows, what="the plot to take the new rows")
    assert losses.cells_drawn > 0
    await press(pilot, "p")
    await wait_until(pilot, lambda: dashboard.poll.state == "paused", what="the run to pause")
    paused_at = dashboard.poll.step
    await pilot.pause(0.3)  # on purpose a fixed time: what must not happen (the step moving) has no event to wait for
    assert read_json(dashboard.path / "status.json")["step"] == paused_at
    await press(pilot, "p")
    await wait_until(pilot, lambda: dashboard.poll.state != "paused", what="the run to resume")
    await press(pilot, "s")
    await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen), what="the stop question")
    await press(pilot, "y")
    await wait_until(pilot, lambda: dashboard.poll.state in ("stopped", "finished"), what="the run to stop")
    assert read_json(dashboard.path / "status.json")["state"] in ("stopped", "finished")
    assert (dashboard.path / "checkpoints" / "last.pt").is_file()
    return dashboard


async def test_pattern_run_from_keys(runs_dir: Path, wait_until, press) -> None:
    app = GanApp([runs_dir], graphics="ascii", train_mode="thread", poll_interval=0.1, probe_host=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _launch(pilot, wait_until, "pattern1010")
        assert screen.arch == "pattern-mlp"
        await _configure(pilot, screen, "3000", "5", "50")
        await press(pilot, "f5")
        dashboard = await _watch_grow_pause_stop(press, pilot, wait_until)
        assert dashboard.path.name.endswith("pattern1010-pattern-mlp")


async def test_mnist_mlp_run_from_keys(runs_dir: Path, wait_until, press) -> None:
    app = GanApp([runs_dir], graphics="ascii", train_mode="thread", poll_interval=0.1, probe_host=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _launch(pilot, wait_until, "mnist")
        await pilot.press("down")  # from the first usable architecture (mlp) to the next one and back
        assert screen.arch == "dcgan28"
        await pilot.press("up")
        assert screen.arch == "mlp"
        await _configure(pilot, screen, "300")  # logged every 10 steps, the tutorial's default
        await _tab_to(pilot, screen, "start")
        await press(pilot, "enter")
        dashboard = await _watch_grow_pause_stop(press, pilot, wait_until)
        assert dashboard.path.name.endswith("mnist-mlp")
        assert dashboard.poll.sample_steps  # image grids arrived


async def test_mnist_dcgan64_from_keys_trains_at_the_size_it_needs(runs_dir: Path, wait_until, press) -> None:
    """The pair the launcher once offered and the engine refused: offered, resized to 64×64, and it trains."""
    app = GanApp([runs_dir], graphics="ascii", train_mode="thread", poll_interval=0.1, probe_host=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _launch(pilot, wait_until, "mnist")
        await pilot.press("down", "down", "down")  # mlp → dcgan28 → conv → dcgan64
        assert screen.arch == "dcgan64"
        assert screen.query_one("#image_size").placeholder == "auto: 64×64"
        await _fill(pilot, screen, "batch_size", "4")
        await _configure(pilot, screen, "4", log_every="1")
        await press(pilot, "f5")
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen), what="the dashboard")
        dashboard = app.screen
        await wait_until(pilot, lambda: dashboard.poll is not None and dashboard.poll.state == "finished",
                         timeout=120, what="the dcgan64 run to finish")
        config = read_json(dashboard.path / "config.json")
        assert (config["arch"], config["dataset"], config["image_size"]) == ("dcgan64", "mnist", 64)
        assert dashboard.poll.metrics.count == 4
