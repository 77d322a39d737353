"""SVG snapshots of the launcher and of the dashboard on fixed, finished runs, at 80×24 and 160×48.

Baselines live in tests/app/__snapshots__; regenerate with `pytest tests/app --snapshot-update` after a
deliberate change, and look at the report before committing them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from waiting import screen_settled, wait_until

from gantui.app.app import GanApp
from gantui.app.screens.dashboard import DashboardScreen
from gantui.app.screens.launcher import LauncherScreen
from gantui.app.screens.samples import SamplesScreen
from gantui.app.widgets.sample_view import SampleView

SIZES = [(80, 24), (160, 48)]


def _dashboard_app(runs_dir: Path, run: Path) -> GanApp:
    return GanApp([runs_dir], watch=run, graphics="ascii", poll_interval=0.05, probe_host=False)


def _dashboard_loaded(pilot) -> bool:
    screen = pilot.app.screen
    return isinstance(screen, DashboardScreen) and screen.poll is not None and bool(screen.poll.sample_steps)


async def _dashboard_ready(pilot) -> None:
    await wait_until(pilot, screen_settled(pilot, lambda: _dashboard_loaded(pilot)),
                     what="the dashboard's run loaded and drawn")


async def _toy_dashboard_ready(pilot) -> None:
    """EMA, log scale and the earlier snapshot, chosen by keys once the run is loaded."""
    await wait_until(pilot, lambda: _dashboard_loaded(pilot), what="the dashboard's run loaded")
    screen = pilot.app.screen
    earlier = screen.all_sample_steps()[-2]
    await pilot.press("e", "l", "comma")
    await wait_until(pilot, screen_settled(pilot, lambda: screen.view.ema == 0.9 and screen.view.log_y
                                           and screen.sample_step == earlier),
                     what="EMA 0.9, log scale and the earlier snapshot drawn")


async def _launcher_ready(pilot) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, LauncherScreen)
    await wait_until(pilot, screen_settled(pilot, lambda: screen.preview is not None and screen.arch is not None),
                     what="the launcher's data preview and architecture drawn")


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_dashboard_snapshot(snap_compare, runs_dir: Path, image_run: Path, size: tuple[int, int]) -> None:
    assert snap_compare(_dashboard_app(runs_dir, image_run), terminal_size=size, run_before=_dashboard_ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_dashboard_halfcell_snapshot(snap_compare, runs_dir: Path, image_run: Path, size: tuple[int, int]) -> None:
    """Half-cell samples large enough to read: fewer of them, cut from the grid (the pane says how many)."""
    app = GanApp([runs_dir], watch=image_run, graphics="halfcell", poll_interval=0.05, probe_host=False)
    assert snap_compare(app, terminal_size=size, run_before=_dashboard_ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_full_screen_samples_snapshot(snap_compare, runs_dir: Path, image_run: Path, size: tuple[int, int]) -> None:
    """`Z`: the samples full-screen in half-cell blocks, as many as stay readable."""
    app = GanApp([runs_dir], watch=image_run, graphics="halfcell", poll_interval=0.05, probe_host=False)

    async def full_screen(pilot) -> None:
        await wait_until(pilot, lambda: _dashboard_loaded(pilot), what="the dashboard's run loaded")
        await pilot.press("Z")
        await wait_until(pilot, screen_settled(pilot, lambda: isinstance(pilot.app.screen, SamplesScreen)
                                               and pilot.app.screen.query_one(SampleView).fit is not None),
                         what="the full-screen samples drawn")

    assert snap_compare(app, terminal_size=size, run_before=full_screen)


def test_dashboard_toy_snapshot(snap_compare, runs_dir: Path, pattern_run: Path) -> None:
    """The 1010 pattern's samples as a chart; EMA, log scale and an earlier snapshot chosen by keys."""
    assert snap_compare(_dashboard_app(runs_dir, pattern_run), terminal_size=(120, 36),
                        run_before=_toy_dashboard_ready)


def test_dashboard_quality_snapshot(snap_compare, runs_dir: Path, eval_run: Path) -> None:
    """A run with eval.csv: the quality pane's FID trend, coverage, class bars and equilibrium gauge."""
    assert snap_compare(_dashboard_app(runs_dir, eval_run), terminal_size=(160, 48), run_before=_dashboard_ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_launcher_snapshot(snap_compare, runs_dir: Path, size: tuple[int, int]) -> None:
    app = GanApp([runs_dir], graphics="ascii", train_mode="thread", probe_host=False)
    assert snap_compare(app, terminal_size=size, run_before=_launcher_ready)


def test_dashboard_too_small_snapshot(snap_compare, runs_dir: Path, image_run: Path) -> None:
    """At 40×12 the dashboard says what size it needs instead of drawing collapsed boxes."""
    assert snap_compare(_dashboard_app(runs_dir, image_run), terminal_size=(40, 12), run_before=_dashboard_ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_dashboard_ranks_snapshot(snap_compare, runs_dir: Path, ddp_run: Path, size: tuple[int, int]) -> None:
    """A run of two processes: the title says so and the Ranks pane lists them, the slower one marked."""
    async def ranks_ready(pilot) -> None:
        await wait_until(pilot, screen_settled(pilot, lambda: _dashboard_loaded(pilot)
                                               and len(pilot.app.screen.poll.ranks) == 2),
                         what="the dashboard's run and its two ranks drawn")

    assert snap_compare(_dashboard_app(runs_dir, ddp_run), terminal_size=size, run_before=ranks_ready)
