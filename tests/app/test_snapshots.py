"""SVG snapshots of the launcher and of the dashboard on fixed, finished runs, at 80×24 and 160×48.

Baselines live in tests/app/__snapshots__; regenerate with `pytest tests/app --snapshot-update` after a
deliberate change, and look at the report before committing them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gantui.app.app import GanApp
from gantui.app.screens.dashboard import DashboardScreen
from gantui.app.screens.launcher import LauncherScreen

SIZES = [(80, 24), (160, 48)]


def _dashboard_app(runs_dir: Path, run: Path) -> GanApp:
    return GanApp([runs_dir], watch=run, graphics="ascii", poll_interval=0.05, probe_host=False)


async def _dashboard_ready(pilot) -> None:
    screen = pilot.app.screen
    while not (isinstance(screen, DashboardScreen) and screen.poll is not None and screen.poll.sample_steps):
        await pilot.pause(0.05)
        screen = pilot.app.screen
    await pilot.pause(0.1)


async def _launcher_ready(pilot) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, LauncherScreen)
    while screen.preview is None or screen.arch is None:
        await pilot.pause(0.05)
    await pilot.pause(0.1)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_dashboard_snapshot(snap_compare, runs_dir: Path, image_run: Path, size: tuple[int, int]) -> None:
    assert snap_compare(_dashboard_app(runs_dir, image_run), terminal_size=size, run_before=_dashboard_ready)


def test_dashboard_toy_snapshot(snap_compare, runs_dir: Path, pattern_run: Path) -> None:
    """The 1010 pattern's samples as a chart; EMA, log scale and an earlier snapshot chosen by keys."""
    assert snap_compare(_dashboard_app(runs_dir, pattern_run), terminal_size=(120, 36),
                        run_before=_dashboard_ready, press=["e", "l", "comma"])


def test_dashboard_quality_snapshot(snap_compare, runs_dir: Path, eval_run: Path) -> None:
    """A run with eval.csv: the quality pane's FID trend, coverage, class bars and equilibrium gauge."""
    assert snap_compare(_dashboard_app(runs_dir, eval_run), terminal_size=(160, 48), run_before=_dashboard_ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_launcher_snapshot(snap_compare, runs_dir: Path, size: tuple[int, int]) -> None:
    app = GanApp([runs_dir], graphics="ascii", train_mode="thread", probe_host=False)
    assert snap_compare(app, terminal_size=size, run_before=_launcher_ready)
